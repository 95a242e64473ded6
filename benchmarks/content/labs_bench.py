"""Lab-report benchmark: generated reports (lab_reports.py) through the real path, lab tuples scored.

    .venv/bin/python benchmarks/content/labs_bench.py [--write] [--errors]

Each seed's report is rendered as a text-layer PDF and as a 300-dpi scan (PNG); both go through
``extract_text`` (pdfplumber, tesseract for the scan), ``LocalMedicalExtractor.detect_entities`` and
``interpret_labs``, as the ExtractText, ExtractMedical and InterpretLabs stages run them. Predicted labs
pair with gold rows by canonical test name (else by value, in print order) and are scored per field and
as whole tuples (name, value, unit, range, flag). DEV seeds may be debugged (``--errors`` prints their
wrong rows); HELD-OUT seeds are reported in aggregate only. ``--write`` replaces the section between the
markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lab_reports import GoldRow, LabReport, generate, render_pdf, render_scan_png

from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.adapters.local.tesseract_ocr import TesseractOcr
from healthchat.domain.documents import sniff_content_type
from healthchat.domain.labs import interpret_labs
from healthchat.domain.models import LabResult
from healthchat.stages.text_extraction import extract_text

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / d) for d in ("", "extraction")]
from report_block import write_block  # noqa: E402  (benchmarks/: the shared README writer)
from samples import canonical_lab_name  # noqa: E402  (benchmarks/extraction: the lab-tuple scorer)
from samples import canonical_unit as samples_canonical_unit  # noqa: E402
from scorer import LabRow, lab_field_checks, pair_labs  # noqa: E402

DEV_SEEDS = tuple(range(1001, 1013))
HELD_OUT_SEEDS = tuple(range(7001, 7013))
METHODS = ("text-layer", "ocr")
FIELDS = ("name", "value", "unit", "range", "flag")
TARGET = 0.97


@dataclass
class Score:
    reports: int = 0
    rows: int = 0
    paired: int = 0
    extra: int = 0
    tuples: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    unprinted_rows: int = 0  # gold rows printed without a range: their flag rests on a typical range
    unprinted_flags: int = 0

    def add(self, other: Score) -> None:
        for name in ("reports", "rows", "paired", "extra", "tuples", "unprinted_rows", "unprinted_flags"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fields.update(other.fields)


def canonical_unit(unit: str | None) -> str:
    """Units compare after the interpreter's ``normalize_unit``, case-insensitively, micro sign as u."""
    return samples_canonical_unit(unit).replace("µ", "u").replace("μ", "u")


def predictions(labs: Sequence[LabResult]) -> list[LabRow]:
    out = []
    for lab in labs:
        rng = lab.reference_range
        printed = rng.text if rng is not None and rng.source != "typical" else None
        out.append(LabRow(lab.name, lab.value, lab.unit, printed, lab.flag, lab.begin_offset))
    return out


def pair(gold: Sequence[GoldRow], pred: Sequence[LabRow]) -> dict[int, int]:
    return pair_labs(_rows(gold), pred, canonical_lab_name)


def field_checks(g: GoldRow, p: LabRow) -> Mapping[str, bool]:
    return lab_field_checks(_rows([g])[0], p, canonical_lab_name, canonical_unit)


def _rows(gold: Sequence[GoldRow]) -> list[LabRow]:
    return [LabRow(g.name, g.value, g.unit, g.range_text, g.flag) for g in gold]


def score(gold: Sequence[GoldRow], pred: Sequence[LabRow]) -> Score:
    pairs = pair(gold, pred)
    s = Score(reports=1, rows=len(gold), paired=len(pairs), extra=len(pred) - len(pairs))
    s.unprinted_rows = sum(g.range_text is None for g in gold)
    for i, j in pairs.items():
        checks = field_checks(gold[i], pred[j])
        s.fields.update(k for k, ok in checks.items() if ok)
        s.tuples += all(checks.values())
        s.unprinted_flags += gold[i].range_text is None and checks["flag"]
    return s


# --- running the pipeline ------------------------------------------------------------------------------


@dataclass
class Run:
    report: LabReport
    method: str
    text: str
    labs: list[LabResult]


def documents(seeds: Sequence[int]) -> list[tuple[LabReport, str, bytes]]:
    docs = []
    for seed in seeds:
        report = generate(seed)
        pdf = render_pdf(report)
        docs += [(report, "text-layer", pdf), (report, "ocr", render_scan_png(report, pdf))]
    return docs


def run_all(seeds: Sequence[int], extractor: LocalMedicalExtractor) -> list[Run]:
    """Text of every document (OCR in parallel: tesseract is a subprocess), then entities and labs."""
    ocr = TesseractOcr()
    docs = documents(seeds)

    def text_of(doc: tuple[LabReport, str, bytes]) -> str:
        data = doc[2]
        return extract_text(data, sniff_content_type(data), lambda: ocr).text

    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        texts = list(pool.map(text_of, docs))
    runs = []
    for (report, method, _), text in zip(docs, texts, strict=True):
        entities = extractor.detect_entities(text).entities
        runs.append(Run(report, method, text, interpret_labs(text, entities)))
    return runs


def scores_by_method(runs: Sequence[Run]) -> dict[str, Score]:
    out = {m: Score() for m in METHODS}
    for run in runs:
        out[run.method].add(score(run.report.rows, predictions(run.labs)))
    return out


# --- reporting ---------------------------------------------------------------------------------------


def _line_with(text: str, name: str) -> str:
    """The first line starting with a printed test name (whitespace-insensitive), for error listings."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return next((line for line in lines if line.startswith(f"{name} ")), "(no line)")


def error_lines(runs: Sequence[Run]) -> list[str]:
    """DEV only: every wrong or missed gold row and every extra prediction, with its text line."""
    lines = []
    for run in runs:
        gold, pred = run.report.rows, predictions(run.labs)
        pairs = pair(gold, pred)
        tag = f"seed {run.report.seed} {run.method} ({run.report.system}, {run.report.layout})"
        for i, g in enumerate(gold):
            gt = (g.name, g.value, g.unit, g.range_text, g.flag)
            if i not in pairs:
                lines.append(f"{tag} MISSED {gt} | {_line_with(run.text, g.printed_name)!r}")
                continue
            p = pred[pairs[i]]
            bad = [k for k, ok in field_checks(g, p).items() if not ok]
            if bad:
                pt = (p.name, p.value, p.unit, p.range_text, p.flag)
                line = _line_with(run.text, g.printed_name)
                lines.append(f"{tag} WRONG {','.join(bad)}: gold {gt} got {pt} | {line!r}")
        for j in sorted(set(range(len(pred))) - set(pairs.values())):
            p = pred[j]
            line = run.text[p.position : run.text.find("\n", p.position)]
            lines.append(f"{tag} EXTRA {(p.name, p.value, p.unit, p.range_text, p.flag)} | {line!r}")
    return lines


def _pct(n: int, d: int) -> str:
    return f"{n / d:.3f}" if d else "-"


def table_row(split: str, method: str, s: Score) -> str:
    acc = s.tuples / s.rows if s.rows else 0.0
    fields = " | ".join(_pct(s.fields[k], s.rows) for k in FIELDS)
    met = "met" if acc >= TARGET else "not met"
    return (
        f"| {split} | {method} | {s.reports} | {s.rows} | {s.rows - s.paired} | {s.extra} | "
        f"**{acc:.3f}** ({s.tuples}/{s.rows}) | {fields} | "
        f"{_pct(s.unprinted_flags, s.unprinted_rows)} ({s.unprinted_flags}/{s.unprinted_rows}) | "
        f"{TARGET:.2f} {met} |"
    )


def composition(seeds: Sequence[int]) -> str:
    reports = [generate(s) for s in seeds]
    systems = Counter(r.system for r in reports)
    layouts = Counter(r.layout for r in reports)
    rows = [row for r in reports for row in r.rows]
    flags = Counter(row.flag for row in rows)
    return (
        f"{len(reports)} reports, {len(rows)} rows; units {dict(sorted(systems.items()))}; layouts "
        f"{dict(sorted(layouts.items()))}; flags {dict(sorted(flags.items()))}; "
        f"{sum(row.range_text is None for row in rows)} rows print no range"
    )


def report(errors: bool, log: Callable[[str], None]) -> str:
    extractor = LocalMedicalExtractor()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine, Python {sys.version.split()[0]}, "
        f"extractor `{extractor.name}`, OCR `{TesseractOcr().name}` (psm 6, OMP_THREAD_LIMIT=1). Each "
        "generated report (benchmarks/content/lab_reports.py) is read twice: as its text-layer PDF and as "
        "a 300-dpi scan PNG. Tuple = name, value, unit, range and flag all right; fields and tuples are "
        "over gold rows (a missed row is wrong in every field).",
        "",
        "| seeds | method | reports | gold rows | missed | extra | tuple accuracy | name | value | unit | "
        "range | flag | flag, rows without printed range | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for split, seeds in (("dev", DEV_SEEDS), ("held-out", HELD_OUT_SEEDS)):
        start = time.perf_counter()
        runs = run_all(seeds, extractor)
        log(f"{split}: {len(runs)} documents in {time.perf_counter() - start:.0f} s")
        for method, s in scores_by_method(runs).items():
            lines.append(table_row(f"{split} ({seeds[0]}-{seeds[-1]})", method, s))
        notes.append(f"- {split}: {composition(seeds)}.")
        if errors and split == "dev":
            log("\n".join(["## DEV errors", *error_lines(runs)]))
    lines += [
        "",
        *notes,
        "",
        "Rules (benchmarks/content/labs_bench.py): a gold row pairs with the first unused predicted lab "
        "(text order) whose canonical name (`lookup_test`) equals the row's, else with the first unused "
        "one after the previous pairing whose value equals the row's. Units compare after `normalize_unit`, "
        "case-insensitively, µ as u; ranges without whitespace; a typical range the interpreter supplies "
        "(`source: typical`) counts as no printed range. Gold names are lab_tests.json names (the printed "
        "name for a test it lacks, such as urea); gold flags "
        "come from the printed range, or, for rows printed without one, from the generator's own typical "
        "adult ranges (benchmarks/content/lab_catalog.py, values drawn well clear of the bounds). DEV seeds "
        "are the ones whose errors we read (`--errors`); HELD-OUT seeds are reported in aggregate only. "
        "Everything is generated: fictional patients, realistic layouts, no real reports.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--errors", action="store_true", help="print the DEV seeds' wrong rows to stderr")
    args = parser.parse_args()
    start = time.perf_counter()
    text = report(args.errors, lambda msg: print(msg, file=sys.stderr))
    print(text)
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.write:
        write_block("labs-bench", "Lab reports (generated)", text)


if __name__ == "__main__":
    main()
