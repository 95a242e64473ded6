"""Lab units: the display spelling of a printed unit, and which units are numerically the same.

Hand-written on purpose: unit libraries (pint and the like) know neither lab spellings such as ``K/uL`` and
``x10E3/uL`` nor OCR misreadings such as ``mgldL``, ``ulU/mL`` or ``mm0l/L``; the folding rules are short.
Spellings come from ``lab_tests.json`` (``unit_aliases``) and ``lab_ranges.json`` (``same_units``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from healthchat.data_files import data_json

_UNIT_CHARS = str.maketrans({"µ": "u", "μ": "u", "³": "3", "⁶": "6", "⁹": "9", "¹": "1", "²": "2", "×": "x"})
_UNIT_FIXES = (
    (re.compile(r"^[x*]?10(?:\^|\*\*?|e)?(\d+)/"), r"x10^\1/"),  # 10^3/uL, x10E3/uL, 10*3/uL, x10³/µL
    (re.compile(r"^x10\^?[4%](3|6|9|12)/"), r"x10^\1/"),  # OCR: the caret read as 4 or % (x1049/L)
    (re.compile(r"^[x*]?1[l1]?[0o][\^*%°]?[46]?(3|6|9|12)/"), r"x10^\1/"),  # OCR: *10%12/, 1069/, x1l0*12/
    (re.compile(r"(?<=[munp])m[o0][l1i](?=/|$)"), "mol"),  # OCR: mmo1/L, mm0l/L, mmoI/L
    (re.compile(r"/d[il1]$"), "/dl"),  # OCR: mg/di, mg/dI, mg/d1
    (re.compile(r"/da[l1]$"), "/dl"),  # OCR: g/daL
    (re.compile(r"^mc?eg/"), "ug/"),  # OCR: meg/dL, mceg/dL for mcg/dL
    (re.compile(r"^mn[o0][l1i]/"), "mmol/"),  # OCR: mnol/L
    (re.compile(r"^([munp]?g)[l1i]dl$"), r"\1/dl"),  # OCR: mgldL (the slash read as l)
    (re.compile(r"^([mu])[l1]u/"), r"\1iu/"),  # OCR: ulU/mL, mlU/L
    (re.compile(r"/m[1i]$"), "/ml"),  # OCR: uIU/m1
    (re.compile(r"1\.73m\^?2$"), "1.73m2"),
)


def unit_key(unit: str) -> str:
    """A spelling-insensitive key: case, spaces, micro signs, exponent notations and OCR slips folded."""
    s = re.sub(r"\s+", "", unit.translate(_UNIT_CHARS)).lower().rstrip(".")
    s = s.replace("mcg", "ug").replace("mcl", "ul").replace("mcmol", "umol")
    for pattern, repl in _UNIT_FIXES:
        s = pattern.sub(repl, s)
    return s


@lru_cache(maxsize=1)
def _units() -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    """(exact spelling -> display unit, unit_key -> display unit, display unit -> same-units group id)."""
    tests: dict[str, Any] = data_json("lab_tests.json")
    ranges: dict[str, Any] = data_json("lab_ranges.json")
    exact = dict(tests["unit_aliases"])
    displays = [t["unit"] for t in tests["tests"] if t["unit"]] + list(exact.values())
    displays += [u for group in ranges["same_units"] for u in group]
    for entry in ranges["ranges"]:
        displays += [u for u in (entry["unit"], *(entry.get("convert") or {})) if u]
    by_key: dict[str, str] = {}
    for display in displays:  # displays first: 'g/L' (grams) must not become 'G/L' (10^9/L)
        by_key.setdefault(unit_key(display), display)
    for spelling, display in exact.items():
        by_key.setdefault(unit_key(spelling), display)
    group = {by_key[unit_key(u)]: i for i, units in enumerate(ranges["same_units"]) for u in units}
    return exact, by_key, group


def normalize_unit(unit: str | None) -> str | None:
    """The display spelling of a printed unit ('mgldL' -> 'mg/dL'); an unknown unit comes back as printed."""
    if unit is None or not unit.strip():
        return None
    exact, by_key, _ = _units()
    u = unit.strip()
    return exact.get(u) or by_key.get(unit_key(u), u)


def same_unit(a: str | None, b: str | None) -> bool:
    """Whether two units are numerically identical (spelling variants, or e.g. x10^3/uL and x10^9/L)."""
    na, nb = normalize_unit(a), normalize_unit(b)
    if na is None or nb is None:
        return na is nb
    group = _units()[2]
    return na == nb or (na in group and group.get(na) == group.get(nb))
