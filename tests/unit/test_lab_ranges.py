"""The curated typical adult ranges (data/lab_ranges.json), unit spellings and conversions, and flags
computed against typical ranges (domain/lab_ranges.py, domain/lab_units.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from healthchat.data_files import data_json
from healthchat.domain.lab_ranges import (
    NOT_COMPARABLE_NOTE,
    TYPICAL_NOTE,
    flag_for,
    parse_range,
    patient_sex,
    typical_flag,
    typical_table,
)
from healthchat.domain.lab_units import normalize_unit, same_unit
from healthchat.domain.labs import lookup_test

# The panels the table must cover (canonical names from lab_tests.json).
REQUIRED = {
    "CBC": ["White Blood Cell Count", "Red Blood Cell Count", "Hemoglobin", "Hematocrit", "Platelets", "MCV",
            "MCH", "MCHC", "RDW", "Neutrophils", "Lymphocytes", "Monocytes", "Eosinophils", "Basophils"],
    "CMP": ["Sodium", "Potassium", "Chloride", "Carbon Dioxide", "Blood Urea Nitrogen", "Creatinine",
            "Glucose", "Calcium", "Albumin", "Total Protein", "ALT", "AST", "Alkaline Phosphatase",
            "Bilirubin, Total"],
    "lipids": ["Total Cholesterol", "LDL Cholesterol", "HDL Cholesterol", "Triglycerides",
               "Non-HDL Cholesterol"],
    "diabetes and thyroid": ["Hemoglobin A1c", "TSH", "Free T4"],
    "iron": ["Iron", "Ferritin", "TIBC", "Transferrin Saturation"],
    "vitamins": ["Vitamin D, 25-Hydroxy", "Vitamin B12"],
    "urinalysis": ["Urine Specific Gravity", "Urine pH", "Urine Protein", "Urine Glucose", "Urine Ketones",
                   "Urine Blood", "Urine Leukocyte Esterase", "Urine Nitrite"],
    "other": ["eGFR", "PSA", "INR"],
}  # fmt: skip
SEX_SPECIFIC = ["Hemoglobin", "Hematocrit", "Ferritin", "Creatinine", "Red Blood Cell Count", "Iron"]
ORGANISATIONS = ("MedlinePlus", "Merck Manual", "American Diabetes Association", "National Lipid Association",
                 "KDIGO", "Endocrine Society", "American Thyroid Association", "National Cancer Institute",
                 "Medscape")  # fmt: skip


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = data_json("lab_ranges.json")
    return data


def _factor(test: str, unit: str) -> float:
    (entry,) = [e for e in typical_table()[test] if unit in e.factors]
    return entry.factors[unit]


# ---- the table ----------------------------------------------------------------------------------


@pytest.mark.parametrize("panel", sorted(REQUIRED))
def test_every_required_test_has_a_typical_range(panel: str) -> None:
    missing = [name for name in REQUIRED[panel] if name not in typical_table()]
    assert not missing, f"{panel}: no typical range for {missing}"


def test_every_entry_names_a_public_source_and_parses() -> None:
    for entry in _raw()["ranges"]:
        assert any(org in entry["source"] for org in ORGANISATIONS), entry
        printed = [entry[k] for k in ("range", "male", "female") if k in entry]
        assert printed and all(parse_range(p) is not None for p in printed), entry
        assert lookup_test(entry["test"]) is not None, f"{entry['test']} is not in lab_tests.json"
        assert lookup_test(entry["test"]).name == entry["test"]  # type: ignore[union-attr]


def test_sex_specific_tests_store_both_ranges() -> None:
    for name in SEX_SPECIFIC:
        (entry,) = typical_table()[name][:1]
        assert set(entry.ranges) == {"female", "male"}, name


def test_new_tests_have_aliases_and_a_plain_sentence() -> None:
    # every test with a typical range has a one-sentence explanation; the ones added with this table
    # (after the first 49) have aliases and no digits
    tests = data_json("lab_tests.json")["tests"]
    for t in tests[49:]:
        assert t["aliases"], t["name"]
        assert not re.search(r"\d", t["explanation"]), t["name"]
    for name in typical_table():
        test = lookup_test(name)
        assert test is not None
        assert test.explanation.count(". ") == 0 and test.explanation.endswith("."), name


def test_conversion_factors_are_stored() -> None:
    assert _factor("Glucose", "mmol/L") == pytest.approx(1 / 18.016)
    for lipid in ("Total Cholesterol", "LDL Cholesterol", "HDL Cholesterol", "Non-HDL Cholesterol"):
        assert _factor(lipid, "mmol/L") == pytest.approx(1 / 38.67)
    assert _factor("Triglycerides", "mmol/L") == pytest.approx(1 / 88.57)
    assert _factor("Creatinine", "umol/L") == 88.4
    assert _factor("Blood Urea Nitrogen", "mmol/L") == 0.357
    assert _factor("Calcium", "mmol/L") == 0.2495
    assert _factor("Hemoglobin", "g/L") == 10
    assert _factor("Vitamin D, 25-Hydroxy", "nmol/L") == 2.496
    assert _factor("Vitamin B12", "pmol/L") == 0.738
    assert _factor("Free T4", "pmol/L") == 12.87


# ---- units --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "unit"),
    [
        ("ulU/mL", "uIU/mL"),  # OCR: I read as l
        ("uIU/ml", "uIU/mL"),
        ("µIU/mL", "uIU/mL"),
        ("mlU/L", "mIU/L"),
        ("mgldL", "mg/dL"),  # OCR: the slash read as l
        ("mg/di", "mg/dL"),
        ("MG/DL", "mg/dL"),
        ("mm0l/L", "mmol/L"),  # OCR: O read as 0
        ("mmo1/L", "mmol/L"),
        ("mmoI/L", "mmol/L"),
        ("µmol/L", "umol/L"),
        ("mcg/dL", "ug/dL"),
        ("K/uL", "x10^3/uL"),
        ("x10E3/uL", "x10^3/uL"),
        ("10^3/uL", "x10^3/uL"),
        ("x10³/µL", "x10^3/uL"),
        ("10*9/L", "x10^9/L"),
        ("x1049/L", "x10^9/L"),  # OCR: the caret read as 4
        ("x10%12/L", "x10^12/L"),
        ("mU/L", "mIU/L"),
        ("mL/min/1.73 m2", "mL/min/1.73m2"),
        ("furlongs", "furlongs"),  # unknown units come back as printed
    ],
)
def test_unit_spellings_and_ocr_slips_are_normalised(printed: str, unit: str) -> None:
    assert normalize_unit(printed) == unit


def test_numerically_identical_units() -> None:
    assert same_unit("x10^3/uL", "x10^9/L") and same_unit("K/uL", "10^9/L")
    assert same_unit("uIU/mL", "mIU/L") and same_unit("ng/mL", "ug/L")
    assert not same_unit("mg/dL", "mmol/L")
    assert not same_unit("g/L", "G/L")  # grams per litre is not 10^9 cells per litre


# ---- flags against typical ranges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "value", "unit", "flag"),
    [
        ("Glucose", "5.5", "mmol/L", "normal"),  # 99 mg/dL is 5.495 mmol/L: compared at the printed precision
        ("Glucose", "7.8", "mmol/L", "high"),
        ("Glucose", "3.0", "mmol/L", "low"),
        ("Glucose", "99", "mg/dL", "normal"),
        ("Glucose", "100", "mg/dL", "high"),
        ("Total Cholesterol", "5.9", "mmol/L", "high"),
        ("LDL Cholesterol", "2.4", "mmol/L", "normal"),
        ("Triglycerides", "1.2", "mmol/L", "normal"),
        ("Creatinine", "150", "umol/L", "high"),
        ("Vitamin D, 25-Hydroxy", "50", "nmol/L", "low"),
        ("Vitamin B12", "300", "pmol/L", "normal"),
        ("Free T4", "35", "pmol/L", "high"),
        ("Hemoglobin", "95", "g/L", "low"),
        ("White Blood Cell Count", "12.3", "x10^9/L", "high"),
        ("Platelets", "250", "K/uL", "normal"),
        ("Hemoglobin A1c", "6.1", "%", "high"),
        ("Hemoglobin A1c", "5.6", "%", "normal"),
        ("Hemoglobin A1c", "48", "mmol/mol", "high"),
        ("TSH", "2.1", "mIU/L", "normal"),
        ("eGFR", "45", "mL/min/1.73m2", "low"),
        ("PSA", "<0.1", "ng/mL", "normal"),
        ("INR", "2.5", None, "high"),
        ("Urine Specific Gravity", "1.020", None, "normal"),
        ("Urine pH", "9.0", None, "high"),
        ("Neutrophils", "72", "%", "high"),
        ("Neutrophils", "3.9", "x10^3/uL", "normal"),
    ],
)
def test_typical_flags_in_the_reported_unit(test: str, value: str, unit: str | None, flag: str) -> None:
    result = typical_flag(test, unit, value)
    assert result is not None and result.flag == flag
    assert result.reference_range is not None and result.reference_range.source == "typical"
    assert result.reference_range.citation and result.note.startswith(TYPICAL_NOTE)


def test_converted_range_is_shown_in_the_reported_unit() -> None:
    glucose = typical_flag("Glucose", "mmol/L", "5.5")
    assert glucose is not None and glucose.reference_range is not None
    assert glucose.reference_range.text == "3.9-5.5"
    assert "converted from mg/dL" in glucose.note and "fasting" in glucose.note
    vit_d = typical_flag("Vitamin D, 25-Hydroxy", "nmol/L", "50")
    assert vit_d is not None and vit_d.reference_range is not None and vit_d.reference_range.text == "75-250"


@pytest.mark.parametrize(
    ("test", "value", "unit"),
    [
        ("Glucose", "130", None),  # no unit: mg/dL or mmol/L? never guess
        ("Glucose", "130", "mg/L"),  # a unit that does not convert
        ("Hemoglobin A1c", "7.2", None),
        ("Creatinine", "1.0", "furlongs"),
        ("Urine Protein", "30", "mg/dL"),  # a number where the typical result is a word
        ("Sodium", "Negative", "mmol/L"),  # a word where a number is expected
    ],
)
def test_unknown_or_unconvertible_unit_is_not_flagged(test: str, value: str, unit: str | None) -> None:
    result = typical_flag(test, unit, value)
    assert result is not None
    assert (result.flag, result.reference_range, result.note) == ("unknown", None, NOT_COMPARABLE_NOTE)


def test_a_test_without_a_typical_range_gets_nothing() -> None:
    assert typical_flag("Troponin", "ng/mL", "0.5") is None


@pytest.mark.parametrize(
    ("value", "flag"),
    [("Negative", "normal"), ("Neg", "normal"), ("NEGATIVE", "normal"), ("Not detected", "normal"),
     ("Trace", "abnormal"), ("1+", "abnormal"), ("3+", "abnormal"), ("Small", "abnormal"),
     ("Positive", "abnormal"), ("30", "unknown")],
)  # fmt: skip
def test_urinalysis_words_are_flagged_against_the_expected_value(value: str, flag: str) -> None:
    result = typical_flag("Urine Protein", None, value)
    assert result is not None and result.flag == flag
    assert flag_for(value, parse_range("Negative")) == flag


# ---- sex-specific ranges ------------------------------------------------------------------------


def test_sex_unknown_flags_only_outside_both_ranges_and_says_so() -> None:
    low = typical_flag("Hemoglobin", "g/dL", "11.2")
    assert low is not None and low.flag == "low"
    assert low.reference_range is not None and low.reference_range.text == "women 12.1-15.1; men 13.8-17.2"
    assert "without the patient's sex" in low.note
    between = typical_flag("Hemoglobin", "g/dL", "13.0")
    assert between is not None and between.flag == "normal"
    assert "low for men but normal for women" in between.note


def test_known_sex_picks_its_range() -> None:
    for sex, flag in (("female", "normal"), ("male", "low")):
        result = typical_flag("Hemoglobin", "g/dL", "13.0", sex)  # type: ignore[arg-type]
        assert result is not None and result.flag == flag
        assert f"for {'women' if sex == 'female' else 'men'}" in result.note
    ferritin = typical_flag("Ferritin", "ug/L", "20", "male")
    assert ferritin is not None and ferritin.flag == "low"


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("Patient: Jane Sample   Sex: F   Age: 54", "female"),
        ("Gender: Male", "male"),
        ("Age/Sex: 61 y / M", "male"),
        ("DOB: 01/02/1970 (F)", "female"),
        ("Sex: F ... Gender: Male", None),  # labels disagree
        ("Sexual history: monogamous", None),
        ("She reports fatigue.", None),  # pronouns are not a label
    ],
)
def test_patient_sex_from_a_labelled_field(text: str, sex: str | None) -> None:
    assert patient_sex(text) == sex
