"""Tips from lab flags, conditions and medications (data/tips.json): urgent red flags first, notice last.

Tips never give dosing advice; each names a public source. Red-flag thresholds are checked only when
the unit is known to match (or cannot differ), so a glucose in mmol/L is never read as mg/dL.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from healthchat.data_files import data_json
from healthchat.domain.labs import lookup_test
from healthchat.domain.models import Condition, LabResult, Medication, Tip


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data: dict[str, Any] = data_json("tips.json")
    return data


def _canonical(name: str) -> str:
    test = lookup_test(name)
    return test.name if test else name


def _number(value: str) -> float | None:
    m = re.fullmatch(r"\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*", value)
    return float(m.group(1).replace(",", "")) if m else None


def _red_flag(lab: LabResult, rule: dict[str, Any]) -> bool:
    if _canonical(lab.name) != rule["lab"]:
        return False
    x = _number(lab.value)
    if x is None:
        return False
    unit = (lab.unit or "").strip()
    if unit.lower() == "mmol/l" and "mmol_factor" in rule:
        x *= float(rule["mmol_factor"])
    elif unit:
        if unit.lower() not in {u.lower() for u in rule["units"]}:
            return False
    elif "mmol_factor" in rule:
        return False  # no unit and more than one unit in use: do not guess
    limit = float(rule["value"])
    return x > limit if rule["op"] == ">" else x < limit


def _urgent(labs: list[LabResult]) -> list[Tip]:
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
                )
            )
    return out


def _matches(trigger: dict[str, Any], labs: list[LabResult], conds: set[str], meds: set[str]) -> bool:
    if "lab" in trigger:
        return any(_canonical(x.name) == trigger["lab"] and x.flag == trigger["flag"] for x in labs)
    if "condition" in trigger:
        return any(c.lower() in conds for c in trigger["condition"])
    if "medication" in trigger:
        return any(m.lower() in meds for m in trigger["medication"])
    return False


def suggest_tips(
    labs: list[LabResult], conditions: list[Condition], medications: list[Medication]
) -> list[Tip]:
    """Urgent red-flag tips, then tips for flagged labs, conditions and medications, then the notice."""
    data = _data()
    conds = {c.name.lower() for c in conditions if not c.negated}
    meds = {m.name.lower() for m in medications}
    tips = _urgent(labs)
    seen: set[str] = set()
    for entry in data["tips"]:
        if entry["text"] in seen or not _matches(entry["trigger"], labs, conds, meds):
            continue
        seen.add(entry["text"])
        tips.append(Tip(text=entry["text"], reason=entry["reason"], source=entry["source"]))
    notice = data["notice"]
    tips.append(Tip(text=notice["text"], reason=notice["reason"], source=notice["source"]))
    return tips
