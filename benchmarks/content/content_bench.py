"""Health-content quality: summary length and lab coverage, plain-language grade, faithfulness.

Documents:
- the project's samples (scripts/make_samples.py), run through the real embedded pipeline
  (`healthchat process --json`), so the numbers are those of the DocumentResults users get;
- real clinical prose: MTS-Dialog note sections of at least 400 characters (CC BY 4.0; Ben Abacha et al.,
  EACL 2023). The training split is dev-side (free to look at); the validation split is held out: only
  its numbers are reported, no failure is ever printed from it.
- Cochrane technical abstracts (Devaraj et al., NAACL 2021; validation split), research prose far
  above grade 8 in the source: a stress test of the plain-language rewrite.

Targets (issue 4): every plain-language text at Flesch-Kincaid grade <= 8 with 0 unsupported numbers or
drugs; summaries <= 120 words covering 100% of the abnormal lab results of the samples.

Run: `.venv/bin/python benchmarks/content/content_bench.py [--write] [--show-dev N]`.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))

from healthchat.adapters.local.extractive_summarizer import MAX_WORDS, ExtractiveSummarizer  # noqa: E402
from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier, reading_grade  # noqa: E402
from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor  # noqa: E402
from healthchat.domain.faithfulness import check_faithfulness  # noqa: E402
from healthchat.domain.labs import interpret_labs  # noqa: E402
from healthchat.domain.models import FaithfulnessReport, PlainLanguage, Summary  # noqa: E402

from pipeline import process_samples  # noqa: E402
from report_block import write_block  # noqa: E402

GRADE_TARGET = 8.0
MIN_CHARS = 400
ABNORMAL = ("low", "high", "abnormal")


@dataclass
class DocScore:
    """What one document's generated content measured."""

    name: str
    summary_words: int
    abnormal: int
    covered: int
    grade: float | None
    source_grade: float | None
    reports: dict[str, FaithfulnessReport] = field(default_factory=dict)

    def unsupported(self, *kinds: str) -> int:
        return sum(1 for r in self.reports.values() for c in r.unsupported if not kinds or c.kind in kinds)


def _covered(summary: Summary, labs: list[dict[str, Any]]) -> tuple[int, int]:
    """(abnormal labs, abnormal labs whose result is cited by a summary source span)."""
    spans = [(s.begin_offset, s.end_offset) for sent in summary.sentences for s in sent.source_spans]
    abnormal = [lab for lab in labs if lab["flag"] in ABNORMAL]
    hit = sum(
        1
        for lab in abnormal
        if lab["value"] in summary.text
        and any(b <= lab["begin_offset"] and lab["end_offset"] <= e for b, e in spans)
    )
    return len(abnormal), hit


def score_result(result: dict[str, Any]) -> DocScore:
    summary = Summary.model_validate(result["summary"])
    plain = PlainLanguage.model_validate(result["plain_language"])
    abnormal, hit = _covered(summary, result["labs"])
    return DocScore(
        name=str(result["source"]["filename"]),
        summary_words=len(summary.text.split()),
        abnormal=abnormal,
        covered=hit,
        grade=plain.reading_grade,
        source_grade=plain.source_reading_grade,
        reports={k: FaithfulnessReport.model_validate(v) for k, v in result.get("faithfulness", {}).items()},
    )


class Engines:
    """The embedded engines, loaded once, applied to raw text the way the Analyze stages do."""

    def __init__(self) -> None:
        self.extractor = LocalMedicalExtractor()
        self.summarizer = ExtractiveSummarizer()
        self.simplifier = GlossarySimplifier()

    def score(self, name: str, text: str) -> DocScore:
        entities = self.extractor.detect_entities(text).entities
        labs = [lab.model_dump() for lab in interpret_labs(text, entities)]
        summary = self.summarizer.summarize(text, entities, labs)
        plain = self.simplifier.simplify(summary, text)
        abnormal, hit = _covered(summary, labs)
        return DocScore(
            name=name,
            summary_words=len(summary.text.split()),
            abnormal=abnormal,
            covered=hit,
            grade=plain.reading_grade,
            source_grade=reading_grade(text),
            reports={
                "summary": check_faithfulness(summary.text, text, entities),
                "plain_language": check_faithfulness(plain.text, text, entities, plain.glossary),
            },
        )


def mts_sections(split: str) -> list[tuple[str, str]]:
    name = "TrainingSet" if split == "dev" else "ValidationSet"
    with (SHARED / "mts_dialog" / f"MTS-Dialog-{name}.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [(f"mts-{r['ID']}", r["section_text"]) for r in rows if len(r["section_text"]) >= MIN_CHARS]


def cochrane(limit: int) -> list[tuple[str, str]]:
    lines = (SHARED / "cochrane_simplification" / "val.source").read_text(encoding="utf-8").splitlines()
    return [(f"cochrane-{i}", line) for i, line in enumerate(lines[:limit]) if line.strip()]


def _round(x: float) -> str:
    return f"{x:.1f}"


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {n / d:.3f}" if d else "-"


def summary_row(label: str, scores: list[DocScore]) -> str:
    grades = [s.grade for s in scores if s.grade is not None]
    sources = [s.source_grade for s in scores if s.source_grade is not None]
    ok = sum(1 for s in scores if s.grade is not None and s.grade <= GRADE_TARGET)
    faithful = sum(1 for s in scores if s.unsupported("number", "drug", "dose") == 0)
    all_claims = sum(1 for s in scores if s.unsupported() == 0)
    abnormal = sum(s.abnormal for s in scores)
    covered = sum(s.covered for s in scores)
    words = [s.summary_words for s in scores]
    return (
        f"| {label} | {len(scores)} | {max(words) if words else '-'} "
        f"({sum(1 for w in words if w <= MAX_WORDS)}/{len(words)} <= {MAX_WORDS}) | "
        f"{_pct(covered, abnormal)} | "
        f"{_round(statistics.median(sources)) if sources else '-'} | "
        f"{_round(statistics.median(grades)) if grades else '-'} / {max(grades) if grades else '-'} | "
        f"{_pct(ok, len(grades))} | {_pct(faithful, len(scores))} | {_pct(all_claims, len(scores))} |"
    )


def dev_failures(scores: list[DocScore], n: int) -> None:
    """Print what failed on dev-side documents (never called for held-out ones)."""
    shown = 0
    for s in scores:
        problems = [f"grade {s.grade}"] if s.grade is not None and s.grade > GRADE_TARGET else []
        problems += [
            f"{k}: {c.kind} '{c.text}' ({c.reason})" for k, r in s.reports.items() for c in r.unsupported
        ]
        if problems and shown < n:
            print(f"[dev] {s.name}: " + "; ".join(problems), file=sys.stderr)
            shown += 1


def report(show_dev: int, cochrane_n: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        _, results = process_samples(Path(tmp))
    samples = [score_result(r) for r in results]
    engines = Engines()
    dev = [engines.score(n, t) for n, t in mts_sections("dev")]
    held = [engines.score(n, t) for n, t in mts_sections("held-out")]
    coch = [engines.score(n, t) for n, t in cochrane(cochrane_n)]
    if show_dev:
        dev_failures(samples + dev, show_dev)
    header = (
        "| documents | n | summary words, max (<= 120) | abnormal labs in summary | source grade, median | "
        "plain grade, median / max | plain grade <= 8 | 0 unsupported numbers, drugs, doses | "
        "0 unsupported claims of any kind |"
    )
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine, Python {sys.version.split()[0]}, engines "
        f"`{engines.summarizer.name}` + `{engines.simplifier.name}`; grades are textstat Flesch-Kincaid.",
        "",
        header,
        "|---|---|---|---|---|---|---|---|---|",
        summary_row("project samples (pipeline DocumentResults)", samples),
        summary_row(f"MTS-Dialog training sections >= {MIN_CHARS} chars (dev-side)", dev),
        summary_row(f"MTS-Dialog validation sections >= {MIN_CHARS} chars (held-out)", held),
        summary_row(f"Cochrane technical abstracts (first {cochrane_n}, validation)", coch),
        "",
        "| sample | summary words | abnormal labs covered | plain grade | source grade | unsupported |",
        "|---|---|---|---|---|---|",
    ]
    for s in sorted(samples, key=lambda x: x.name):
        lines.append(
            f"| {s.name} | {s.summary_words} | {s.covered}/{s.abnormal} | {s.grade} | {s.source_grade} | "
            f"{s.unsupported()} |"
        )
    lines += [
        "",
        "A summary covers an abnormal lab when its value is in the summary text and a source span of the "
        "summary contains the lab's span. Unsupported = claims the faithfulness check "
        "(`healthchat.domain.faithfulness`) could not find in the source document or its entities.",
        "Data: MTS-Dialog (Ben Abacha et al., EACL 2023, CC BY 4.0); Cochrane simplification "
        "(Devaraj et al., NAACL 2021), read from `../shared/data/`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--show-dev", type=int, default=0, metavar="N", help="print N dev-side failures")
    parser.add_argument("--cochrane", type=int, default=100, metavar="N", help="Cochrane abstracts to use")
    args = parser.parse_args()
    start = time.perf_counter()
    text = report(args.show_dev, args.cochrane)
    print(text)
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.write:
        write_block("content-bench", "Health content", text)


if __name__ == "__main__":
    main()
