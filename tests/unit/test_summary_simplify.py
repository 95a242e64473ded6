"""ExtractiveSummarizer and GlossarySimplifier: content order, spans, word limit, faithfulness, grade."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
import textstat

from healthchat.adapters.local.extractive_summarizer import ExtractiveSummarizer
from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier, reading_grade
from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.domain.clinical import labs_from
from healthchat.domain.models import SourceSpan, Summary, SummarySentence

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


def test_reading_grade_orders_easy_below_hard() -> None:
    easy = reading_grade("The cat sat on the mat. It was warm.")
    hard = reading_grade(
        "Hyperlipidemia management necessitates comprehensive cardiovascular risk stratification."
    )
    assert easy is not None and hard is not None and easy < 3 < 12 < hard
    assert reading_grade("") is None and reading_grade("  ...  ") is None
    text = "Take one pill a day with food. Drink water."
    assert reading_grade(text) == round(textstat.flesch_kincaid_grade(text), 1)


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


def _plain_of(sentence: str, document: str | None = None) -> tuple[str, dict[str, str]]:
    """Simplify one summary sentence copied from ``document`` (the sentence itself by default)."""
    doc = sentence if document is None else document
    begin = doc.index(sentence)
    spans = [SourceSpan(begin_offset=begin, end_offset=begin + len(sentence))]
    summary = Summary(text=sentence, sentences=[SummarySentence(text=sentence, source_spans=spans)])
    plain = GlossarySimplifier().simplify(summary, doc)
    return plain.text, {g.term: g.plain for g in plain.glossary}


def test_dosing_abbreviations_expand_inline_keeping_numbers_and_drug_names() -> None:
    text, _ = _plain_of("Take metformin 500 mg po bid and atorvastatin 40 mg PO qhs.")
    assert text == "Take metformin 500 mg by mouth twice a day and atorvastatin 40 mg by mouth at bedtime."
    text, _ = _plain_of("Acetaminophen 650 mg PR q6h prn fever, 1 tab p.o. b.i.d.")
    assert text == (
        "Acetaminophen 650 mg in the rectum every six hours when needed for fever, "
        "1 tab by mouth twice a day."
    )
    # lowercase Latin forms are read as dosing only next to a dose, route or drug name
    assert _plain_of("He made a bid for the house.")[0] == "He made a bid for the house."
    assert _plain_of("EKG: PR 160 ms, QRS normal.")[0].startswith("EKG: PR 160 ms")


def test_ambiguous_abbreviation_takes_the_sense_its_cues_support() -> None:
    assert _plain_of("She has MS with a new relapse.")[0] == (
        "She has multiple sclerosis (a nerve disease) with a new relapse."
    )
    assert (
        _plain_of("MS: denies joint pain or stiffness.")[0]
        == "Muscles and bones: denies joint pain or stiffness."
    )
    assert _plain_of("PT 14.2 seconds, INR 1.3.")[0].startswith("Blood clotting time 14.2 seconds")
    assert _plain_of("Continue PT for strengthening.")[0] == "Continue physical therapy for strengthening."
    # cue found only in the source document near the sentence
    doc = "Brain imaging shows demyelinating lesions. She was diagnosed with MS."
    assert _plain_of("She was diagnosed with MS.", doc)[0] == (
        "She was diagnosed with multiple sclerosis (a nerve disease)."
    )
    # a drug sense keeps the term (no drug name is ever written in), the gloss explains it
    text, glossary = _plain_of("Give MS 4 mg IV q4h prn pain.")
    assert text.startswith("Give MS 4 mg into a vein") and glossary["MS"] == "a strong pain medicine"


def test_ambiguous_abbreviation_without_one_supported_sense_is_kept_and_glossed() -> None:
    for sentence in ("She was diagnosed with MS.", "MS noted on echo; relapse of symptoms."):
        text, glossary = _plain_of(sentence)
        assert "MS" in text and "multiple sclerosis" not in text and "mitral" not in text
        assert glossary["MS"].startswith("a short form that can mean")


def test_case_rules_separate_abbreviations_from_words() -> None:
    assert _plain_of("The QT interval was 500 ms.")[0] == "The QT interval was 500 ms."
    assert _plain_of("Pt was seen today.")[0] == "Patient was seen today."
    assert _plain_of("MS. JONES IS HERE WITH HER SON.")[0] == "MS. JONES IS HERE WITH HER SON."
    assert _plain_of("Stage IV disease and a Schatzker IV fracture.")[0] == (
        "Stage IV disease and a Schatzker IV fracture."
    )
    assert (
        _plain_of("She received 5 mg of metoprolol IV.")[0] == "She received 5 mg of metoprolol into a vein."
    )
    assert _plain_of("She had an MI and a DVT.")[0] == "She had a heart attack and a deep vein blood clot."
    assert (
        _plain_of("This 44y/o RHF denies ETOH.")[0] == "This 44-year-old right-handed woman denies alcohol."
    )


def test_long_sentences_split_at_clauses_without_losing_words() -> None:
    sentence = (
        "They started her on steroids and colchicine, and the pain is improving and the swelling is better."
    )
    text, _ = _plain_of(sentence)
    assert text == (
        "They started her on steroids and colchicine. And the pain is improving and the swelling is better."
    )
    assert text.lower().replace(".", "").split() == sentence.lower().replace(",", "").replace(".", "").split()
    lists = "She has a history of asthma, eczema, and hay fever."
    assert _plain_of(lists)[0] == lists  # a list is not a clause


def test_a_term_defined_twice_is_a_load_error_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from healthchat.adapters.local import glossary_data as gs

    files = {
        "glossary.json": {"entries": [{"term": "pt", "plain": "patient", "swap": True}]},
        "glossary_x.json": {
            "entries": [
                {"term": "PT", "plain": "physical therapy", "swap": True},  # case-sensitive: a different term
                {"term": "Pt", "plain": "platinum", "swap": True},  # "pt" already matches "Pt"
            ]
        },
    }
    monkeypatch.setattr(gs, "glossary_files", lambda: list(files))
    monkeypatch.setattr(gs, "data_json", lambda name: files[name])
    with pytest.raises(gs.GlossaryError, match="'Pt' in glossary_x.json is already defined in glossary.json"):
        gs.load_glossary(strict=True)
    assert [e.term for e in gs.load_glossary()] == ["pt", "PT"]  # run time: first definition wins


def test_a_swapped_phrase_loses_its_article_after_no_or_a_modifier() -> None:
    summary = Summary(text="No tachycardia. Mild anemia.", sentences=[])
    plain = GlossarySimplifier().simplify(summary, "No tachycardia. Mild anemia.").text
    assert "no a " not in plain.lower() and "mild a " not in plain.lower()
    assert plain.lower().startswith("no ")
