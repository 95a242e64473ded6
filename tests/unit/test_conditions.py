"""conditions_from: which DX_NAME entities become the patient's conditions, and how repeats are merged."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.domain.clinical import conditions_from

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import make_samples  # noqa: E402


def dx(text: str, term: str, *traits: str, code: str | None = None, occurrence: int = 0) -> dict[str, Any]:
    """A Comprehend-Medical-shaped DX_NAME entity for the ``occurrence``-th ``term`` in ``text``."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(term, at + 1)
    entity: dict[str, Any] = {
        "Category": "MEDICAL_CONDITION",
        "Type": "DX_NAME",
        "Text": term,
        "BeginOffset": at,
        "EndOffset": at + len(term),
        "Traits": [{"Name": t, "Score": 0.9} for t in traits],
    }
    if code:
        entity["ICD10CMConcepts"] = [{"Code": code, "Score": 0.8}]
    return entity


def names(conds: list[Any]) -> list[tuple[str, bool, str | None, bool]]:
    return [(c.name, c.negated, c.icd10cm, c.history) for c in conds]


def test_hypothetical_and_family_conditions_are_left_out() -> None:
    text = "Denies chest pain. Mother had breast cancer. Go to the emergency department for chest pain."
    ents = [
        dx(text, "chest pain", "NEGATION", code="R07.9"),
        dx(text, "breast cancer", "PERTAINS_TO_FAMILY", code="C50.919"),
        dx(text, "chest pain", "HYPOTHETICAL", code="R07.9", occurrence=1),
    ]
    assert names(conditions_from(ents, text)) == [("chest pain", True, "R07.9", False)]


def test_allergy_reactions_are_not_conditions_when_the_text_is_given() -> None:
    text = "ALLERGIES:\nPenicillin (hives). Sulfa drugs (rash).\n\nASSESSMENT:\nContact dermatitis with rash."
    ents = [
        dx(text, "hives", code="L50.9"),
        dx(text, "rash", code="R21"),
        dx(text, "Contact dermatitis", code="L25.9"),
        dx(text, "rash", code="R21", occurrence=1),
    ]
    got = conditions_from(ents, text)
    assert names(got) == [("Contact dermatitis", False, "L25.9", False), ("rash", False, "R21", False)]
    assert got[1].begin_offset == text.rindex("rash")  # the assessment's, not the allergy's
    # without the text the sections are unknown: nothing can be told apart
    assert {c.name for c in conditions_from(ents)} == {"hives", "rash", "Contact dermatitis"}


def test_one_condition_named_several_ways_is_listed_once_most_specific() -> None:
    text = (
        "Follow-up of type 2 diabetes. Type 2 diabetes mellitus, hypertension. "
        "Essential hypertension. Referred to diabetes education."
    )
    ents = [
        dx(text, "type 2 diabetes", code="E11.9"),
        dx(text, "Type 2 diabetes mellitus", code="E11.9"),
        dx(text, "hypertension", code="I10"),
        dx(text, "Essential hypertension", code="I10"),
        dx(text, "diabetes", occurrence=2),  # not linked: merged by name
    ]
    assert names(conditions_from(ents, text)) == [
        ("Type 2 diabetes mellitus", False, "E11.9", False),
        ("Essential hypertension", False, "I10", False),
    ]


def test_more_specific_code_wins_and_unrelated_names_in_one_category_stay_apart() -> None:
    text = "Type 2 diabetes. Diabetic polyneuropathy. No polydipsia or weight loss."
    ents = [
        dx(text, "Type 2 diabetes", code="E11.9"),
        dx(text, "Diabetic polyneuropathy", code="E11.42"),
        dx(text, "polydipsia", "NEGATION", code="R63.1"),
        dx(text, "weight loss", "NEGATION", code="R63.4"),
    ]
    assert names(conditions_from(ents, text)) == [
        ("Diabetic polyneuropathy", False, "E11.42", False),
        ("polydipsia", True, "R63.1", False),
        ("weight loss", True, "R63.4", False),
    ]


def test_negated_and_present_mentions_are_not_merged() -> None:
    text = "No chest pain at rest. Exertional chest pain."
    ents = [dx(text, "chest pain", "NEGATION", code="R07.9"), dx(text, "Exertional chest pain", code="R07.9")]
    assert names(conditions_from(ents, text)) == [
        ("chest pain", True, "R07.9", False),
        ("Exertional chest pain", False, "R07.9", False),
    ]


def test_past_history_is_flagged_unless_also_current() -> None:
    text = "PMH: Iron deficiency anemia in 2021, treated. Hypertension.\n\nA/P: Hypertension. Mild anemia."
    ents = [
        dx(text, "Iron deficiency anemia", "PAST_HISTORY", code="D50.9"),
        dx(text, "Hypertension", "PAST_HISTORY", code="I10"),
        dx(text, "Hypertension", code="I10", occurrence=1),
        dx(text, "anemia", code="D64.9", occurrence=1),  # a different code: the current anemia stays apart
    ]
    assert names(conditions_from(ents, text)) == [
        ("Iron deficiency anemia", False, "D50.9", True),
        ("Hypertension", False, "I10", False),
        ("anemia", False, "D64.9", False),
    ]


def test_an_adjective_beside_a_coded_condition_is_dropped() -> None:
    text = "Peripheral neuropathy, likely diabetic. Diabetic."
    ents = [
        dx(text, "Peripheral neuropathy", code="G62.9"),
        dx(text, "diabetic", "LOW_CONFIDENCE"),
        dx(text, "Diabetic"),  # another sentence: nothing to describe
    ]
    assert names(conditions_from(ents, text)) == [
        ("Peripheral neuropathy", False, "G62.9", False),
        ("Diabetic", False, None, False),
    ]


@pytest.fixture(scope="module")
def note() -> tuple[str, list[dict[str, Any]]]:
    text = make_samples.doctor_note()
    return text, LocalMedicalExtractor().detect_entities(text).entities


def test_sample_note_conditions(note: tuple[str, list[dict[str, Any]]]) -> None:
    text, entities = note
    got = conditions_from(entities, text)
    present = [c.name.lower() for c in got if not c.negated and not c.history]
    assert present == [
        "type 2 diabetes mellitus",
        "hyperlipidemia",
        "fatigue",
        "tingling",
        "essential hypertension",
        "peripheral neuropathy",
        "anemia",
    ]
    assert [c.name for c in got if c.history] == ["Iron deficiency anemia"]
    assert {"chest pain", "fever", "colon cancer"}.isdisjoint(present)
    assert next(c for c in got if c.name == "chest pain").negated
    assert "rash" not in {c.name for c in got}
