"""ExtractiveSummarizer and GlossarySimplifier: content order, spans, word limit, faithfulness, grade."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from healthchat.adapters.local.extractive_summarizer import ExtractiveSummarizer
from healthchat.adapters.local.glossary_simplifier import (
    GlossarySimplifier,
    count_syllables,
    flesch_kincaid_grade,
)
from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.domain.clinical import labs_from
from healthchat.domain.models import Summary

NOTE = """Visit note
Medications: metformin 500 mg PO BID, lisinopril 10 mg daily.
Results:
Hemoglobin A1c   7.2  H  %  4.0-5.6
LDL Cholesterol   162   mg/dL   <100
Sodium   140   mmol/L   135-145
Assessment and Plan:
1. Type 2 diabetes mellitus, not at goal.
2. Hypertension, controlled.
Increase metformin to 1000 mg PO BID. Start atorvastatin 40 mg daily.
Follow up in 3 months with repeat A1c and lipid panel.
"""
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?![A-Za-z0-9])")


@pytest.fixture(scope="module")
def summary() -> Summary:
    ents = LocalMedicalExtractor().detect_entities(NOTE).entities
    labs = [lab.model_dump() for lab in labs_from(NOTE, ents)]
    return ExtractiveSummarizer().summarize(NOTE, ents, labs)


def test_summary_leads_with_abnormal_labs_built_from_extracted_values(summary: Summary) -> None:
    first = summary.sentences[0].text
    assert first == (
        "Results outside the reference range: Hemoglobin A1c 7.2% (high; range 4.0-5.6), "
        "LDL Cholesterol 162 mg/dL (high; range <100)."
    )
    assert "Sodium" not in summary.text  # normal results are not listed


def test_summary_then_assessment_medication_changes_and_follow_up(summary: Summary) -> None:
    texts = [s.text for s in summary.sentences]
    assert texts[1:] == [
        "Type 2 diabetes mellitus, not at goal.",
        "Hypertension, controlled.",
        "Increase metformin to 1000 mg PO BID.",
        "Start atorvastatin 40 mg daily.",
        "Follow up in 3 months with repeat A1c and lipid panel.",
    ]
    assert len(summary.text.split()) <= 120


def test_every_sentence_has_spans_into_the_source(summary: Summary) -> None:
    for sentence in summary.sentences:
        assert sentence.source_spans
        for span in sentence.source_spans:
            assert 0 <= span.begin_offset < span.end_offset <= len(NOTE)
    copied = summary.sentences[1:]
    for sentence in copied:
        span = sentence.source_spans[0]
        assert " ".join(NOTE[span.begin_offset : span.end_offset].split()).rstrip(".") in sentence.text


def test_faithfulness_numbers_and_drugs_come_from_the_source(summary: Summary) -> None:
    plain = GlossarySimplifier().simplify(summary, NOTE)
    source_numbers = set(_NUMBER.findall(NOTE))
    for produced in (summary.text, plain.text):
        assert set(_NUMBER.findall(produced)) <= source_numbers
        for drug in ("metformin", "atorvastatin"):
            assert produced.count(drug) <= NOTE.count(drug)
    assert "lisinopril" not in plain.text  # listed, not changed: not in the summary, so not in plain text


def test_plain_language_rewrites_terms_and_fills_the_glossary(summary: Summary) -> None:
    plain = GlossarySimplifier().simplify(summary, NOTE)
    assert (
        "Your LDL Cholesterol result was 162 mg/dL. This is higher than the usual range (<100)." in plain.text
    )
    assert "by mouth twice a day" in plain.text and "High blood pressure, controlled." in plain.text
    terms = {g.term for g in plain.glossary}
    assert {"hypertension", "PO", "BID", "lipid panel"} <= terms
    assert plain.reading_grade is not None and plain.source_reading_grade is not None
    assert plain.reading_grade <= 8


def test_empty_inputs() -> None:
    s = ExtractiveSummarizer().summarize("", [], [])
    assert s.text == "" and s.sentences == []
    plain = GlossarySimplifier().simplify(s, "")
    assert plain.text == "" and plain.reading_grade is None


def test_glossary_data_adds_no_numbers_or_drug_names() -> None:
    data = json.loads(resources.files("healthchat").joinpath("data", "glossary.json").read_text())
    meds = json.loads(resources.files("healthchat").joinpath("data", "medications.json").read_text())
    drugs = {g.lower() for g in meds["generic"]} | {b.lower() for b in meds["brand"]}
    assert len(data["entries"]) >= 150
    for entry in data["entries"]:
        assert not re.search(r"\d", entry["plain"]), entry
        words = set(re.findall(r"[a-z][a-z-]+", entry["plain"].lower()))
        assert not words & (drugs - {"insulin"}), entry


@pytest.mark.parametrize(("word", "n"), [("cat", 1), ("table", 2), ("hypertension", 4), ("daily", 2)])
def test_syllables(word: str, n: int) -> None:
    assert count_syllables(word) == n


def test_flesch_kincaid_orders_easy_below_hard() -> None:
    easy = flesch_kincaid_grade("The cat sat on the mat. It was warm.")
    hard = flesch_kincaid_grade(
        "Hyperlipidemia management necessitates comprehensive cardiovascular risk stratification."
    )
    assert easy is not None and hard is not None and easy < 3 < 12 < hard


def test_sentences_wrapped_over_lines_stay_whole() -> None:
    from healthchat.adapters.local.extractive_summarizer import split_sentences

    text = (
        "ASSESSMENT AND PLAN:\n"
        "1. Hypertension. Increase lisinopril to 20 mg daily. Recheck potassium in one\n"
        "   week because the last potassium was 5.4 mmol/L.\n"
        "2. Hyperlipidemia.\n"
    )
    sentences = [" ".join(text[b:e].split()) for b, e in split_sentences(text)]
    assert "Recheck potassium in one week because the last potassium was 5.4 mmol/L." in sentences
    assert sentences[0] == "Hypertension." and "Hyperlipidemia." in sentences
