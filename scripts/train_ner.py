"""Train the CRF mention tagger (healthchat.adapters.local.ner_crf) on public annotated corpora.

    .venv/bin/python scripts/train_ner.py              # validate (80/20), then train on all, write the model
    .venv/bin/python scripts/train_ner.py --validate   # the 80/20 validation run only

Training data: BC5CDR training (Chemical -> CHEM, Disease -> DIS) and NCBI-disease train (every type ->
DIS; its sentences naming a known drug are skipped, as NCBI does not annotate chemicals). The held-out
splits (BC5CDR development, NCBI-disease devel) are never read here; benchmarks/extraction/run.py scores
them. The model and its card (ner_crf.json: data, parameters, lexicon hash, validation scores) go to
functions/healthchat/data/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pycrfsuite

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "extraction"))

from healthchat.adapters.local import medical_lexicon, ner_crf  # noqa: E402
from healthchat.adapters.local.medical_lexicon import lexicon_spans  # noqa: E402

from pubtator import PubTatorDocument, read_pubtator  # noqa: E402
from scorer import Span, score_spans  # noqa: E402

DATA = Path(os.environ.get("HEALTHCHAT_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "functions" / "healthchat" / "data"
BC5CDR_TRAIN = "bc5cdr/CDR_TrainingSet.PubTator.txt"
NCBI_TRAIN = "ncbi_disease/NCBItrainset_corpus.txt"
GOLD_LABEL = {"Chemical": "CHEM", "Disease": "DIS"} | dict.fromkeys(
    ("SpecificDisease", "Modifier", "DiseaseClass", "CompositeMention"), "DIS"
)


def bio_sequences(doc: PubTatorDocument) -> list[tuple[list[list[str]], list[str]]]:
    """(features, BIO labels) per sentence of one document."""
    text = doc.text
    tokens = ner_crf.tokenize(text)
    labels = ["O"] * len(tokens)
    for m in sorted(doc.mentions, key=lambda m: (m.begin, -m.end)):
        kind = GOLD_LABEL.get(m.type)
        inside = [i for i, t in enumerate(tokens) if t.begin < m.end and t.end > m.begin]
        if kind is None or not inside or any(labels[i] != "O" for i in inside):
            continue
        labels[inside[0]] = "B-" + kind
        for i in inside[1:]:
            labels[i] = "I-" + kind
    gaz = ner_crf.gazetteer_tags(tokens, lexicon_spans(text))
    return [
        (ner_crf.features(tokens[a:b], gaz[a:b]), labels[a:b]) for a, b in ner_crf.sentences(text, tokens)
    ]


def _unlabelled_chemical(xseq: list[list[str]]) -> bool:
    return any("g=B-MED" in x for x in xseq)


def train(
    docs: Sequence[PubTatorDocument],
    model: Path,
    c1: float,
    c2: float,
    iterations: int,
    disease_only: frozenset[str] = frozenset(),
) -> None:
    """Train on ``docs``; sentences of ``disease_only`` documents (NCBI: chemicals are not annotated
    there) that name a known drug are skipped, so they do not teach the tagger that drugs are "O"."""
    trainer = pycrfsuite.Trainer(verbose=False)
    for doc in docs:
        for xseq, yseq in bio_sequences(doc):
            if doc.pmid in disease_only and _unlabelled_chemical(xseq):
                continue
            trainer.append(xseq, yseq)
    trainer.set_params(
        {
            "c1": c1,
            "c2": c2,
            "max_iterations": iterations,
            "feature.possible_transitions": True,
            "feature.minfreq": 1,
        }
    )
    trainer.train(str(model))


def evaluate(tagger: ner_crf.CrfTagger, docs: Sequence[PubTatorDocument]) -> dict[str, dict[str, float]]:
    """Exact-span precision/recall/F1 per label (CHEM, DIS) with gold, by the benchmark's scorer."""
    gold = [
        Span(d.pmid, m.begin, m.end, GOLD_LABEL[m.type])
        for d in docs
        for m in d.mentions
        if m.type in GOLD_LABEL
    ]
    pred = [
        Span(d.pmid, t.begin, t.end, t.label) for d in docs for t in tagger.tag(d.text, lexicon_spans(d.text))
    ]
    return {
        label: {
            "precision": round(s.exact.precision, 3),
            "recall": round(s.exact.recall, 3),
            "f1": round(s.exact.f1, 3),
        }
        for label, s in score_spans(gold, pred).items()
        if label != "ALL" and s.gold
    }


def lexicon_hash() -> str:
    """Hash of the lexicon files the gazetteer feature reads (a model is tied to them)."""
    h = hashlib.sha256()
    for name in ("medications.json", "clinical_terms.json", "gazetteer_conditions.txt", "drug_names.tsv"):
        h.update((OUT / name).read_bytes())
    h.update(repr(sorted(medical_lexicon.GAZETTEER_RULES.items())).encode())
    return h.hexdigest()[:16]


def _fit(
    docs: Sequence[PubTatorDocument], model: Path, args: argparse.Namespace, disease_only: frozenset[str]
) -> float:
    started = time.perf_counter()
    train(docs, model, args.c1, args.c2, args.iterations, disease_only)
    return round(time.perf_counter() - started, 1)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--validate", action="store_true", help="only the 80/20 validation run; write nothing")
    ap.add_argument("--no-ncbi", action="store_true", help="leave NCBI-disease train out")
    ap.add_argument("--c1", type=float, default=0.02)
    ap.add_argument("--c2", type=float, default=0.01)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N documents of each corpus")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    corpora = {"BC5CDR training": read_pubtator(DATA / BC5CDR_TRAIN)}
    if not args.no_ncbi:
        corpora["NCBI-disease train"] = read_pubtator(DATA / NCBI_TRAIN)
    if args.limit:
        corpora = {k: v[: args.limit] for k, v in corpora.items()}
    ncbi = frozenset(d.pmid for d in corpora.get("NCBI-disease train", []))
    every = [d for docs in corpora.values() for d in docs]
    fit = [d for docs in corpora.values() for d in docs[: len(docs) * 4 // 5]]

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / ner_crf.MODEL_FILE
        seconds = _fit(fit, model, args, ncbi)
        tagger = ner_crf.CrfTagger(model)
        validation = {name: evaluate(tagger, docs[len(docs) * 4 // 5 :]) for name, docs in corpora.items()}
        print(json.dumps({"validation (last 20% of each corpus)": validation, "seconds": seconds}, indent=2))
        if args.validate:
            return 0
        seconds = _fit(every, model, args, ncbi)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / ner_crf.MODEL_FILE).write_bytes(model.read_bytes())
    card = {
        "model": "linear-chain CRF (CRFsuite, L-BFGS)",
        "labels": {"CHEM": "chemical/drug -> MEDICATION", "DIS": "disease/sign/symptom -> MEDICAL_CONDITION"},
        "trained_on": {name: len(docs) for name, docs in corpora.items()},
        "parameters": {"c1": args.c1, "c2": args.c2, "max_iterations": args.iterations},
        "validation": {
            "how": "trained on the first 80% of each corpus, scored on the last 20% (exact spans)",
            "scores": validation,
        },
        "lexicon_sha256_16": lexicon_hash(),
        "train_seconds": seconds,
        "sources": [
            "BC5CDR: Li J et al., Database 2016 (baw068); BioCreative V CDR corpus, free for research use",
            "NCBI-disease: Dogan RI, Leaman R, Lu Z, J Biomed Inform 2014;47:1-10; public domain",
        ],
    }
    (args.out / ner_crf.CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out / ner_crf.MODEL_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
