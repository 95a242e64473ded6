"""Extraction benchmark: the local extractor on BC5CDR and NCBI-disease (training and held-out splits), lab
tuples of the sample reports through the pipeline, negation/attributes on the sample note, and speed.

Run with ``.venv/bin/python benchmarks/extraction/run.py [--write] [--errors N]``; prints a Markdown report
and, with ``--write``, replaces the section between the markers in benchmarks/README.md. Held-out splits
print aggregate numbers only; ``--errors`` samples misses and false alarms of the training splits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

from pubtator import PubTatorDocument, read_pubtator
from samples import (
    entity_spans,
    make_samples,
    merge_lab_scores,
    run_pipeline,
    score_labs,
    score_mts_negation,
    score_note,
)
from scorer import Span, SpanScore, score_by_type, score_spans

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from report_block import write_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("HEALTHCHAT_SHARED_DATA", ROOT.parent / "shared" / "data"))
COMPREHEND_MEDICAL_CHARS_PER_S = 40_000  # DetectEntitiesV2 default account quota (characters/second)
TARGETS = {"MEDICATION": 0.85, "MEDICAL_CONDITION": 0.80, "negation": 0.90, "labs": 0.95, "speed": 60_000}


@dataclass(frozen=True)
class Corpus:
    name: str
    split: str
    role: str  # "CRF training data" (we read its errors) or "held-out" (aggregates only)
    path: str
    gold_categories: dict[str, str]  # corpus type -> benchmark category
    pred_categories: dict[str, str]  # extractor Category -> benchmark category


TRAINING = "CRF training data"
BC5CDR_PRED = {"MEDICATION": "MEDICATION", "MEDICAL_CONDITION": "MEDICAL_CONDITION"}
BC5CDR_GOLD = {"Chemical": "MEDICATION", "Disease": "MEDICAL_CONDITION"}
NCBI_GOLD = dict.fromkeys(
    ("SpecificDisease", "Modifier", "DiseaseClass", "CompositeMention"), "MEDICAL_CONDITION"
)
NCBI_PRED = {"MEDICAL_CONDITION": "MEDICAL_CONDITION"}
CORPORA = [
    Corpus("BC5CDR", "training", TRAINING, "bc5cdr/CDR_TrainingSet.PubTator.txt", BC5CDR_GOLD, BC5CDR_PRED),
    Corpus(
        "BC5CDR",
        "development",
        "held-out",
        "bc5cdr/CDR_DevelopmentSet.PubTator.txt",
        BC5CDR_GOLD,
        BC5CDR_PRED,
    ),
    Corpus("NCBI-disease", "train", TRAINING, "ncbi_disease/NCBItrainset_corpus.txt", NCBI_GOLD, NCBI_PRED),
    Corpus(
        "NCBI-disease", "devel", "held-out", "ncbi_disease/NCBIdevelopset_corpus.txt", NCBI_GOLD, NCBI_PRED
    ),
]


def run_corpus(
    corpus: Corpus, extractor: LocalMedicalExtractor
) -> tuple[list[PubTatorDocument], list[Span], list[Span]]:
    docs = read_pubtator(DATA / corpus.path)
    gold = [
        Span(d.pmid, m.begin, m.end, corpus.gold_categories[m.type], m.type) for d in docs for m in d.mentions
    ]
    pred = [
        s
        for d in docs
        for s in entity_spans(d.pmid, extractor.detect_entities(d.text).entities, corpus.pred_categories)
    ]
    return docs, gold, pred


def error_samples(docs: list[PubTatorDocument], gold: list[Span], pred: list[Span], n: int) -> list[str]:
    """Up to ``n`` missed gold mentions and ``n`` false predictions (overlap rule) per category."""
    text = {d.pmid: d.text for d in docs}
    lines = []
    for cat in sorted({s.category for s in gold}):
        g = [s for s in gold if s.category == cat]
        p = [s for s in pred if s.category == cat]
        g_spans = {(s.doc, s.begin, s.end) for s in g}
        p_spans = {(s.doc, s.begin, s.end) for s in p}
        miss = [s for s in g if not any(d == s.doc and b < s.end and s.begin < e for d, b, e in p_spans)]
        false = [s for s in p if not any(d == s.doc and b < s.end and s.begin < e for d, b, e in g_spans)]
        lines.append(f"{cat}: {len(miss)} missed, {len(false)} false (overlap rule); samples:")
        lines += [f"  MISS {s.doc} {text[s.doc][s.begin : s.end]!r} ({s.type})" for s in miss[:n]]
        lines += [f"  FALSE {s.doc} {text[s.doc][s.begin : s.end]!r} ({s.type})" for s in false[:n]]
    return lines


def speed(texts: list[str], extractor: LocalMedicalExtractor, passes: int) -> float:
    """Median characters/second of detect_entities over ``texts``, warm, pinned to one core."""
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        for t in texts:
            extractor.detect_entities(t)
        chars, rates = sum(map(len, texts)), []
        for _ in range(passes):
            start = time.perf_counter()
            for t in texts:
                extractor.detect_entities(t)
            rates.append(chars / (time.perf_counter() - start))
    finally:
        os.sched_setaffinity(0, cpus)
    return statistics.median(rates)


def _mark(value: float, target: float | None) -> str:
    if target is None:
        return "-"
    return f"{target:.2f} {'met' if value >= target else 'not met'}"


def span_rows(corpus: Corpus, scores: dict[str, SpanScore]) -> list[str]:
    rows = []
    for cat, s in scores.items():
        if cat == "ALL":
            continue
        e, o = s.exact, s.overlap
        label = "Chemical vs MEDICATION" if cat == "MEDICATION" and corpus.name == "BC5CDR" else cat
        label = "Disease vs MEDICAL_CONDITION" if cat == "MEDICAL_CONDITION" else label
        rows.append(
            f"| {corpus.name} | {corpus.split} ({corpus.role}) | {label} | {s.gold} | {s.predicted} | "
            f"{e.precision:.3f} / {e.recall:.3f} / **{e.f1:.3f}** | "
            f"{o.precision:.3f} / {o.recall:.3f} / {o.f1:.3f} | "
            f"{_mark(e.f1, TARGETS.get(cat)) if corpus.role != TRAINING else '- (seen in training)'} |"
        )
    return rows


def type_lines(corpus: Corpus, by_type: dict[str, SpanScore]) -> list[str]:
    parts = []
    for key, s in by_type.items():
        side, kind = key.split(":", 1)
        if side == "gold":
            parts.append(f"{kind} recall {s.exact.recall:.3f}/{s.overlap.recall:.3f} (n={s.gold})")
        else:
            parts.append(
                f"{kind} precision {s.exact.precision:.3f}/{s.overlap.precision:.3f} (n={s.predicted})"
            )
    return [f"- {corpus.name} {corpus.split}, per type (exact/overlap): " + "; ".join(parts) + "."]


def validation_rows(extractor: LocalMedicalExtractor) -> list[str]:
    """The CRF tagger's own 80/20 validation scores, from its model card (scripts/train_ner.py)."""
    card = extractor.model_card
    valid = card.get("validation", {})
    label = {"CHEM": "Chemical vs CHEM (tagger alone)", "DIS": "Disease vs DIS (tagger alone)"}
    rows = []
    for corpus, scores in valid.get("scores", {}).items():
        for kind, s in scores.items():
            target = TARGETS["MEDICATION" if kind == "CHEM" else "MEDICAL_CONDITION"]
            rows.append(
                f"| {corpus} | last 20% (validation) | {label[kind]} | - | - | {s['precision']:.3f} / "
                f"{s['recall']:.3f} / **{s['f1']:.3f}** | - | {_mark(s['f1'], target)} |"
            )
    return rows


def sample_lines(extractor: LocalMedicalExtractor) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples"
        make_samples(samples)
        note = score_note(samples, extractor)
        labs = score_labs(run_pipeline(samples, Path(tmp) / "home"))
    lines = [
        "",
        "| data (the generated samples are dev-side) | measure | items | accuracy | target |",
        "|---|---|---|---|---|",
    ]
    for kind, acc in note.items():
        target = TARGETS["negation"] if kind == "negation" else None
        lines.append(
            f"| doctor_note.txt | {kind} | {acc.total} found, {acc.missed} missed | "
            f"**{acc.value:.3f}** ({acc.correct}/{acc.total}) | {_mark(acc.value, target)} |"
        )
    mts = score_mts_negation(DATA, extractor)
    lines.append(
        "| MTS-Dialog validation notes (real, held-out; mts_negation_gold.json) | negation | "
        f"{mts.total} found, {mts.missed} missed | **{mts.value:.3f}** ({mts.correct}/{mts.total}) | "
        f"{_mark(mts.value, TARGETS['negation'])} |"
    )
    groups = {"text-layer": ["lab_report.pdf"], "ocr": ["lab_report_scan.png", "lab_report_scan.pdf"]}
    for method, names in groups.items():
        s = merge_lab_scores(labs[n] for n in names)
        fields = ", ".join(f"{k} {v}/{s.rows}" for k, v in s.fields.items())
        lines.append(
            f"| {' + '.join(names)} ({method}) | lab tuples (name, value, unit, range) | {s.rows} rows, "
            f"{s.paired} paired, {s.unpaired_predictions} extra | **{s.tuple_accuracy:.3f}** "
            f"({s.tuples_correct}/{s.rows}); fields: {fields} | {_mark(s.tuple_accuracy, TARGETS['labs'])} |"
        )
    return lines


def report(errors: int, passes: int) -> str:
    extractor = LocalMedicalExtractor()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine, Python {sys.version.split()[0]}, "
        f"extractor `{extractor.name}`. P / R / F1 per category; targets are checked on exact F1.",
        "",
        "| dataset | split | gold vs predicted | gold | predicted | exact P / R / F1 | overlap P / R / F1 "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    speed_texts: list[str] = []
    for corpus in CORPORA:
        docs, gold, pred = run_corpus(corpus, extractor)
        lines += span_rows(corpus, score_spans(gold, pred))
        notes += type_lines(corpus, score_by_type(gold, pred))
        if corpus.role == TRAINING and errors:
            print(
                "\n".join(
                    [f"## errors: {corpus.name} {corpus.split}", *error_samples(docs, gold, pred, errors)]
                )
            )
        if corpus.name == "BC5CDR" and corpus.split == "training":
            speed_texts = [d.text for d in docs]
    lines += validation_rows(extractor)
    lines += sample_lines(extractor)
    rate = speed(speed_texts, extractor, passes)
    lines += [
        "",
        f"Speed: **{rate:,.0f} characters/s** for `detect_entities`, one core, warm, median of {passes} "
        f"passes over the {len(speed_texts)} BC5CDR training abstracts ({sum(map(len, speed_texts)):,} "
        f"characters, one call per abstract); target {TARGETS['speed']:,} "
        f"({'met' if rate >= TARGETS['speed'] else 'not met'}); "
        f"Amazon Comprehend Medical's default DetectEntitiesV2 quota is {COMPREHEND_MEDICAL_CHARS_PER_S:,} "
        "characters/s per account.",
        "",
        *notes,
        "",
        "Rules (benchmarks/extraction/scorer.py): exact = same begin and end; overlap = at least one shared "
        "character, one-to-one pairing; repeated gold annotations of one span count once. BC5CDR Chemical "
        "is a proxy for medications: it also annotates non-drug chemicals (ions, toxins, reagents, drug "
        "classes), which the extractor is not meant to find, so its recall and F1 understate medication "
        "recognition. The CRF tagger inside the extractor is trained on BC5CDR training and NCBI-disease "
        "train, so their rows show fit, not skill; the validation rows come from its model card "
        "(scripts/train_ner.py: trained on the first 80% of each training split, scored on the rest, "
        "without the extractor's lexicon pass); the held-out rows are the test. Both corpora are PubMed "
        "abstracts, not clinical notes, and carry no negation, dose "
        "or lab gold: those come from the generated samples (tiny, dev-side: the extractor was written "
        "while looking at them). Negation and attribute accuracy are over the gold items whose entity was "
        "found (missed ones are counted apart). The MTS-Dialog negation gold is 85 condition mentions the "
        "extractor found in real note sections, each labelled negated or not from its sentence without "
        "seeing the extractor's traits; the context rules were not developed on it. Lab rows pair with "
        "predictions through the interpreter's "
        "canonical test names (`lookup_test`), else by value in print order; units compare after "
        "`normalize_unit`, range texts without whitespace. Training splits are the ones whose errors we "
        "read (`--errors N`); held-out splits (BC5CDR development, NCBI-disease devel) are reported in "
        "aggregate only.",
        "",
        'Corpora: BC5CDR, Li J et al., "BioCreative V CDR task corpus: a resource for chemical disease '
        'relation extraction", Database 2016 (baw068). NCBI-disease, Doğan RI, Leaman R, Lu Z, "NCBI '
        'disease corpus: a resource for disease name recognition and concept normalization", J Biomed '
        "Inform 2014;47:1-10. Read from `../shared/data/` (not copied into this repository).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="N error samples (dev-side only)")
    parser.add_argument("--passes", type=int, default=5, help="timed passes for the speed line")
    args = parser.parse_args()
    start = time.perf_counter()
    text = report(args.errors, args.passes)
    print(text)
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.write:
        write_block("extraction-bench", "Extraction quality", text)


if __name__ == "__main__":
    main()
