"""Tips from lab flags, conditions, medications, blood pressure and tobacco use (data/tips.json).

Order: urgent red-flag notices first, then tips, then the not-medical-advice notice. Tips never give
dosing advice; each names a public source. Red-flag thresholds are checked only when the unit is known
to match or converts (a glucose in mmol/L is converted, never read as mg/dL; no unit and several in use:
no guess).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from healthchat.data_files import data_json
from healthchat.domain.labs import lookup_test
from healthchat.domain.models import Condition, LabResult, Medication, Tip
from healthchat.domain.vitals import blood_pressures, current_tobacco_use

BP_HIGH = (130, 80)  # ACC/AHA 2017: stage 1 hypertension starts at 130/80


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data: dict[str, Any] = data_json("tips.json")
    return data


def notice_text() -> str:
    """The short not-medical-advice notice every result carries."""
    return str(_data()["notice"]["text"])


def _canonical(name: str) -> str:
    test = lookup_test(name)
    return test.name if test else name


def _number(value: str) -> float | None:
    m = re.fullmatch(r"\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*", value)
    return float(m.group(1).replace(",", "")) if m else None


def _in_rule_units(lab: LabResult, rule: dict[str, Any]) -> float | None:
    """The lab value in the rule's unit, or None when the unit does not match and does not convert."""
    x = _number(lab.value)
    if x is None:
        return None
    unit = (lab.unit or "").strip().lower()
    units = {u.lower() for u in rule["units"]}
    convert = {u.lower(): float(f) for u, f in (rule.get("convert") or {}).items()}
    if unit in units:
        return x
    if unit in convert:
        return x * convert[unit]
    if not unit and len(units) == 1 and not convert:
        return x  # a single unit is in use for this test (e.g. INR has none): nothing to confuse
    return None


def _red_flag(lab: LabResult, rule: dict[str, Any]) -> bool:
    if _canonical(lab.name) != rule["lab"]:
        return False
    x = _in_rule_units(lab, rule)
    if x is None:
        return False
    limit = float(rule["value"])
    return x > limit if rule["op"] == ">" else x < limit


def _urgent(labs: Sequence[LabResult], text: str) -> list[Tip]:
    data = _data()
    template = data["urgent"]
    out: list[Tip] = []
    for lab in labs:
        if any(_red_flag(lab, rule) for rule in data["red_flags"]):
            unit = f" {lab.unit}" if lab.unit and lab.unit != "%" else (lab.unit or "")
            fields = {"name": lab.name, "value": lab.value, "unit": unit}
            out.append(
                Tip(
                    text=template["text"].format(**fields),
                    reason=template["reason"].format(**fields),
                    source=template["source"],
                    kind="urgent",
                )
            )
    bp = data["urgent_bp"]
    for reading in blood_pressures(text):
        if reading.systolic >= bp["systolic"] or reading.diastolic >= bp["diastolic"]:
            out.append(
                Tip(text=bp["text"].format(reading=reading.reading), reason=bp["reason"], source=bp["source"],
                    kind="urgent")
            )  # fmt: skip
            break
    return out


def _matches(trigger: dict[str, Any], facts: dict[str, Any]) -> bool:
    if "lab" in trigger:
        return any(_canonical(x.name) == trigger["lab"] and x.flag == trigger["flag"] for x in facts["labs"])
    if "condition" in trigger:
        return any(c.lower() in facts["conditions"] for c in trigger["condition"])
    if "medication" in trigger:
        return any(m.lower() in facts["medications"] for m in trigger["medication"])
    if "vital" in trigger:
        return trigger["vital"] in facts["vitals"]
    if "social" in trigger:
        return trigger["social"] in facts["social"]
    return False


def suggest_tips(
    labs: Sequence[LabResult],
    conditions: Sequence[Condition],
    medications: Sequence[Medication],
    text: str = "",
    entities: Iterable[dict[str, Any]] = (),
) -> list[Tip]:
    """Urgent red-flag notices, then tips for flagged labs, conditions, medications, blood pressure and
    tobacco use, then the notice."""
    data = _data()
    vitals = set()
    if any(r.systolic >= BP_HIGH[0] or r.diastolic >= BP_HIGH[1] for r in blood_pressures(text)):
        vitals.add("blood_pressure_high")
    facts = {
        "labs": labs,
        "conditions": {c.name.lower() for c in conditions if not c.negated},
        "medications": {m.name.lower() for m in medications},
        "vitals": vitals,
        "social": {"tobacco"} if current_tobacco_use(text, entities) else set(),
    }
    tips = _urgent(labs, text)
    seen: set[str] = set()
    for entry in data["tips"]:
        if entry["text"] in seen or not _matches(entry["trigger"], facts):
            continue
        seen.add(entry["text"])
        tips.append(Tip(text=entry["text"], reason=entry["reason"], source=entry["source"], kind="tip"))
    notice = data["notice"]
    tips.append(Tip(text=notice["text"], reason=notice["reason"], source=notice["source"], kind="notice"))
    return tips
