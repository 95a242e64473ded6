"""The lab-report generator behind benchmarks/content/labs_bench.py: deterministic per seed, gold rows that
match the rendered text layer, both unit systems, and gold names that lab_tests.json knows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "content"))
import lab_reports  # noqa: E402
from lab_catalog import TESTS  # noqa: E402

from healthchat.ports import OcrEngine  # noqa: E402
from healthchat.stages.text_extraction import extract_text  # noqa: E402

SEEDS = range(1001, 1015)  # 14 consecutive seeds: every layout in both unit systems


def _never_ocr() -> OcrEngine:
    raise AssertionError("a text-layer PDF must not need OCR")


def test_same_seed_same_report_and_pdf_bytes() -> None:
    # GIVEN one seed generated twice WHEN rendered THEN report and PDF bytes are identical
    a, b = lab_reports.generate(1003), lab_reports.generate(1003)
    assert a == b
    assert lab_reports.render_pdf(a) == lab_reports.render_pdf(b)
    # AND another seed gives another report
    assert lab_reports.generate(1004).rows != a.rows


def test_gold_rows_are_on_their_lines_of_the_text_layer() -> None:
    for report in map(lab_reports.generate, SEEDS):
        # WHEN the PDF's text layer is extracted as the pipeline does
        text = extract_text(lab_reports.render_pdf(report), "application/pdf", _never_ocr).text
        lines = [" ".join(line.split()) for line in text.splitlines()]
        for row in report.rows:
            # THEN each gold row's line starts with its printed name and carries value, unit and range
            line = next(x for x in lines if x.startswith(f"{row.printed_name} {row.value}"))
            for part in (row.unit, row.range_text):
                if part:
                    assert " ".join(part.split()) in line, (report.seed, row, line)


def test_both_unit_systems_and_all_layouts_occur() -> None:
    reports = [lab_reports.generate(s) for s in SEEDS]
    assert {r.system for r in reports} == {"US", "SI"}
    assert {r.layout for r in reports} == set(lab_reports.LAYOUTS)
    units = {row.unit for r in reports for row in r.rows}
    assert {"mmol/L", "g/L"} & units and {"mg/dL", "g/dL"} & units
    # AND rows without a printed range, abnormal flags and qualitative results all occur
    rows = [row for r in reports for row in r.rows]
    assert any(row.range_text is None for row in rows)
    assert {"low", "normal", "high", "abnormal"} <= {row.flag for row in rows}


def test_gold_flags_agree_with_printed_ranges_and_flags() -> None:
    for report in map(lab_reports.generate, SEEDS):
        for row in report.rows:
            if row.printed_flag:
                assert row.flag == {"H": "high", "High": "high", "L": "low", "Low": "low"}.get(
                    row.printed_flag, "abnormal"
                )
            if row.range_text and row.value[0].isdigit() and row.range_text[0].isdigit():
                lo, _, hi = row.range_text.replace(" to ", "-").replace(" ", "").partition("-")
                inside = float(lo) <= float(row.value) <= float(hi)
                assert (row.flag == "normal") == inside, row


def test_gold_names_are_lab_tests_json_names() -> None:
    data = json.loads((ROOT / "functions/healthchat/data/lab_tests.json").read_text(encoding="utf-8"))
    known = {t["name"] for t in data["tests"]}
    assert {t.canonical for t in TESTS.values() if t.canonical} <= known
