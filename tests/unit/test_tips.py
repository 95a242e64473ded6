"""suggest_tips: urgent red flags first, lab/condition/medication tips, notice always last."""

from __future__ import annotations

import json
import re
from importlib import resources

from healthchat.domain.models import Condition, LabResult, Medication
from healthchat.domain.tips import suggest_tips


def _lab(name: str, value: str, unit: str | None, flag: str = "unknown") -> LabResult:
    return LabResult(name=name, value=value, unit=unit, flag=flag, begin_offset=0, end_offset=1)  # type: ignore[arg-type]


def test_notice_is_always_last() -> None:
    tips = suggest_tips([], [], [])
    assert len(tips) == 1 and tips[0].text.startswith("This is not medical advice")


def test_red_flag_values_put_an_urgent_tip_first() -> None:
    for lab in (
        _lab("Potassium", "6.4", "mmol/L", "high"),
        _lab("Glucose", "48", "mg/dL", "low"),
        _lab("Glucose", "450", "mg/dL", "high"),
        _lab("Sodium", "118", "mmol/L", "low"),
        _lab("Hemoglobin", "6.5", "g/dL", "low"),
        _lab("Glucose", "2.5", "mmol/L", "low"),  # 45 mg/dL
    ):
        tips = suggest_tips([lab], [], [])
        assert tips[0].text.startswith("Contact your clinician now"), lab
        assert lab.value in tips[0].text
        assert tips[-1].text.startswith("This is not medical advice")


def test_no_urgent_tip_near_but_inside_the_limits_or_with_an_unknown_unit() -> None:
    for lab in (
        _lab("Potassium", "6.0", "mmol/L", "high"),
        _lab("Glucose", "54", "mg/dL", "low"),
        _lab("Glucose", "5.5", None, "normal"),  # mmol/L or mg/dL? do not guess
        _lab("Glucose", "30", "mmol/L", "high"),  # 540 mg/dL -> urgent (converted)
    ):
        tips = suggest_tips([lab], [], [])
        urgent = tips[0].text.startswith("Contact your clinician now")
        assert urgent == (lab.value == "30"), lab


def test_lab_condition_and_medication_tips_name_a_source() -> None:
    tips = suggest_tips(
        [_lab("LDL", "162", "mg/dL", "high"), _lab("Hemoglobin A1c", "7.2", "%", "high")],
        [Condition(name="Type 2 diabetes", begin_offset=0, end_offset=1),
         Condition(name="hypertension", negated=True, begin_offset=0, end_offset=1)],
        [Medication(name="warfarin", begin_offset=0, end_offset=1)],
    )  # fmt: skip
    reasons = [t.reason for t in tips]
    assert "Your LDL cholesterol is above the reference range." in reasons
    assert "Your A1c is above the reference range." in reasons
    assert "Diabetes is mentioned in your document." in reasons
    assert "High blood pressure is mentioned in your document." not in reasons  # negated
    assert "Warfarin is listed in your document." in reasons
    assert all(t.source for t in tips)


def test_tip_table_gives_no_dosing_advice() -> None:
    data = json.loads(resources.files("healthchat").joinpath("data", "tips.json").read_text())
    for tip in data["tips"]:
        assert not re.search(r"(?<![A-Za-z0-9])\d", tip["text"]), tip  # no standalone numbers
        assert not re.search(r"\b(?:mg|dose|dosage|double|increase your|stop taking)\b", tip["text"], re.I), (
            tip
        )


def test_every_tip_has_a_kind_urgent_first_notice_last() -> None:
    tips = suggest_tips([_lab("Potassium", "6.4", "mmol/L", "high")], [], [])
    assert [t.kind for t in tips] == ["urgent", "tip", "notice"]


def test_more_red_flags_with_unit_conversion() -> None:
    urgent = {
        ("Potassium", "2.3", "mmol/L"): True,
        ("Sodium", "163", "mmol/L"): True,
        ("Hemoglobin", "65", "g/L"): True,  # 6.5 g/dL
        ("Hemoglobin", "75", "g/L"): False,
        ("Platelets", "12", "x10^9/L"): True,
        ("Platelets", "25", "x10^3/uL"): False,
        ("INR", "6.1", None): True,
        ("Calcium", "3.5", "mmol/L"): True,  # 14 mg/dL
        ("Calcium", "2.4", "mmol/L"): False,
    }
    for (name, value, unit), expected in urgent.items():
        tips = suggest_tips([_lab(name, value, unit)], [], [])
        assert (tips[0].kind == "urgent") == expected, (name, value, unit)


def test_blood_pressure_readings_give_a_tip_and_a_crisis_reading_an_urgent_notice() -> None:
    assert not any(t.reason.startswith("A blood pressure") for t in suggest_tips([], [], [], "BP 118/76."))
    high = suggest_tips([], [], [], "Vitals: BP 148/92, HR 80.")
    assert [t.kind for t in high] == ["tip", "notice"]
    assert high[0].source.startswith("2017 ACC/AHA")
    crisis = suggest_tips([], [], [], "Blood pressure: 186/124 mmHg")
    assert crisis[0].kind == "urgent" and "186/124" in crisis[0].text


def test_tobacco_tip_only_for_current_use() -> None:
    def shown(text: str) -> bool:
        return any(
            t.reason == "Your document mentions current tobacco use." for t in suggest_tips([], [], [], text)
        )

    assert shown("Social history: current smoker, 1 ppd.")
    assert shown("She smokes cigarettes daily.")
    assert not shown("Denies tobacco, alcohol or drugs.")
    assert not shown("Former smoker, quit years ago.")
    assert not shown("Never smoker.")


def test_tips_are_written_with_sources_and_no_stop_your_medication() -> None:
    data = json.loads(resources.files("healthchat").joinpath("data", "tips.json").read_text())
    assert len(data["tips"]) >= 30
    for tip in data["tips"]:
        assert tip["source"] and tip["reason"]
        assert not re.search(r"\bstop (?:your|taking)\b|\bdiscontinue\b", tip["text"], re.I), tip
