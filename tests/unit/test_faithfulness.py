"""check_faithfulness: numbers with units, drugs, doses, diagnoses and negations against a clinic note."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from healthchat.domain.faithfulness import check_faithfulness, is_negated
from healthchat.domain.models import GlossaryEntry

# A made-up clinic note (no real patient) in the layout of a primary-care visit with a lab table.
NOTE = """Clinic Visit Note
Patient: John Carter    DOB: 04/12/1961    MRN: A1234567
Date of service: 03/14/2024

History of Present Illness:
62-year-old man seen for follow-up of type 2 diabetes mellitus and hypertension. He denies chest pain
or shortness of breath. Weight 94 kg. Blood pressure 138/86 mmHg.

Medications: metformin 500 mg PO BID, lisinopril 10 mg daily, aspirin 81 mg daily.
Allergies: penicillin (rash).

Results:
Hemoglobin A1c   7.2  H  %  4.0-5.6
LDL Cholesterol   162   mg/dL   <100
Potassium   4.1   mmol/L   3.5-5.1
TSH   2.10   uIU/mL   0.45-4.50

Imaging: CT chest on 02/20/2024 showed no evidence of cancer. Mild emphysema.

Assessment and Plan:
1. Type 2 diabetes mellitus, not at goal. Increase metformin to 1,000 mg PO BID.
2. Hypertension, controlled. Continue lisinopril 10 mg daily.
3. Hyperlipidemia. Start atorvastatin 40 mg daily.
Follow up in 3 months with repeat A1c and lipid panel.
"""

FAITHFUL = (
    "Your A1c was 7.20%, above the usual range (4.0-5.6). Your LDL cholesterol was 162 mg/dL. "
    "Your potassium was 4.1 mmol/L and your TSH 2.1 mIU/L. Type 2 diabetes mellitus, not at goal: "
    "metformin goes up to 1000 mg by mouth twice a day. Start atorvastatin 40 mg daily. "
    "Your blood pressure was 138/86 mmHg on 03/14/2024. The CT scan found no cancer. "
    "Follow up in 3 months."
)
GLOSSARY = [
    GlossaryEntry(term="hypertension", plain="high blood pressure"),
    GlossaryEntry(term="hyperlipidemia", plain="high cholesterol"),
]


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

    return LocalMedicalExtractor().detect_entities(NOTE).entities


def _claims(generated: str, entities: list[dict[str, Any]]) -> list[tuple[str, str]]:
    report = check_faithfulness(generated, NOTE, entities, GLOSSARY)
    assert report.passed == (not report.unsupported)
    return [(c.kind, c.text) for c in report.unsupported]


def test_a_faithful_summary_passes_and_every_kind_is_counted(entities: list[dict[str, Any]]) -> None:
    report = check_faithfulness(FAITHFUL, NOTE, entities, GLOSSARY)
    assert report.passed, report.unsupported
    assert report.checked["number"] >= 10  # 7.20%, 4.0, 5.6, 162, 4.1, 2.1, 2, 1000, 40, 138/86, date, 3
    assert report.checked["drug"] == 2 and report.checked["dose"] == 2
    assert report.checked["diagnosis"] == 2 and report.checked["negation"] == 2


def test_a_hallucinated_number_fails(entities: list[dict[str, Any]]) -> None:
    assert _claims("Your A1c was 7.8%.", entities) == [("number", "7.8%")]
    assert _claims("Come back on 04/01/2024.", entities) == [("number", "04/01/2024")]


def test_a_changed_unit_fails(entities: list[dict[str, Any]]) -> None:
    assert _claims("Your potassium was 4.1 mg/dL.", entities) == [("number", "4.1 mg/dL")]
    assert _claims("You weigh 94 lb.", entities) == [("number", "94 lb")]


def test_an_invented_drug_fails_and_a_wrong_dose_of_a_real_drug_fails(entities: list[dict[str, Any]]) -> None:
    assert ("drug", "warfarin") in _claims("Start warfarin daily.", entities)
    # 500 mg is in the note, but for metformin, not atorvastatin
    assert _claims("Start atorvastatin 500 mg daily.", entities) == [("dose", "atorvastatin 500 mg")]
    assert _claims("Keep taking Glucophage 500 mg.", entities) == []  # brand of metformin


def test_an_invented_diagnosis_fails(entities: list[dict[str, Any]]) -> None:
    assert _claims("You have asthma.", entities) == [("diagnosis", "asthma")]


def test_dropping_the_no_of_no_evidence_of_cancer_fails(entities: list[dict[str, Any]]) -> None:
    report = check_faithfulness("The CT scan showed evidence of cancer.", NOTE, entities, GLOSSARY)
    assert [(c.kind, c.text) for c in report.unsupported] == [("negation", "cancer")]
    assert "cancer" not in report.unsupported[0].reason  # reasons never quote the document


def test_negating_an_affirmed_condition_fails_too(entities: list[dict[str, Any]]) -> None:
    assert _claims("You do not have high blood pressure.", entities) == [("negation", "high blood pressure")]
    assert _claims("You have chest pain.", entities) == [("negation", "chest pain")]


def test_a_glossary_plain_phrase_stands_for_its_source_term(entities: list[dict[str, Any]]) -> None:
    text = "Your high blood pressure is controlled. You have high cholesterol."
    report = check_faithfulness(text, NOTE, entities, GLOSSARY)
    assert report.passed and report.checked["diagnosis"] == 2
    # without the glossary nothing maps "high cholesterol" to a term, and nothing flags it either
    assert check_faithfulness("You have high cholesterol.", NOTE, entities).checked["diagnosis"] == 0


def test_a_plain_phrase_speaks_for_its_term_not_for_the_words_in_it() -> None:
    source = "Breast biopsy: benign. Lower extremity edema, no fever."
    glossary = [
        GlossaryEntry(term="benign", plain="not cancer"),
        GlossaryEntry(term="edema", plain="swelling"),
    ]
    report = check_faithfulness(
        "The breast biopsy was not cancer. Leg swelling, no fever.", source, [], glossary
    )
    assert report.passed, report.unsupported
    assert (
        report.checked["diagnosis"] == 2
    )  # swelling (for edema) and fever; "cancer" is part of a plain phrase
    flipped = check_faithfulness("Your legs show no swelling.", source, [], glossary)
    assert [(c.kind, c.text) for c in flipped.unsupported] == [("negation", "swelling")]


def test_source_dates_support_the_same_digits(entities: list[dict[str, Any]]) -> None:
    assert _claims("Your visit in 2024 was on March 14, 2024.", entities) == []


def test_negation_cues_stop_at_the_clause_end() -> None:
    text = (
        "No sign of cancer, but the emphysema is mild. Diabetes, not at goal. Pneumonia was ruled out. "
        "Back pain free now. The scan did not show any acute events with the impression of a new stroke."
    )
    words = ("cancer", "emphysema", "Diabetes", "Pneumonia", "pain", "stroke")
    spans = {w: (text.index(w), text.index(w) + len(w)) for w in words}
    assert {w: is_negated(text, *s) for w, s in spans.items()} == {
        "cancer": True,
        "emphysema": False,
        "Diabetes": False,
        "Pneumonia": True,
        "pain": True,
        "stroke": False,  # too far from "not" (NegEx-style window)
    }


def test_import_stays_light() -> None:
    code = (
        "import sys, healthchat.domain.faithfulness; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('spacy', 'medspacy', 'pycrfsuite')"
        " or m.startswith('healthchat.adapters')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_micro_sign_and_greek_mu_spell_the_same_unit() -> None:
    source = "Vitamin B12 450 \u00b5g daily."
    assert check_faithfulness("Vitamin B12 450 \u03bcg daily.", source, []).passed
    assert not check_faithfulness("Vitamin B12 450 mg daily.", source, []).passed


def test_a_long_negated_list_stays_negated_to_its_end() -> None:
    # a rewritten review of systems: the plain-language words make the list longer than the source's
    items = ", ".join(
        [
            "fever",
            "shortness of breath",
            "cough",
            "coughing up blood",
            "black, tarry stools from bleeding",
            "bright red blood in the stool",
            "passing large amounts of urine",
            "changes in how you see things",
            "fainting spells",
        ]
    )
    text = f"He denied any recent {items}, night sweats, or chills. He smokes."
    assert is_negated(text, text.index("night sweats"), text.index("night sweats") + 12)
    assert not is_negated(text, text.index("smokes"), text.index("smokes") + 6)
