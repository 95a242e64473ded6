"""Reference-range parsing, flags, report-flag cross-checks and lab-row reading (domain/labs.py)."""

from __future__ import annotations

import pytest

from healthchat.domain.labs import flag_for, interpret_labs, lookup_test, parse_range


@pytest.mark.parametrize(
    ("printed", "low", "high"),
    [
        ("4.0-5.6", 4.0, 5.6),
        ("3.5 - 5.1", 3.5, 5.1),
        ("<200", None, 200.0),
        ("< 5.7", None, 5.7),
        (">= 60", 60.0, None),
        (">60", 60.0, None),
        ("0.4-4.0 uIU/mL", 0.4, 4.0),
        ("1,000-4,000", 1000.0, 4000.0),
    ],
)
def test_parse_range(printed: str, low: float | None, high: float | None) -> None:
    rng = parse_range(printed)
    assert rng is not None
    assert (rng.low, rng.high) == (low, high)


@pytest.mark.parametrize(
    ("value", "printed", "flag"),
    [
        ("7.2", "4.0-5.6", "high"),
        ("3.9", "4.0-5.6", "low"),
        ("4.0", "4.0-5.6", "normal"),
        ("5.6", "4.0-5.6", "normal"),
        ("199", "<200", "normal"),
        ("200", "<200", "high"),  # strict bound: 200 is outside '<200'
        ("200", "<=200", "normal"),
        ("60", ">60", "low"),
        ("60", ">= 60", "normal"),
        (">60", ">=60", "normal"),
        ("Negative", "Negative", "normal"),
        ("Positive", "Negative", "abnormal"),
        ("Reactive", "Non-reactive", "abnormal"),
        ("12", None, "unknown"),
    ],
)
def test_flag_for(value: str, printed: str | None, flag: str) -> None:
    assert flag_for(value, parse_range(printed)) == flag


def test_ocr_aliases_resolve_to_the_known_test() -> None:
    for printed in ("Alc", "HbAlc", "Hgb A1c", "hemoglobin a1c"):
        test = lookup_test(printed)
        assert test is not None and test.name == "Hemoglobin A1c"


def test_table_rows_without_entities() -> None:
    # GIVEN a printed lab table and no NER entities
    # WHEN interpreted THEN each row gets value, unit, range and flag
    text = (
        "Hemoglobin A1c   7.2  H  %  4.0-5.6\n"
        "LDL Cholesterol   162   mg/dL   <100\n"
        "TSH    2.1   ulU/mL   0.4-4.0\n"
        "Urine Protein   Negative    Negative\n"
        "Anion Gap   14  mmol/L  3-11\n"
        "Metformin   500 mg  PO BID\n"
    )
    labs = {lab.name: lab for lab in interpret_labs(text, [])}
    assert set(labs) == {"Hemoglobin A1c", "LDL Cholesterol", "TSH", "Urine Protein", "Anion Gap"}
    a1c = labs["Hemoglobin A1c"]
    assert (a1c.value, a1c.unit, a1c.flag) == ("7.2", "%", "high")
    assert a1c.reference_range is not None and a1c.reference_range.text == "4.0-5.6"
    assert a1c.explanation and "blood sugar" in a1c.explanation
    assert text[a1c.begin_offset : a1c.end_offset].startswith("Hemoglobin A1c")
    assert labs["LDL Cholesterol"].flag == "high"
    assert (labs["TSH"].unit, labs["TSH"].flag) == ("uIU/mL", "normal")  # OCR 'ulU/mL' normalized
    assert labs["Urine Protein"].flag == "normal"
    assert labs["Anion Gap"].explanation is None  # unknown test: no invented explanation


def test_report_flag_wins_and_disagreement_is_explained() -> None:
    text = "Potassium   5.0   H   mmol/L   3.5-5.1\n"
    (lab,) = interpret_labs(text, [])
    assert lab.flag == "high"
    assert lab.explanation is not None and "printed range suggests normal" in lab.explanation


def test_entities_drive_labs_and_the_line_supplies_the_range() -> None:
    # GIVEN a Comprehend-style TEST_NAME entity (no range attribute) WHEN interpreted THEN the range comes
    # from the rest of the line
    text = "Glucose: 130 mg/dL (ref 70-99)"
    entity = {
        "Id": 0, "BeginOffset": 0, "EndOffset": 7, "Score": 0.9, "Text": "Glucose",
        "Category": "TEST_TREATMENT_PROCEDURE", "Type": "TEST_NAME", "Traits": [],
        "Attributes": [
            {"Type": "TEST_VALUE", "Score": 0.9, "Id": 1, "BeginOffset": 9, "EndOffset": 12, "Text": "130",
             "Traits": []},
            {"Type": "TEST_UNIT", "Score": 0.9, "Id": 2, "BeginOffset": 13, "EndOffset": 18, "Text": "mg/dL",
             "Traits": []},
        ],
    }  # fmt: skip
    (lab,) = interpret_labs(text, [entity])
    assert (lab.name, lab.value, lab.unit, lab.flag) == ("Glucose", "130", "mg/dL", "high")
    assert lab.reference_range is not None and (lab.reference_range.low, lab.reference_range.high) == (70, 99)


def test_a_result_repeated_in_two_sections_is_listed_once() -> None:
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
    from healthchat.domain.labs import interpret_labs

    text = (
        "HPI: Her hemoglobin A1c is 7.2%.\n"
        "Assessment: Diabetes, not at goal (A1c 7.2%).\n"
        "Potassium 5.4 mmol/L.\n"
    )
    labs = interpret_labs(text, LocalMedicalExtractor().detect_entities(text).entities)
    assert [(lab.name, lab.value) for lab in labs].count(("Hemoglobin A1c", "7.2")) == 1
    assert any(lab.name == "Potassium" for lab in labs)
