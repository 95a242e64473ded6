"""FHIR R4 export: a DocumentResult with labs, medications and conditions becomes a valid Bundle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from healthchat.domain.errors import HealthChatError
from healthchat.domain.fhir import GENDER, ICD10CM, INTERPRETATION, UCUM, to_fhir_bundle
from healthchat.domain.models import (
    Condition,
    DocumentResult,
    LabResult,
    Medication,
    ReferenceRange,
    SourceInfo,
    Status,
)

OWNER = "user-7f3a"
PATIENT_NAME = "Jane Q. Doe"


def _result(**overrides: Any) -> DocumentResult:
    fields: dict[str, Any] = {
        "document_id": "01JD2Y8Q9V6W4XK3M5N7P8R0ST",
        "owner_id": OWNER,
        "status": Status.SUCCEEDED,
        "source": SourceInfo(filename=f"{PATIENT_NAME} labs.pdf"),
        "labs": [
            LabResult(
                name="LDL cholesterol",
                value="162",
                unit="mg/dL",
                flag="high",
                reference_range=ReferenceRange(high=100, text="<100"),
                begin_offset=0,
                end_offset=10,
            ),
            LabResult(
                name="Hemoglobin",
                value="11.2",
                unit="g/dL",
                flag="low",
                reference_range=ReferenceRange(low=12.0, high=15.5),
                begin_offset=11,
                end_offset=20,
            ),
            LabResult(
                name="WBC",
                value="6.1",
                unit="K/uL",
                flag="normal",
                reference_range=ReferenceRange(low=4.0, high=11.0),
                begin_offset=21,
                end_offset=30,
            ),
            LabResult(
                name="Urine culture", value="Positive", flag="abnormal", begin_offset=31, end_offset=40
            ),
            LabResult(name="eGFR", value=">60", unit="mL/min/1.73m2", begin_offset=41, end_offset=50),
        ],
        "medications": [
            Medication(
                name="metformin",
                strength="500 mg",
                route="oral",
                frequency="twice daily",
                begin_offset=51,
                end_offset=60,
            ),
            Medication(name="aspirin", begin_offset=61, end_offset=68),
        ],
        "conditions": [
            Condition(name="type 2 diabetes mellitus", icd10cm="E11.9", begin_offset=70, end_offset=90),
            Condition(name="pneumonia", negated=True, begin_offset=91, end_offset=100),
        ],
    }
    fields.update(overrides)
    return DocumentResult(**fields)


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_name(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["code"]["text"]: o for o in _of(bundle, "Observation")}


def test_bundle_is_a_valid_collection_with_one_resource_per_fact() -> None:
    # GIVEN a result with 5 labs, 2 medications and 2 conditions WHEN exported
    bundle = to_fhir_bundle(_result())
    # THEN fhir.resources accepts it and every fact has its resource
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert len(_of(bundle, "Observation")) == 5
    assert len(_of(bundle, "MedicationStatement")) == 2
    assert len(_of(bundle, "Condition")) == 2
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)
    assert to_fhir_bundle(_result()) == bundle  # stable ids across exports


def test_interpretation_codes_follow_the_flags() -> None:
    obs = _by_name(to_fhir_bundle(_result()))
    codes = {
        name: [(c["system"], c["code"]) for i in o.get("interpretation", []) for c in i["coding"]]
        for name, o in obs.items()
    }
    assert codes == {
        "LDL cholesterol": [(INTERPRETATION, "H")],
        "Hemoglobin": [(INTERPRETATION, "L")],
        "WBC": [(INTERPRETATION, "N")],
        "Urine culture": [(INTERPRETATION, "A")],
        "eGFR": [],  # flag "unknown": no interpretation claimed
    }


def test_values_units_and_reference_ranges() -> None:
    obs = _by_name(to_fhir_bundle(_result()))
    assert obs["LDL cholesterol"]["valueQuantity"] == {
        "value": 162.0,
        "unit": "mg/dL",
        "system": UCUM,
        "code": "mg/dL",
    }
    assert obs["LDL cholesterol"]["referenceRange"] == [
        {"high": {"value": 100.0, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}, "text": "<100"}
    ]
    assert obs["Hemoglobin"]["referenceRange"][0]["low"]["value"] == 12.0
    assert obs["WBC"]["valueQuantity"]["code"] == "10*3/uL"  # K/uL as UCUM
    assert obs["eGFR"]["valueQuantity"]["comparator"] == ">"
    assert obs["eGFR"]["valueQuantity"]["code"] == "mL/min/{1.73_m2}"
    assert obs["Urine culture"]["valueString"] == "Positive" and "valueQuantity" not in obs["Urine culture"]
    assert "referenceRange" not in obs["Urine culture"]


def _hemoglobin(text: str, low: float = 12.1, high: float = 17.2) -> list[LabResult]:
    rng = ReferenceRange(low=low, high=high, text=text, source="typical")
    return [
        LabResult(
            name="Hemoglobin", value="12.5", unit="g/dL", reference_range=rng, begin_offset=0, end_offset=9
        )
    ]


def test_sex_specific_range_becomes_one_reference_range_per_sex() -> None:
    # GIVEN a range text with parts for women and men (the merged low/high is 12.1-17.2)
    bundle = to_fhir_bundle(_result(labs=_hemoglobin("women 12.1-15.1; men 13.8-17.2")))
    # THEN each sex has its own referenceRange with appliesTo, and the Bundle still validates
    Bundle.model_validate(bundle)
    ranges = _by_name(bundle)["Hemoglobin"]["referenceRange"]
    gdl = {"unit": "g/dL", "system": UCUM, "code": "g/dL"}
    assert ranges == [
        {
            "low": {"value": 12.1, **gdl},
            "high": {"value": 15.1, **gdl},
            "text": "women 12.1-15.1",
            "appliesTo": [{"coding": [{"system": GENDER, "code": "female", "display": "Female"}]}],
        },
        {
            "low": {"value": 13.8, **gdl},
            "high": {"value": 17.2, **gdl},
            "text": "men 13.8-17.2",
            "appliesTo": [{"coding": [{"system": GENDER, "code": "male", "display": "Male"}]}],
        },
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Male: 13.8-17.2, Female: 12.1-15.1", [("male", 13.8, 17.2), ("female", 12.1, 15.1)]),
        ("F <0.8; M <1.2", [("female", None, 0.8), ("male", None, 1.2)]),
    ],
)
def test_sex_specific_range_spellings(text: str, expected: list[tuple[str, float | None, float]]) -> None:
    bundle = to_fhir_bundle(_result(labs=_hemoglobin(text)))
    Bundle.model_validate(bundle)
    ranges = _by_name(bundle)["Hemoglobin"]["referenceRange"]
    got = [
        (r["appliesTo"][0]["coding"][0]["code"], r.get("low", {}).get("value"), r["high"]["value"])
        for r in ranges
    ]
    assert got == expected


@pytest.mark.parametrize("text", ["12.1-17.2", "women 12.1-15.1; see note", "12.1-15.1; 13.8-17.2"])
def test_range_without_sex_parts_stays_one_range(text: str) -> None:
    # GIVEN a range text that is not entirely sex-specific WHEN exported THEN one range, no appliesTo
    ranges = _by_name(to_fhir_bundle(_result(labs=_hemoglobin(text))))["Hemoglobin"]["referenceRange"]
    assert len(ranges) == 1 and "appliesTo" not in ranges[0]
    assert (ranges[0]["low"]["value"], ranges[0]["high"]["value"], ranges[0]["text"]) == (12.1, 17.2, text)


def test_medications_carry_their_dosage_text() -> None:
    meds = {
        m["medicationCodeableConcept"]["text"]: m
        for m in _of(to_fhir_bundle(_result()), "MedicationStatement")
    }
    assert meds["metformin"]["dosage"] == [{"text": "500 mg oral twice daily"}]
    assert "dosage" not in meds["aspirin"]


def test_negated_condition_is_refuted_and_icd10_is_coded() -> None:
    conds = {c["code"]["text"]: c for c in _of(to_fhir_bundle(_result()), "Condition")}
    assert conds["type 2 diabetes mellitus"]["code"]["coding"] == [{"system": ICD10CM, "code": "E11.9"}]
    assert "verificationStatus" not in conds["type 2 diabetes mellitus"]
    assert conds["pneumonia"]["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert "coding" not in conds["pneumonia"]["code"]


def test_patient_is_referenced_by_owner_id_only() -> None:
    bundle = to_fhir_bundle(_result())
    text = json.dumps(bundle)
    assert PATIENT_NAME not in text and "labs.pdf" not in text
    assert not _of(bundle, "Patient")
    for entry in bundle["entry"]:
        assert entry["resource"]["subject"] == {
            "type": "Patient",
            "identifier": {"system": "urn:healthchat:owner", "value": OWNER},
        }


def test_empty_result_is_an_empty_valid_bundle() -> None:
    bundle = to_fhir_bundle(_result(labs=[], medications=[], conditions=[]))
    assert Bundle.model_validate(bundle).entry is None or bundle["entry"] == []


def test_invalid_bundle_raises_without_echoing_values() -> None:
    # GIVEN an ICD-10 code with a space (FHIR codes forbid leading/trailing and double whitespace)
    bad = Condition(name=PATIENT_NAME, icd10cm=" E11.9", begin_offset=0, end_offset=1)
    # WHEN exported THEN a HealthChatError (INTERNAL) names the path but not the value
    with pytest.raises(HealthChatError) as info:
        to_fhir_bundle(_result(conditions=[bad]))
    assert info.value.code == "INTERNAL"
    assert "coding" in info.value.message
    assert PATIENT_NAME not in info.value.message and "E11.9" not in info.value.message
