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


def test_report_flag_wins_and_disagreement_is_explained_in_flag_note() -> None:
    text = "Potassium   5.0   H   mmol/L   3.5-5.1\n"
    (lab,) = interpret_labs(text, [])
    assert (lab.flag, lab.report_flag) == ("high", "H")
    assert lab.flag_note is not None and "printed range suggests normal" in lab.flag_note
    assert lab.explanation == lookup_test("Potassium").explanation  # type: ignore[union-attr]


def test_printed_range_is_the_reports_and_needs_no_note() -> None:
    (lab,) = interpret_labs("Potassium   5.4   H   mmol/L   3.5 - 5.1\n", [])
    assert lab.reference_range is not None and lab.reference_range.source == "report"
    assert lab.reference_range.citation is None
    assert (lab.flag, lab.report_flag, lab.flag_note) == ("high", "H", None)


def test_no_printed_range_uses_the_typical_range_and_says_so() -> None:
    # GIVEN a row with no printed range WHEN interpreted THEN the typical adult range is used, cited and noted
    (lab,) = interpret_labs("Glucose   142   mg/dL\n", [])
    assert lab.flag == "high" and lab.report_flag is None
    rng = lab.reference_range
    assert rng is not None and (rng.low, rng.high, rng.text, rng.source) == (70, 99, "70-99", "typical")
    assert rng.citation and "American Diabetes Association" in rng.citation
    assert lab.flag_note and lab.flag_note.startswith(
        "Flag based on a typical adult range, not one printed on this report."
    )


def test_report_flag_against_a_typical_range() -> None:
    agree, disagree = interpret_labs("Potassium  5.6  H  mmol/L\nSodium  140  L  mmol/L\n", [])
    assert (agree.flag, agree.report_flag) == ("high", "H")
    assert (
        agree.flag_note and "laboratory's own" in agree.flag_note and "typical adult range" in agree.flag_note
    )
    assert (disagree.flag, disagree.report_flag) == ("low", "L")  # the lab's flag is kept
    assert disagree.flag_note and "a typical adult range suggests normal" in disagree.flag_note


def test_abnormal_marker_takes_the_computed_direction() -> None:
    (lab,) = interpret_labs("LDL Cholesterol   162  A  mg/dL   <100\n", [])
    assert (lab.flag, lab.report_flag, lab.flag_note) == ("high", "A", None)


@pytest.mark.parametrize(
    ("row", "name", "unit", "flag"),
    [
        ("HbAlc   6.1   %", "Hemoglobin A1c", "%", "high"),
        ("TSH   2.1   ulU/mL", "TSH", "uIU/mL", "normal"),
        ("TSH   5.1   uIU/ml", "TSH", "uIU/mL", "high"),
        ("Glucose   130   mg/di", "Glucose", "mg/dL", "high"),
        ("LDL   130   mgldL", "LDL Cholesterol", "mg/dL", "high"),
        ("Cholesterol   5.9   mm0l/L", "Total Cholesterol", "mmol/L", "high"),
        ("Glucose   5.5   mmo1/L", "Glucose", "mmol/L", "normal"),
        ("WBC   12.3   x10E9/L", "White Blood Cell Count", "x10^9/L", "high"),
        ("Platelets   140   10^3/uL", "Platelets", "x10^3/uL", "low"),
        ("Creatinine   150   µmol/L", "Creatinine", "umol/L", "high"),
    ],
)
def test_ocr_variants_in_names_and_units(row: str, name: str, unit: str, flag: str) -> None:
    (lab,) = interpret_labs(row + "\n", [])
    assert (lab.name, lab.unit, lab.flag) == (name, unit, flag)


def test_prose_mentions_in_mmol_per_litre() -> None:
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

    text = "Her fasting glucose was 7.8 mmol/L today; last month glucose was 5.5 mmol/L.\n"
    labs = interpret_labs(text, LocalMedicalExtractor().detect_entities(text).entities)
    assert [(lab.value, lab.unit, lab.flag) for lab in labs] == [
        ("7.8", "mmol/L", "high"),
        ("5.5", "mmol/L", "normal"),
    ]


def test_a_number_without_a_unit_is_not_guessed() -> None:
    (lab,) = interpret_labs("Glucose   130\n", [])
    assert lab.flag == "unknown" and lab.reference_range is None
    assert lab.flag_note and "not flagged" in lab.flag_note


def test_urinalysis_rows() -> None:
    # GIVEN a dipstick table without printed ranges, where blood-test names stand for the urine tests
    text = (
        "URINALYSIS\n"
        "Specific Gravity   1.020\n"
        "pH, Urine   6.0\n"
        "Protein   Trace\n"
        "Glucose   Negative\n"
        "Ketones   1+\n"
        "Blood, Urine   Neg\n"
        "Leukocyte Esterase   Small\n"
        "Nitrite   Positive\n"
        "Platelets: Large clumps seen\n"
    )
    labs = {lab.name: lab for lab in interpret_labs(text, [])}
    assert {name: lab.flag for name, lab in labs.items()} == {
        "Urine Specific Gravity": "normal",
        "Urine pH": "normal",
        "Urine Protein": "abnormal",
        "Urine Glucose": "normal",
        "Urine Ketones": "abnormal",
        "Urine Blood": "normal",
        "Urine Leukocyte Esterase": "abnormal",
        "Urine Nitrite": "abnormal",
    }  # and "Large clumps" is a comment, not a platelet result
    assert labs["Urine Protein"].reference_range is not None
    assert labs["Urine Protein"].reference_range.text == "Negative"
    assert labs["Urine Glucose"].explanation and "urine" in labs["Urine Glucose"].explanation


def test_differential_percent_and_absolute_rows() -> None:
    text = "Neutrophils   72   %\nNeutrophils, Absolute   3.9   K/uL\n"
    pct, absolute = interpret_labs(text, [])
    assert (pct.name, pct.flag) == ("Neutrophils", "high")
    assert (absolute.name, absolute.unit, absolute.flag) == ("Neutrophils", "x10^3/uL", "normal")


def test_labelled_sex_picks_the_sex_specific_range() -> None:
    row = "Hemoglobin   13.0   g/dL\n"
    (unknown,) = interpret_labs(row, [])
    assert unknown.flag == "normal" and unknown.flag_note and "low for men" in unknown.flag_note
    (man,) = interpret_labs("Patient: John Example   DOB: 07/14/1962 (M)\n" + row, [])
    assert man.flag == "low" and man.flag_note and "for men" in man.flag_note
    (woman,) = interpret_labs(row, [], sex="female")
    assert woman.flag == "normal"


def test_the_printed_range_wins_over_an_earlier_typical_one() -> None:
    text = "Assessment: potassium 5.4 mmol/L.\n\nPotassium   5.4   H   mmol/L   3.5-5.1\n"
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

    labs = interpret_labs(text, LocalMedicalExtractor().detect_entities(text).entities)
    (lab,) = [x for x in labs if x.name == "Potassium"]
    assert lab.reference_range is not None and lab.reference_range.source == "report"


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


def test_report_flag_without_a_comparable_range_is_kept_without_a_note() -> None:
    (lab,) = interpret_labs("Glucose   130   H\n", [])  # no unit: we cannot compare, the lab could
    assert (lab.flag, lab.report_flag, lab.flag_note, lab.reference_range) == ("high", "H", None, None)


def test_report_layouts_range_before_unit_cumulative_column_and_one_letter_names() -> None:
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

    text = (
        "Sodium 146 H 134-144 mEq/L\n"  # range printed before the unit
        "White Blood Cells 11.2 High 12.4 High 10^9/L 4.0-11.0\n"  # an earlier result and its flag
        "K 5.4 H mmol/L 3.5 to 5.3\n"  # one-letter name
    )
    labs = {
        lab.name: lab for lab in interpret_labs(text, LocalMedicalExtractor().detect_entities(text).entities)
    }
    sodium, wbc, potassium = labs["Sodium"], labs["White Blood Cell Count"], labs["Potassium"]
    assert sodium.reference_range is not None and sodium.reference_range.text == "134-144"
    assert (sodium.unit, sodium.flag) == ("mEq/L", "high")
    assert (wbc.value, wbc.unit, wbc.report_flag, wbc.flag) == ("11.2", "x10^9/L", "High", "high")
    assert wbc.reference_range is not None and wbc.reference_range.source == "report"
    assert (potassium.value, potassium.flag) == ("5.4", "high")


def test_cumulative_columns_keep_this_results_flag_and_the_last_printed_range() -> None:
    text = (
        "Glucose, Serum   4.7   3.6 Low   mmol/L   3.9-5.5\n"
        "Estimated GFR   41 Low   >90   mL/min/1.73m2   >= 60\n"
    )
    glucose, egfr = interpret_labs(text, [])
    assert (glucose.flag, glucose.report_flag, glucose.reference_range.text) == ("normal", None, "3.9-5.5")  # type: ignore[union-attr]
    assert (egfr.flag, egfr.report_flag, egfr.reference_range.text) == ("low", "Low", ">= 60")  # type: ignore[union-attr]


def test_ocr_spellings_of_count_units_and_micro_read_as_p() -> None:
    text = (
        "RBC   4.28   x10%12/L   4.20 to 5.40\n"
        "White Blood Cells   11.2   High   1069/L   4.0-11.0\n"
        "Creatinine   69   pmol/L   53-106\n"
        "Vitamin B12   350   pmol/L   148-616\n"
        "Albumin   5.5   H   g/daL   3.5-5.0\n"
    )
    units = [lab.unit for lab in interpret_labs(text, [])]
    assert units == ["x10^12/L", "x10^9/L", "umol/L", "pmol/L", "g/dL"]


def test_a_bare_ph_row_is_urine_ph_under_a_urinalysis_heading_only() -> None:
    ua = interpret_labs("URINALYSIS\nSpecific Gravity   1.020   1.005-1.030\npH   8.6   H   5.0-8.0\n", [])
    gas = interpret_labs("ARTERIAL BLOOD GAS\npH   7.31   L   7.35-7.45\n", [])
    assert [lab.name for lab in ua][-1] == "Urine pH"
    assert [lab.name for lab in gas] == ["pH"]


def test_a_test_name_may_start_with_a_digit() -> None:
    (vit_d,) = interpret_labs("25-OH Vitamin D   114   75-250   nmol/L\n", [])
    assert (vit_d.name, vit_d.value, vit_d.unit, vit_d.flag) == (
        "Vitamin D, 25-Hydroxy",
        "114",
        "nmol/L",
        "normal",
    )
    assert interpret_labs("2. Hypertension   5   years\n", []) == []


def test_cumulative_word_results_are_neither_units_nor_flag_owners() -> None:
    text = (
        "URINALYSIS\nUrine Glucose   Negative   Trace A   Negative\n"
        "Ketones   Trace   A   Negative   Negative\n"
    )
    glucose, ketones = interpret_labs(text, [])
    assert (glucose.unit, glucose.report_flag, glucose.flag) == (None, None, "normal")
    assert (ketones.unit, ketones.report_flag, ketones.flag) == (None, "A", "abnormal")


def test_more_ocr_unit_spellings() -> None:
    text = (
        "RBC   3.57   x10°12/L   3.80-5.10\nSerum Iron   54   meg/dL   60 to 170\n"
        "K   4.7   mnol/L   3.5-5.1\n"
    )
    assert [lab.unit for lab in interpret_labs(text, [])] == ["x10^12/L", "ug/dL", "mmol/L"]


def test_in_prose_each_result_keeps_its_own_range() -> None:
    text = "Hemoglobin A1c 8.1 % (ref 4.0-5.6). LDL cholesterol 162 mg/dL (ref <100).\n"
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

    a1c, ldl = interpret_labs(text, LocalMedicalExtractor().detect_entities(text).entities)
    assert (a1c.reference_range.text, a1c.flag) == ("4.0-5.6", "high")  # type: ignore[union-attr]
    assert (ldl.reference_range.text, ldl.flag) == ("<100", "high")  # type: ignore[union-attr]
