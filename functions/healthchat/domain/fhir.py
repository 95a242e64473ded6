"""FHIR R4 export of a DocumentResult: a ``collection`` Bundle of lab Observations, medications, conditions.

The resources are built as plain dicts by hand (the mapping from our contract is short and explicit) and then
validated with the ``fhir.resources`` package, so a malformed Bundle never leaves this module. fhir.resources
7+ ships R5 by default and no longer has an R4 (4.0.1) sub-package; its ``R4B`` (4.3.0) models are the
nearest, and R4B left Bundle, Observation, MedicationStatement and Condition unchanged from R4. The older
R4 releases (5.x) need pydantic 1, which this project does not use. The import is lazy: cold starts of
handlers that never export pay nothing for it.

The patient is referenced by the owner's opaque account id only (a logical reference, no Patient resource),
so the export carries no name, birth date or other demographic.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from healthchat.domain.errors import HealthChatError
from healthchat.domain.lab_ranges import parse_range
from healthchat.domain.lab_units import normalize_unit
from healthchat.domain.models import Condition, DocumentResult, LabResult, Medication

UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
GENDER = "http://hl7.org/fhir/administrative-gender"
OWNER_SYSTEM = "urn:healthchat:owner"
DOCUMENT_SYSTEM = "urn:healthchat:document"
_NAMESPACE = uuid.UUID("5b0c3f2e-9d4c-4b8e-8a8f-6d1f0e0a4c11")

# flag -> (code, display) in v3 ObservationInterpretation; "unknown" gets no interpretation at all.
_INTERPRETATIONS = {
    "low": ("L", "Low"),
    "normal": ("N", "Normal"),
    "high": ("H", "High"),
    "abnormal": ("A", "Abnormal"),
}
# Display spellings (as normalize_unit returns them) whose UCUM code is spelled differently.
_UCUM_CODES = {
    "x10^3/uL": "10*3/uL",
    "x10^6/uL": "10*6/uL",
    "x10^9/L": "10*9/L",
    "x10^12/L": "10*12/L",
    "mEq/L": "meq/L",
    "IU/L": "[IU]/L",
    "IU/mL": "[IU]/mL",
    "mIU/L": "m[IU]/L",
    "mIU/mL": "m[IU]/mL",
    "uIU/mL": "u[IU]/mL",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
    "mm/hr": "mm/h",
    "sec": "s",
}
# Display spellings that are already valid UCUM codes.
_UCUM_SAME = frozenset(
    {"%", "g/dL", "g/L", "mg/dL", "mg/L", "mg/g", "ug/dL", "ug/L", "ng/dL", "ng/mL", "pg/mL", "pg", "fL"}
    | {"mmol/L", "umol/L", "nmol/L", "pmol/L", "U/L", "mL/min", "s"}
)
_NUMBER = re.compile(r"^\s*(<=|>=|<|>)?\s*([-+]?\d+(?:\.\d+)?)\s*$")
# One sex-specific part of a range text: "women 12.1-15.1", "Male: 13.8-17.2", "F 12-15.5".
_SEX_PART = re.compile(
    r"^\s*(?P<sex>women|woman|females?|f|men|man|males?|m)\b\s*[:=]?\s*(?P<range>.+?)\s*$", re.IGNORECASE
)


def to_fhir_bundle(result: DocumentResult) -> dict[str, Any]:
    """A FHIR R4 Bundle (type ``collection``) of the result's labs, medications and conditions.

    Raises
    ------
    HealthChatError (code INTERNAL)
        If fhir.resources rejects the Bundle (the message names the failing paths, never the values).
    """
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    subject = {"type": "Patient", "identifier": {"system": OWNER_SYSTEM, "value": result.owner_id}}
    resources: list[dict[str, Any]] = [
        *(_observation(lab, subject) for lab in result.labs),
        *(_medication_statement(med, subject) for med in result.medications),
        *(_condition(cond, subject) for cond in result.conditions),
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "identifier": {"system": DOCUMENT_SYSTEM, "value": result.document_id},
        "type": "collection",
        "entry": [
            {"fullUrl": _full_url(result.document_id, i, res), "resource": res}
            for i, res in enumerate(resources)
        ],
    }
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        # pydantic's own message echoes input values; keep only where the problem is.
        paths = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise HealthChatError(f"FHIR validation failed at: {', '.join(paths)[:500]}") from None
    return bundle


def _full_url(document_id: str, index: int, resource: dict[str, Any]) -> str:
    # Stable across exports of the same result, so re-exports can be de-duplicated by the receiver.
    name = f"{document_id}/{index}/{resource['resourceType']}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _quantity(value: float, unit: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    display = normalize_unit(unit) if unit else None
    if display:
        quantity["unit"] = display
        code = _UCUM_CODES.get(display) or (display if display in _UCUM_SAME else None)
        if code:
            quantity.update(system=UCUM, code=code)
    return quantity


def _observation(lab: LabResult, subject: dict[str, Any]) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
        "code": {"text": lab.name},
        "subject": subject,
    }
    match = _NUMBER.match(lab.value.replace(",", ""))
    if match:
        quantity = _quantity(float(match.group(2)), lab.unit)
        if match.group(1):
            quantity["comparator"] = match.group(1)
        obs["valueQuantity"] = quantity
    else:
        obs["valueString"] = lab.value
    if lab.flag in _INTERPRETATIONS:
        code, display = _INTERPRETATIONS[lab.flag]
        obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}]
    ref = lab.reference_range
    if ref is not None and (ref.low is not None or ref.high is not None or ref.text):
        obs["referenceRange"] = _sex_ranges(ref.text, lab.unit) or [
            _range(ref.low, ref.high, ref.text, lab.unit)
        ]
    return obs


def _range(low: float | None, high: float | None, text: str | None, unit: str | None) -> dict[str, Any]:
    rng: dict[str, Any] = {}
    if low is not None:
        rng["low"] = _quantity(low, unit)
    if high is not None:
        rng["high"] = _quantity(high, unit)
    if text:
        rng["text"] = text
    return rng


def _sex_ranges(text: str | None, unit: str | None) -> list[dict[str, Any]] | None:
    """One referenceRange per sex, each with ``appliesTo``, for 'women 12.1-15.1; men 13.8-17.2'.

    None unless every part names a sex and a numeric range: merging the parts into one low/high would tell a
    receiving system that a man's 12.5 is normal.
    """
    parts = [p for p in re.split(r"[;,]|\n", text or "") if p.strip()]
    if len(parts) < 2:
        return None
    ranges: list[dict[str, Any]] = []
    for part in parts:
        m = _SEX_PART.match(part)
        spec = parse_range(m.group("range")) if m else None
        if m is None or spec is None or spec.qualitative is not None:
            return None
        gender = "female" if m.group("sex").lower().startswith(("w", "f")) else "male"
        rng = _range(spec.low, spec.high, part.strip(), unit)
        rng["appliesTo"] = [{"coding": [{"system": GENDER, "code": gender, "display": gender.title()}]}]
        ranges.append(rng)
    return ranges


def _medication_statement(med: Medication, subject: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        # A document mentions the drug; whether it is still taken is not something it tells us reliably.
        "status": "unknown",
        "medicationCodeableConcept": {"text": med.name},
        "subject": subject,
    }
    dosage = " ".join(p for p in (med.strength, med.dose, med.route, med.frequency) if p)
    if dosage:
        statement["dosage"] = [{"text": dosage}]
    return statement


def _condition(cond: Condition, subject: dict[str, Any]) -> dict[str, Any]:
    code: dict[str, Any] = {"text": cond.name}
    if cond.icd10cm:
        code["coding"] = [{"system": ICD10CM, "code": cond.icd10cm}]
    resource: dict[str, Any] = {"resourceType": "Condition", "code": code, "subject": subject}
    if cond.negated:
        # "No evidence of X": the document rules the condition out.
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": "refuted"}]}
    return resource
