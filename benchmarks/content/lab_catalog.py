"""The lab tests the report generator prints: names, US and SI units, printed range variants, and an
independent table of typical adult ranges for rows printed without one.

Written by hand from general clinical-laboratory knowledge (common US reference-lab and UK/EU report
conventions), deliberately not read from ``healthchat/data``: the benchmark checks the shipped tables
(lab_tests.json names and aliases, lab_ranges.json typical ranges) against this one. ``canonical`` is the
lab_tests.json name of a test; a test that file does not know (urea, as UK/EU reports print it) has
``canonical=None`` and its gold name is the name as printed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """A reference range with its numbers as printed: two-sided, one-sided (``<``/``>=``...) or
    qualitative. ``lo_incl``/``hi_incl`` say whether the bound itself is inside the range."""

    lo: str | None = None
    hi: str | None = None
    lo_incl: bool = True
    hi_incl: bool = True
    qual: str | None = None


def between(lo: str, hi: str) -> Range:
    return Range(lo, hi)


def below(hi: str, inclusive: bool = False) -> Range:
    return Range(hi=hi, hi_incl=inclusive)


def above(lo: str, inclusive: bool = True) -> Range:
    return Range(lo=lo, lo_incl=inclusive)


NEGATIVE = Range(qual="Negative")


@dataclass(frozen=True)
class UnitSpec:
    """How one unit system prints a test: unit spellings (None: no unit), value decimals, printed
    range alternatives (labs differ), and the typical adult range that decides the gold flag of a row
    printed without a range (only tests lab_tests.json knows get such rows; None: always printed with
    its range, because typical ranges vary too much by sex, age or laboratory)."""

    units: tuple[str | None, ...]
    decimals: int
    ranges: tuple[Range, ...]
    typical: Range | None = None


@dataclass(frozen=True)
class TestSpec:
    key: str
    canonical: str | None
    names: tuple[str, ...]
    us: UnitSpec | None
    si: UnitSpec | None
    low_ok: bool = True  # a low result is clinically meaningful (not for bilirubin, A1c, lipids but HDL)
    qualitative: bool = False


def _same(spec: UnitSpec) -> tuple[UnitSpec, UnitSpec]:
    return spec, spec


_K_UL = ("K/uL", "x10^3/uL", "x10E3/uL")
_G_L = ("x10^9/L", "10^9/L")
_U_L = UnitSpec(("U/L",), 0, ())


def _enzyme(ranges: tuple[Range, ...], typical: Range | None) -> UnitSpec:
    return UnitSpec(_U_L.units, 0, ranges, typical)


TESTS: dict[str, TestSpec] = {
    t.key: t
    for t in (
        # complete blood count
        TestSpec(
            "wbc",
            "White Blood Cell Count",
            ("WBC", "White Blood Cells", "WBC Count"),
            UnitSpec(_K_UL, 1, (between("4.0", "11.0"), between("3.4", "10.8")), between("4.0", "11.0")),
            UnitSpec(_G_L, 1, (between("4.0", "11.0"), between("3.6", "10.5")), between("4.0", "11.0")),
        ),
        TestSpec(
            "rbc",
            "Red Blood Cell Count",
            ("RBC", "Red Blood Cells", "RBC Count"),
            UnitSpec(("M/uL", "x10^6/uL"), 2, (between("4.20", "5.40"), between("4.14", "5.80"))),
            UnitSpec(("x10^12/L",), 2, (between("4.20", "5.40"), between("3.80", "5.10"))),
        ),
        TestSpec(
            "hgb",
            "Hemoglobin",
            ("Hemoglobin", "Hgb", "HGB"),
            UnitSpec(
                ("g/dL",), 1, (between("12.0", "15.5"), between("13.5", "17.5")), between("12.0", "17.0")
            ),
            UnitSpec(("g/L",), 0, (between("120", "155"), between("130", "170")), between("120", "170")),
        ),
        TestSpec(
            "hct",
            "Hematocrit",
            ("Hematocrit", "Hct", "HCT"),
            UnitSpec(("%",), 1, (between("36.0", "46.0"), between("41.0", "50.0")), between("36.0", "50.0")),
            UnitSpec(
                ("L/L",), 2, (between("0.36", "0.46"), between("0.40", "0.50")), between("0.36", "0.50")
            ),
        ),
        TestSpec(
            "mcv",
            "MCV",
            ("MCV",),
            *_same(UnitSpec(("fL",), 0, (between("80", "100"), between("79", "97")), between("80", "100"))),
        ),
        TestSpec(
            "plt",
            "Platelets",
            ("Platelets", "Platelet Count", "PLT"),
            UnitSpec(_K_UL, 0, (between("150", "400"), between("150", "450")), between("150", "400")),
            UnitSpec(_G_L, 0, (between("150", "400"), between("150", "410")), between("150", "400")),
        ),
        # chemistry
        TestSpec(
            "glucose",
            "Glucose",
            ("Glucose", "Glucose, Serum", "Fasting Glucose"),
            UnitSpec(("mg/dL",), 0, (between("70", "99"), between("65", "99")), between("70", "100")),
            UnitSpec(("mmol/L",), 1, (between("3.9", "5.5"), between("4.0", "5.9")), between("3.9", "5.6")),
        ),
        TestSpec(
            "bun",
            "Blood Urea Nitrogen",
            ("BUN", "Urea Nitrogen", "Urea Nitrogen (BUN)"),
            UnitSpec(("mg/dL",), 0, (between("7", "20"), between("6", "24")), between("7", "20")),
            None,
        ),
        TestSpec(
            "urea",
            None,
            ("Urea",),
            None,
            UnitSpec(("mmol/L",), 1, (between("2.5", "7.8"), between("2.8", "7.2")), between("2.5", "7.8")),
        ),
        TestSpec(
            "creatinine",
            "Creatinine",
            ("Creatinine", "Creatinine, Serum", "Creat"),
            UnitSpec(
                ("mg/dL",), 2, (between("0.60", "1.20"), between("0.57", "1.00")), between("0.60", "1.20")
            ),
            UnitSpec(
                ("umol/L", "µmol/L"), 0, (between("53", "106"), between("45", "90")), between("53", "106")
            ),
        ),
        TestSpec(
            "egfr",
            "eGFR",
            ("eGFR", "Estimated GFR", "eGFR (CKD-EPI)"),
            *_same(UnitSpec(("mL/min/1.73m2",), 0, (above("60"), above("59", inclusive=False)), above("60"))),
            low_ok=True,
        ),
        TestSpec(
            "sodium",
            "Sodium",
            ("Sodium", "Na"),
            UnitSpec(
                ("mmol/L", "mEq/L"), 0, (between("136", "145"), between("134", "144")), between("135", "145")
            ),
            UnitSpec(("mmol/L",), 0, (between("135", "145"), between("133", "146")), between("135", "145")),
        ),
        TestSpec(
            "potassium",
            "Potassium",
            ("Potassium", "K"),
            UnitSpec(
                ("mmol/L", "mEq/L"), 1, (between("3.5", "5.1"), between("3.5", "5.3")), between("3.5", "5.1")
            ),
            UnitSpec(("mmol/L",), 1, (between("3.5", "5.3"), between("3.5", "5.1")), between("3.5", "5.1")),
        ),
        TestSpec(
            "chloride",
            "Chloride",
            ("Chloride", "Cl"),
            *_same(
                UnitSpec(("mmol/L",), 0, (between("98", "107"), between("96", "106")), between("98", "107"))
            ),
        ),
        TestSpec(
            "co2",
            "Carbon Dioxide",
            ("CO2", "Carbon Dioxide", "Bicarbonate"),
            *_same(UnitSpec(("mmol/L",), 0, (between("22", "29"), between("20", "29")), between("22", "29"))),
        ),
        TestSpec(
            "calcium",
            "Calcium",
            ("Calcium", "Ca"),
            UnitSpec(("mg/dL",), 1, (between("8.6", "10.3"), between("8.7", "10.2")), between("8.6", "10.3")),
            UnitSpec(
                ("mmol/L",), 2, (between("2.15", "2.55"), between("2.20", "2.60")), between("2.15", "2.55")
            ),
        ),
        TestSpec(
            "albumin",
            "Albumin",
            ("Albumin",),
            UnitSpec(("g/dL",), 1, (between("3.5", "5.0"), between("3.8", "4.9")), between("3.5", "5.0")),
            UnitSpec(("g/L",), 0, (between("35", "50"), between("38", "49")), between("35", "50")),
        ),
        TestSpec(
            "protein",
            "Total Protein",
            ("Total Protein", "Protein, Total"),
            UnitSpec(("g/dL",), 1, (between("6.0", "8.3"), between("6.4", "8.2")), between("6.0", "8.3")),
            UnitSpec(("g/L",), 0, (between("60", "80"), between("64", "83")), between("60", "83")),
        ),
        TestSpec(
            "alt",
            "ALT",
            ("ALT", "ALT (SGPT)", "Alanine Aminotransferase"),
            *_same(
                _enzyme((between("7", "56"), between("0", "44"), between("10", "40")), between("7", "50"))
            ),
        ),
        TestSpec(
            "ast",
            "AST",
            ("AST", "AST (SGOT)", "Aspartate Aminotransferase"),
            *_same(_enzyme((between("10", "40"), between("0", "40")), between("10", "40"))),
        ),
        TestSpec(
            "alp",
            "Alkaline Phosphatase",
            ("Alkaline Phosphatase", "Alk Phos", "ALP"),
            *_same(_enzyme((between("44", "147"), between("39", "117")), between("40", "130"))),
        ),
        TestSpec(
            "bili",
            "Bilirubin, Total",
            ("Total Bilirubin", "Bilirubin, Total", "Bilirubin"),
            UnitSpec(("mg/dL",), 1, (between("0.1", "1.2"), between("0.0", "1.2")), between("0.1", "1.2")),
            UnitSpec(("umol/L", "µmol/L"), 0, (between("3", "21"), between("0", "21")), between("3", "21")),
            low_ok=False,
        ),
        # lipids and A1c
        TestSpec(
            "chol",
            "Total Cholesterol",
            ("Total Cholesterol", "Cholesterol, Total", "Cholesterol"),
            UnitSpec(("mg/dL",), 0, (below("200"), between("100", "199")), below("200")),
            UnitSpec(("mmol/L",), 1, (below("5.2"), below("5.0")), below("5.2")),
            low_ok=False,
        ),
        TestSpec(
            "ldl",
            "LDL Cholesterol",
            ("LDL Cholesterol", "LDL Calc", "LDL-C", "LDL Chol Calc (NIH)"),
            UnitSpec(("mg/dL",), 0, (below("100"), between("0", "99")), below("100")),
            UnitSpec(("mmol/L",), 1, (below("3.0"), below("2.6")), below("2.6")),
            low_ok=False,
        ),
        TestSpec(
            "hdl",
            "HDL Cholesterol",
            ("HDL Cholesterol", "HDL", "HDL-C"),
            UnitSpec(("mg/dL",), 0, (above("40"), above("39", inclusive=False), above("50")), above("40")),
            UnitSpec(("mmol/L",), 2, (above("1.00", inclusive=False), above("1.20")), above("1.00")),
        ),
        TestSpec(
            "tg",
            "Triglycerides",
            ("Triglycerides", "Triglyceride", "TG"),
            UnitSpec(("mg/dL",), 0, (below("150"), between("0", "149")), below("150")),
            UnitSpec(("mmol/L",), 1, (below("1.7"), below("2.0")), below("1.7")),
            low_ok=False,
        ),
        TestSpec(
            "a1c",
            "Hemoglobin A1c",
            ("Hemoglobin A1c", "HbA1c", "Hgb A1c", "A1c"),
            UnitSpec(("%",), 1, (between("4.0", "5.6"), below("5.7"), between("4.8", "5.6")), below("5.7")),
            UnitSpec(("mmol/mol",), 0, (between("20", "38"), below("39")), below("39")),
            low_ok=False,
        ),
        # thyroid
        TestSpec(
            "tsh",
            "TSH",
            ("TSH", "Thyroid Stimulating Hormone"),
            UnitSpec(
                ("uIU/mL",), 2, (between("0.40", "4.00"), between("0.45", "4.50")), between("0.40", "4.50")
            ),
            UnitSpec(
                ("mIU/L",), 2, (between("0.27", "4.20"), between("0.40", "4.00")), between("0.40", "4.50")
            ),
        ),
        TestSpec(
            "ft4",
            "Free T4",
            ("Free T4", "T4, Free", "FT4"),
            UnitSpec(
                ("ng/dL",), 2, (between("0.82", "1.77"), between("0.80", "1.80")), between("0.80", "1.80")
            ),
            UnitSpec(
                ("pmol/L",), 1, (between("12.0", "22.0"), between("10.0", "23.0")), between("10.0", "23.0")
            ),
        ),
        # iron studies
        TestSpec(
            "iron",
            "Iron",
            ("Iron", "Iron, Serum", "Serum Iron"),
            UnitSpec(("ug/dL", "mcg/dL"), 0, (between("60", "170"), between("27", "159"))),
            UnitSpec(("umol/L", "µmol/L"), 1, (between("10.7", "30.4"), between("9.0", "30.4"))),
        ),
        TestSpec(
            "tibc",
            "TIBC",
            ("TIBC", "Total Iron Binding Capacity"),
            UnitSpec(
                ("ug/dL", "mcg/dL"), 0, (between("250", "450"), between("250", "425")), between("250", "450")
            ),
            UnitSpec(("umol/L",), 0, (between("45", "81"), between("45", "76")), between("45", "81")),
        ),
        TestSpec(
            "tsat",
            "Transferrin Saturation",
            ("Transferrin Saturation", "Iron Saturation"),
            *_same(UnitSpec(("%",), 0, (between("20", "50"), between("15", "55")), between("20", "50"))),
        ),
        TestSpec(
            "ferritin",
            "Ferritin",
            ("Ferritin",),
            UnitSpec(("ng/mL",), 0, (between("15", "150"), between("30", "400"))),
            UnitSpec(("ug/L", "µg/L"), 0, (between("15", "150"), between("30", "400"))),
        ),
        # vitamins, PSA, coagulation
        TestSpec(
            "vitd",
            "Vitamin D, 25-Hydroxy",
            ("Vitamin D, 25-Hydroxy", "25-OH Vitamin D", "Vitamin D"),
            UnitSpec(("ng/mL",), 0, (between("30", "100"), between("30.0", "100.0"))),
            UnitSpec(("nmol/L",), 0, (between("75", "250"), between("50", "175"))),
        ),
        TestSpec(
            "b12",
            "Vitamin B12",
            ("Vitamin B12", "B12", "Vit B12"),
            UnitSpec(("pg/mL",), 0, (between("200", "900"), between("232", "1245"))),
            UnitSpec(("pmol/L", "ng/L"), 0, (between("148", "664"), between("145", "637"))),
        ),
        TestSpec(
            "psa",
            "PSA",
            ("PSA", "PSA, Total", "Prostate Specific Antigen"),
            UnitSpec(
                ("ng/mL",), 2, (below("4.00", inclusive=True), between("0.00", "4.00")), below("4.00", True)
            ),
            UnitSpec(("ug/L", "µg/L"), 2, (below("4.00", inclusive=True),), below("4.00", True)),
            low_ok=False,
        ),
        TestSpec(
            "inr",
            "INR",
            ("INR", "PT/INR"),
            *_same(
                UnitSpec((None,), 1, (between("0.8", "1.2"), between("0.9", "1.1")), between("0.8", "1.2"))
            ),
            low_ok=False,
        ),
        # urinalysis (dipstick); dipstick Protein/Glucose sometimes printed without "Urine"
        TestSpec(
            "ua_sg",
            "Urine Specific Gravity",
            ("Specific Gravity",),
            *_same(UnitSpec((None,), 3, (between("1.005", "1.030"), between("1.001", "1.035")))),
            low_ok=False,
        ),
        TestSpec(
            "ua_ph",
            "Urine pH",
            ("pH", "Urine pH"),
            *_same(UnitSpec((None,), 1, (between("5.0", "8.0"), between("4.5", "8.0")))),
        ),
        TestSpec(
            "ua_protein",
            "Urine Protein",
            ("Protein, Urine", "Urine Protein", "Protein"),
            *_same(UnitSpec((None,), 0, (NEGATIVE,))),
            qualitative=True,
        ),
        TestSpec(
            "ua_glucose",
            "Urine Glucose",
            ("Glucose, Urine", "Urine Glucose", "Glucose"),
            *_same(UnitSpec((None,), 0, (NEGATIVE,))),
            qualitative=True,
        ),
        TestSpec(
            "ua_ketones",
            "Urine Ketones",
            ("Ketones",),
            *_same(UnitSpec((None,), 0, (NEGATIVE,))),
            qualitative=True,
        ),
        TestSpec(
            "ua_nitrite",
            "Urine Nitrite",
            ("Nitrite",),
            *_same(UnitSpec((None,), 0, (NEGATIVE,))),
            qualitative=True,
        ),
        TestSpec(
            "ua_le",
            "Urine Leukocyte Esterase",
            ("Leukocyte Esterase",),
            *_same(UnitSpec((None,), 0, (NEGATIVE,))),
            qualitative=True,
        ),
    )
}

_BMP = ("glucose", "bun", "urea", "creatinine", "egfr", "sodium", "potassium", "chloride", "co2", "calcium")
PANELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # panel -> (printed titles, test keys in print order; a report prints the keys its unit system has)
    "cbc": (("COMPLETE BLOOD COUNT (CBC)", "CBC", "Hematology"), ("wbc", "rbc", "hgb", "hct", "mcv", "plt")),
    "bmp": (("BASIC METABOLIC PANEL", "Basic Metabolic Panel (BMP)", "Chemistry"), _BMP),
    "cmp": (
        ("COMPREHENSIVE METABOLIC PANEL", "Comprehensive Metabolic Panel (CMP)", "Chemistry"),
        (*_BMP, "albumin", "protein", "alt", "ast", "alp", "bili"),
    ),
    "lipid": (("LIPID PANEL", "Lipid Profile", "Lipids"), ("chol", "tg", "hdl", "ldl")),
    "a1c": (("HEMOGLOBIN A1C", "Glycated Hemoglobin", "Diabetes"), ("a1c",)),
    "thyroid": (("THYROID PANEL", "Thyroid Function", "Endocrinology"), ("tsh", "ft4")),
    "iron": (("IRON STUDIES", "Iron Panel", "Iron Studies"), ("iron", "tibc", "tsat", "ferritin")),
    "vitamins": (("VITAMINS", "Vitamin Levels", "Nutrition"), ("vitd", "b12")),
    "psa": (("PROSTATE SPECIFIC ANTIGEN", "PSA Screening", "Tumor Markers"), ("psa",)),
    "coag": (("COAGULATION", "Prothrombin Time", "Coagulation"), ("inr",)),
    "ua": (
        ("URINALYSIS", "Urinalysis, Dipstick", "Urine Chemistry"),
        ("ua_sg", "ua_ph", "ua_protein", "ua_glucose", "ua_ketones", "ua_nitrite", "ua_le"),
    ),
}
