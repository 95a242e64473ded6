"""The CRF tagger: tokenisation, features, BIO decoding, one-sense-per-document, the shipped model, and
the training script end to end on a small corpus written here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from healthchat.adapters.local import ner_crf
from healthchat.adapters.local.medical_lexicon import lexicon_spans
from healthchat.adapters.local.ner_crf import TaggedSpan

ROOT = Path(__file__).resolve().parents[2]


def test_tokens_keep_offsets_and_split_hyphens_and_digits() -> None:
    text = "alpha-methyldopa 5mg"
    toks = ner_crf.tokenize(text)
    assert [t.text for t in toks] == ["alpha", "-", "methyldopa", "5", "mg"]
    assert all(text[t.begin : t.end] == t.text for t in toks)


def test_sentences_break_at_punctuation_and_line_ends() -> None:
    text = "Aspirin helps. Fever\nCough; rash"
    toks = ner_crf.tokenize(text)
    assert [[t.text for t in toks[a:b]] for a, b in ner_crf.sentences(text, toks)] == [
        ["Aspirin", "helps", "."],
        ["Fever"],
        ["Cough", ";"],
        ["rash"],
    ]


def test_gazetteer_tags_mark_first_and_inner_tokens() -> None:
    toks = ner_crf.tokenize("acute renal failure now")
    assert ner_crf.gazetteer_tags(toks, [(6, 19, "DX")]) == ["O", "B-DX", "I-DX", "O"]


def test_features_see_neighbours_and_glue() -> None:
    toks = ner_crf.tokenize("L-dopa")
    feats = ner_crf.features(toks, ["O"] * len(toks))
    assert "glue+1" in feats[0] and "glue-1" in feats[2]
    assert "1w=-" in feats[0] and "-2w=l" in feats[2] and "w=dopa" in feats[2]


def test_bio_decoding_starts_a_span_on_a_stray_inside_label() -> None:
    toks = ner_crf.tokenize("a b c d")
    spans = ner_crf.spans_from_labels(toks, ["B-DIS", "I-DIS", "I-CHEM", "O"], [0.9, 0.7, 0.8, 0.0])
    assert spans == [TaggedSpan(0, 3, "DIS", 0.8), TaggedSpan(4, 5, "CHEM", 0.8)]


def test_propagation_spreads_names_and_defined_abbreviations() -> None:
    text = "Acute renal failure (ARF) followed. ARF recurred; renal failure-free. acute renal failure again"
    spans = [TaggedSpan(0, 19, "DIS", 0.95)]
    out = ner_crf.propagate(text, spans)
    found = [(text[s.begin : s.end], s.label) for s in out]
    assert ("ARF", "DIS") in found and found.count(("ARF", "DIS")) == 2
    # case-sensitive and word-bounded: the lower-case phrase is a different string
    assert all(s.begin != text.rindex("acute") for s in out)


def test_propagation_skips_unsure_and_short_names() -> None:
    text = "Xy rises. Xy again. Foo bar. Foo bar."
    assert ner_crf.propagate(text, [TaggedSpan(0, 2, "CHEM", 0.99), TaggedSpan(10, 17, "DIS", 0.4)]) == [
        TaggedSpan(0, 2, "CHEM", 0.99),
        TaggedSpan(10, 17, "DIS", 0.4),
    ]


def test_shipped_model_tags_unlisted_drug_and_disease_names() -> None:
    # names in neither lexicon: the tagger must recognise them from their form and context
    tagger = ner_crf.default_tagger()
    text = "Treatment with zorbitravine caused severe glomerulonephritis in two patients."
    found = {(text[s.begin : s.end], s.label) for s in tagger.tag(text, lexicon_spans(text))}
    assert ("zorbitravine", "CHEM") in found
    assert any(label == "DIS" and "glomerulonephritis" in name for name, label in found)
    assert tagger.card["lexicon_sha256_16"]


def test_shipped_model_was_trained_with_the_shipped_lexicons() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_ner
    finally:
        sys.path.pop(0)
    assert ner_crf.default_tagger().card["lexicon_sha256_16"] == train_ner.lexicon_hash(), (
        "lexicon files changed since the model was trained: run scripts/train_ner.py"
    )


def _pubtator(docs: list[tuple[str, str, list[tuple[str, str]]]]) -> str:
    out = []
    for pmid, text, mentions in docs:
        title, _, abstract = text.partition(" ")
        out += [f"{pmid}|t|{title}", f"{pmid}|a|{abstract}"]
        for mention, kind in mentions:
            for m in re.finditer(re.escape(mention), text):
                out.append(f"{pmid}\t{m.start()}\t{m.end()}\t{mention}\t{kind}\t-1")
        out.append("")
    return "\n".join(out) + "\n"


@pytest.mark.slow
def test_training_script_builds_a_model_that_learns(tmp_path: Path) -> None:
    drugs = ["quorafen", "belvatide", "tarnexol", "mivopram", "dalcimab", "sevorin"]
    diseases = ["brittle fever", "gray lung", "red pox", "stone flu", "moon rash", "salt cough"]
    docs = []
    for i in range(60):
        d, x = drugs[i % 6], diseases[(i * 5) % 6]
        text = f"Effects {i}. Patients given {d} developed {x} after two weeks of {d} use."
        docs.append((str(1000 + i), text, [(d, "Chemical"), (x, "Disease")]))
    (tmp_path / "bc5cdr").mkdir()
    (tmp_path / "ncbi_disease").mkdir()
    (tmp_path / "bc5cdr" / "CDR_TrainingSet.PubTator.txt").write_text(_pubtator(docs), encoding="utf-8")
    ncbi = [
        (str(5000 + i), f"Study {i}. Children with {x} were seen.", [(x, "SpecificDisease")])
        for i, x in enumerate(diseases * 3)
    ]
    (tmp_path / "ncbi_disease" / "NCBItrainset_corpus.txt").write_text(_pubtator(ncbi), encoding="utf-8")
    out = tmp_path / "model"
    env = {**os.environ, "HEALTHCHAT_SHARED_DATA": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_ner.py"), "--out", str(out), "--iterations", "40"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    card = json.loads((out / ner_crf.CARD_FILE).read_text(encoding="utf-8"))
    assert card["trained_on"] == {"BC5CDR training": 60, "NCBI-disease train": 18}
    assert card["validation"]["scores"]["BC5CDR training"]["CHEM"]["f1"] > 0.9
    tagger = ner_crf.CrfTagger(out / ner_crf.MODEL_FILE)
    text = "Patients given tarnexol developed red pox quickly."
    found = {(text[s.begin : s.end], s.label) for s in tagger.tag(text)}
    assert found == {("tarnexol", "CHEM"), ("red pox", "DIS")}
