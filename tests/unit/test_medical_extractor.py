"""LocalMedicalExtractor: the hard cases of the v1 rules, and DetectEntitiesV2 shape validity."""

from __future__ import annotations

from typing import Any

import pytest

from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.domain.clinical import conditions_from, medications_from
from healthchat.domain.models import Entity

NOTE = """Patient: Jane Q Doe   MRN: 00123456   DOB: 03/14/1961
Phone (555) 123-4567, jane.doe@example.com, 12 Oak Street.
HPI: 63-year-old woman with history of hypertension. Denies chest pain or shortness of breath. No fever.
Rule out pneumonia.
Family History: Mother had breast cancer.
Allergies: Penicillin (rash).
Medications:
- metformin 500 mg PO BID
- Lantus 20 units at bedtime
- atorvastatin 40mg daily x 3 months
- ASA 81 mg daily; HCTZ 25 mg qAM; NTG 0.4 mg SL PRN chest pain
Results:
Hemoglobin A1c   7.2  H  %  4.0-5.6
Her A1c was 7.2% today. Seen by Dr. Patel. Colonoscopy next year.
"""


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    return LocalMedicalExtractor().detect_entities(NOTE).entities


def _find(entities: list[dict[str, Any]], text: str, nth: int = 0) -> dict[str, Any]:
    hits = [e for e in entities if e["Text"] == text]
    assert len(hits) > nth, f"{text!r} not found"
    return hits[nth]


def _traits(e: dict[str, Any]) -> set[str]:
    return {t["Name"] for t in e["Traits"]}


def _attrs(e: dict[str, Any]) -> dict[str, str]:
    return {a["Type"]: a["Text"] for a in e["Attributes"]}


def test_every_entity_validates_as_the_detect_entities_v2_shape(entities: list[dict[str, Any]]) -> None:
    # GIVEN a clinical note WHEN entities are extracted THEN each one is a valid Entity, offsets slice to
    # its text, and Ids are unique across entities and attributes
    ids = []
    for e in entities:
        Entity.model_validate(e)
        assert set(e) - {"ICD10CMConcepts"} == {
            "Id",
            "BeginOffset",
            "EndOffset",
            "Score",
            "Text",
            "Category",
            "Type",
            "Traits",
            "Attributes",
        }
        assert NOTE[e["BeginOffset"] : e["EndOffset"]] == e["Text"]
        ids.append(e["Id"])
        for a in e["Attributes"]:
            assert set(a) == {"Type", "Score", "RelationshipScore", "RelationshipType", "Id", "BeginOffset",
                              "EndOffset", "Text", "Category", "Traits"}  # fmt: skip
            assert NOTE[a["BeginOffset"] : a["EndOffset"]] == a["Text"]
            ids.append(a["Id"])
    assert len(ids) == len(set(ids))


def test_medication_attributes_are_found_after_the_drug_name(entities: list[dict[str, Any]]) -> None:
    metformin = _find(entities, "metformin")
    assert (metformin["Category"], metformin["Type"]) == ("MEDICATION", "GENERIC_NAME")
    assert _attrs(metformin) == {"STRENGTH": "500 mg", "ROUTE_OR_MODE": "PO", "FREQUENCY": "BID"}
    lantus = _find(entities, "Lantus")
    assert lantus["Type"] == "BRAND_NAME"
    assert _attrs(lantus) == {"DOSAGE": "20 units", "FREQUENCY": "at bedtime"}
    assert _attrs(_find(entities, "atorvastatin")) == {
        "STRENGTH": "40mg", "FREQUENCY": "daily", "DURATION": "x 3 months"
    }  # fmt: skip


def test_abbreviations_are_medications(entities: list[dict[str, Any]]) -> None:
    for abbrev in ("ASA", "HCTZ", "NTG"):
        assert _find(entities, abbrev)["Category"] == "MEDICATION"
    assert _attrs(_find(entities, "NTG")) == {"STRENGTH": "0.4 mg", "ROUTE_OR_MODE": "SL", "FREQUENCY": "PRN"}


def test_allergy_drug_is_negated_and_not_a_current_medication(entities: list[dict[str, Any]]) -> None:
    penicillin = _find(entities, "Penicillin")
    assert penicillin["Category"] == "MEDICATION"
    assert "NEGATION" in _traits(penicillin)
    assert "penicillin" not in {m.name.lower() for m in medications_from(entities)}


def test_condition_context_traits(entities: list[dict[str, Any]]) -> None:
    assert _traits(_find(entities, "chest pain")) >= {"NEGATION", "SYMPTOM"}
    assert "NEGATION" in _traits(_find(entities, "shortness of breath"))
    assert "NEGATION" in _traits(_find(entities, "fever"))
    assert "HYPOTHETICAL" in _traits(_find(entities, "pneumonia"))
    assert "PERTAINS_TO_FAMILY" in _traits(_find(entities, "breast cancer"))
    assert _traits(_find(entities, "hypertension")) >= {"PAST_HISTORY", "DIAGNOSIS"}
    # the later "PRN chest pain" is not negated
    assert "NEGATION" not in _traits(_find(entities, "chest pain", 1))


def test_conditions_from_keeps_the_patients_conditions(entities: list[dict[str, Any]]) -> None:
    conds = {(c.name.lower(), c.negated) for c in conditions_from(entities)}
    assert ("hypertension", False) in conds
    assert ("fever", True) in conds
    assert not any(name == "breast cancer" for name, _ in conds)  # family history
    assert not any(name == "pneumonia" for name, _ in conds)  # hypothetical


def test_lab_row_and_prose_give_test_name_with_value_and_unit(entities: list[dict[str, Any]]) -> None:
    row = _find(entities, "Hemoglobin A1c")
    assert (row["Category"], row["Type"]) == ("TEST_TREATMENT_PROCEDURE", "TEST_NAME")
    assert _attrs(row) == {"TEST_VALUE": "7.2", "TEST_UNIT": "%"}
    prose = _find(entities, "A1c")
    assert _attrs(prose) == {"TEST_VALUE": "7.2", "TEST_UNIT": "%"}


def test_phi(entities: list[dict[str, Any]]) -> None:
    phi = {(e["Type"], e["Text"]) for e in entities if e["Category"] == "PROTECTED_HEALTH_INFORMATION"}
    expected = {
        ("NAME", "Jane Q Doe"), ("ID", "00123456"), ("DATE", "03/14/1961"),
        ("PHONE_OR_FAX", "(555) 123-4567"), ("EMAIL", "jane.doe@example.com"),
        ("AGE", "63"), ("NAME", "Patel"),
    }  # fmt: skip
    assert expected <= phi
    assert any(t == "ADDRESS" and x.startswith("12 Oak Street") for t, x in phi)


def test_procedure_and_empty_text() -> None:
    x = LocalMedicalExtractor()
    assert (
        _find(x.detect_entities("Colonoscopy next year.").entities, "Colonoscopy")["Type"] == "PROCEDURE_NAME"
    )
    result = x.detect_entities("")
    assert result.entities == [] and result.model_version == x.name and result.units == 0


def test_deterministic_on_a_long_text() -> None:
    # GIVEN ~200k characters (many ConText pieces) WHEN extracted twice THEN identical output, and the
    # traits of the first copy are those of the note alone (speed is measured in benchmarks/extraction)
    x = LocalMedicalExtractor()
    big = NOTE * (200_000 // len(NOTE))
    first = x.detect_entities(big).entities
    assert first == x.detect_entities(big).entities
    alone = x.detect_entities(NOTE).entities
    head = [e for e in first if e["EndOffset"] <= len(NOTE)]
    assert [(e["Text"], e["Traits"]) for e in head] == [(e["Text"], e["Traits"]) for e in alone]


def _named(text: str) -> dict[str, tuple[str, str]]:
    return {
        e["Text"]: (e["Category"], e["Type"]) for e in LocalMedicalExtractor().detect_entities(text).entities
    }


def test_headings_and_panel_names_are_not_conditions() -> None:
    # GIVEN a lab report's capitalised headings WHEN extracted THEN no condition or drug comes from them
    text = (
        "THYROID PANEL\nTSH 6.8 H uIU/mL 0.4-4.0\nIRON STUDIES\nINFLAMMATION\nVITAMINS\n"
        "Lipid panel ordered.\n"
    )
    cats = {c for c, _ in _named(text).values()}
    assert "MEDICAL_CONDITION" not in cats and "MEDICATION" not in cats


def test_an_all_capitals_note_still_has_its_findings() -> None:
    # old EHR exports are all capitals: headings cannot be told apart, so nothing is dropped for case
    named = _named("ASSESSMENT: ACUTE PANCREATITIS. STARTED ZOSYN.\n")
    assert named.get("ACUTE PANCREATITIS", ("",))[0] == "MEDICAL_CONDITION"


def test_tagger_finds_unlisted_names_and_keeps_substances_and_analytes_apart() -> None:
    text = "Started tirzepatide 5 mg weekly. Cocaine use. Potassium was replaced. Developed cholangitis."
    named = _named(text)
    assert named["tirzepatide"][0] == "MEDICATION"
    assert named["Cocaine"] == ("BEHAVIORAL_ENVIRONMENTAL_SOCIAL", "REC_DRUG_USE")
    assert named.get("Potassium", ("",))[0] != "MEDICATION"
    assert named["cholangitis"][0] == "MEDICAL_CONDITION"
    tirz = next(
        e for e in LocalMedicalExtractor().detect_entities(text).entities if e["Text"] == "tirzepatide"
    )
    assert _attrs(tirz) == {"STRENGTH": "5 mg", "FREQUENCY": "weekly"}


def test_conditions_carry_icd10_codes_only_when_confident() -> None:
    ents = (
        LocalMedicalExtractor().detect_entities("History of hypertension and a weird zorbic malady.").entities
    )
    htn = next(e for e in ents if e["Text"] == "hypertension")
    assert htn["ICD10CMConcepts"][0]["Code"] == "I10"
    assert all("ICD10CMConcepts" not in e for e in ents if "zorbic" in e["Text"])


def test_time_expressions_tie_to_their_entity_as_comprehend_medical_does() -> None:
    # GIVEN times next to a condition, a drug and a procedure, one tied to nothing, one already a DURATION
    text = (
        "Chest pain started 3 days ago. Took ibuprofen last night. Atorvastatin 40mg daily x 3 months. "
        "Colonoscopy next year. Walked the dog yesterday."
    )
    ents = LocalMedicalExtractor().detect_entities(text).entities
    times = {e["Text"]: e for e in ents if e["Category"] == "TIME_EXPRESSION"}
    # THEN each tied time is an entity typed by what it relates to, carrying it as an OVERLAP attribute
    assert {k: v["Type"] for k, v in times.items()} == {
        "3 days ago": "TIME_TO_DX_NAME",
        "last night": "TIME_TO_MEDICATION_NAME",
        "next year": "TIME_TO_PROCEDURE_NAME",
    }
    (attr,) = times["last night"]["Attributes"]
    assert (attr["Text"], attr["Type"], attr["RelationshipType"]) == ("ibuprofen", "GENERIC_NAME", "OVERLAP")
    ids = [x["Id"] for e in ents for x in (e, *e["Attributes"])]
    assert len(ids) == len(set(ids))
    for e in ents:
        Entity.model_validate(e)


def test_treatments_are_found() -> None:
    named = _named("Continue physical therapy and start CPAP at night.")
    assert named["physical therapy"] == ("TEST_TREATMENT_PROCEDURE", "TREATMENT_NAME")


def test_route_worded_with_a_body_part_is_a_route_not_anatomy() -> None:
    text = "Metformin 500 mg by mouth twice daily. Timolol 1 drop in each eye nightly. Mouth: moist."
    found = LocalMedicalExtractor().detect_entities(text).entities
    expected = {"STRENGTH": "500 mg", "ROUTE_OR_MODE": "by mouth", "FREQUENCY": "twice daily"}
    assert _attrs(_find(found, "Metformin")) == expected
    assert _attrs(_find(found, "Timolol"))["ROUTE_OR_MODE"] == "in each eye"
    anatomy = [e["Text"] for e in found if e["Category"] == "ANATOMY"]
    assert "mouth" not in anatomy and "eye" not in anatomy  # inside the route phrases
    assert "Mouth" in anatomy  # an examined body part is still anatomy
