"""Ground truth of the generated sample lab reports: every lab row exactly as make_samples.py prints it.

Tests and benchmarks score lab extraction against :func:`expected_labs`; make_samples.py draws its
tables from the same rows, so the truth and the documents cannot drift apart. All people are fictional.
"""

from __future__ import annotations

from typing import NamedTuple


class ExpectedLab(NamedTuple):
    """One lab row. ``flag`` uses DocumentResult's vocabulary (low|normal|high); ``printed_flag`` is the
    letter in the Flag column ("H", "L" or "")."""

    name: str
    value: str
    unit: str
    range_text: str
    flag: str

    @property
    def printed_flag(self) -> str:
        return {"high": "H", "low": "L"}.get(self.flag, "")


def _rows(*rows: tuple[str, str, str, str, str]) -> list[ExpectedLab]:
    return [ExpectedLab(*row) for row in rows]


# lab_report.pdf: text-layer PDF; panels in print order.
LAB_REPORT_PANELS: dict[str, list[ExpectedLab]] = {
    "COMPLETE BLOOD COUNT (CBC)": _rows(
        ("WBC", "6.8", "K/uL", "4.0-11.0", "normal"),
        ("RBC", "4.05", "M/uL", "4.20-5.40", "low"),
        ("Hemoglobin", "11.2", "g/dL", "12.0-15.5", "low"),
        ("Hematocrit", "34.1", "%", "36.0-46.0", "low"),
        ("MCV", "84", "fL", "80-100", "normal"),
        ("Platelets", "250", "K/uL", "150-400", "normal"),
    ),
    "COMPREHENSIVE METABOLIC PANEL (CMP)": _rows(
        ("Glucose", "142", "mg/dL", "70-99", "high"),
        ("BUN", "18", "mg/dL", "7-20", "normal"),
        ("Creatinine", "0.9", "mg/dL", "0.6-1.1", "normal"),
        ("eGFR", "78", "mL/min/1.73m2", ">= 60", "normal"),
        ("Sodium", "139", "mmol/L", "136-145", "normal"),
        ("Potassium", "5.4", "mmol/L", "3.5 - 5.1", "high"),
        ("Chloride", "101", "mmol/L", "98-107", "normal"),
        ("CO2", "24", "mmol/L", "22-29", "normal"),
        ("Calcium", "9.4", "mg/dL", "8.6-10.3", "normal"),
        ("ALT", "52", "U/L", "7-35", "high"),
        ("AST", "30", "U/L", "10-40", "normal"),
    ),
    "LIPID PANEL": _rows(
        ("Total Cholesterol", "232", "mg/dL", "<200", "high"),
        ("LDL Cholesterol", "155", "mg/dL", "<100", "high"),
        ("HDL Cholesterol", "38", "mg/dL", ">= 40", "low"),
        ("Triglycerides", "190", "mg/dL", "<150", "high"),
    ),
    "HEMOGLOBIN A1C": _rows(
        ("Hemoglobin A1c", "7.2", "%", "4.0-5.6", "high"),
    ),
}

# lab_report_scan.png / lab_report_scan.pdf: a different report, printed then "scanned".
SCAN_REPORT_PANELS: dict[str, list[ExpectedLab]] = {
    "THYROID PANEL": _rows(
        ("TSH", "6.8", "uIU/mL", "0.4-4.0", "high"),
        ("Free T4", "0.9", "ng/dL", "0.8-1.8", "normal"),
    ),
    "IRON STUDIES": _rows(
        ("Iron", "45", "ug/dL", "60-170", "low"),
        ("Ferritin", "12", "ng/mL", "15-150", "low"),
        ("Hemoglobin", "10.9", "g/dL", "12.0-15.5", "low"),
    ),
    "VITAMINS AND MINERALS": _rows(
        ("Vitamin D, 25-OH", "18", "ng/mL", "30-100", "low"),
        ("Vitamin B12", "420", "pg/mL", "200-900", "normal"),
        ("Magnesium", "2.0", "mg/dL", "1.7 - 2.2", "normal"),
    ),
    "INFLAMMATION": _rows(
        ("C-Reactive Protein", "0.3", "mg/dL", "<0.5", "normal"),
    ),
}


def expected_labs() -> dict[str, list[ExpectedLab]]:
    """Sample file name -> its lab rows in print order (the scan's PNG and PDF share one truth)."""
    lab = [row for rows in LAB_REPORT_PANELS.values() for row in rows]
    scan = [row for rows in SCAN_REPORT_PANELS.values() for row in rows]
    return {"lab_report.pdf": lab, "lab_report_scan.png": scan, "lab_report_scan.pdf": list(scan)}
