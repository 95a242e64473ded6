"""Number claims for the faithfulness check: numbers with their units, dates and pairs (138/86, 10:30), and
which of them a source document supports (its text, its lab rows' units, its entities' attributes).

Hand-written for the reason ``faithfulness`` gives (no offline library checks a changed unit); split from it
to keep each module one concern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from healthchat.domain.models import UnsupportedClaim

# canonical unit -> spellings (case-insensitive); equal quantities share a canonical unit
_UNITS: dict[str, tuple[str, ...]] = {
    "%": ("%", "percent"),
    "mg/dl": ("mg/dl",),
    "mmol/l": ("mmol/l",),
    "meq/l": ("meq/l",),
    "g/dl": ("g/dl",),
    "mg/l": ("mg/l",),
    "umol/l": ("umol/l", "µmol/l"),
    "ng/ml": ("ng/ml",),
    "ng/dl": ("ng/dl",),
    "pg/ml": ("pg/ml",),
    "u/l": ("u/l",),
    "iu/l": ("iu/l",),
    "uiu/ml": ("uiu/ml", "µiu/ml", "ulu/ml", "miu/l"),
    "10^9/l": ("x10^3/ul", "x 10^3/ul", "10^3/ul", "x10^9/l", "x 10^9/l", "10^9/l", "k/ul", "thou/ul"),
    "10^12/l": ("x10^6/ul", "x 10^6/ul", "10^6/ul", "x10^12/l", "10^12/l", "m/ul", "mil/ul"),
    "ml/min/1.73m2": ("ml/min/1.73m2", "ml/min/1.73 m2", "ml/min/1.73m^2", "ml/min/1.73 m^2"),
    "mmhg": ("mmhg", "mm hg"),
    "bpm": ("bpm", "beats per minute", "beats/min"),
    "mg/kg": ("mg/kg",),
    "mg/ml": ("mg/ml",),
    "fl": ("fl",),
    "pg": ("pg",),
    "mg": ("mg", "milligram", "milligrams"),
    "mcg": ("mcg", "µg", "ug", "microgram", "micrograms"),
    "g": ("g", "gm", "gram", "grams"),
    "meq": ("meq",),
    "iu": ("iu", "international units"),
    "unit": ("unit", "units"),
    "ml": ("ml",),
    "kg": ("kg", "kilogram", "kilograms"),
    "lb": ("lb", "lbs", "pound", "pounds"),
    "cm": ("cm",),
    "tablet": ("tablet", "tablets", "tab", "tabs", "pill", "pills"),
    "capsule": ("capsule", "capsules", "cap", "caps"),
    "puff": ("puff", "puffs"),
    "drop": ("drop", "drops"),
    "minute": ("minute", "minutes", "min", "mins"),
    "hour": ("hour", "hours", "hr", "hrs"),
    "day": ("day", "days"),
    "week": ("week", "weeks", "wk", "wks"),
    "month": ("month", "months", "mo", "mos"),
    "year": ("year", "years", "yr", "yrs"),
    "times": ("times", "time"),
}
_UNIT_OF = {s: canon for canon, spellings in _UNITS.items() for s in spellings}


def unit_of(spelling: str) -> str | None:
    """The canonical unit of a spelling (Greek mu and the micro sign match each other, ignoring case)."""
    return _UNIT_OF.get(" ".join(spelling.lower().replace("\u03bc", "\u00b5").split()))


UNIT_PATTERN = "|".join(re.escape(s) for s in sorted(_UNIT_OF, key=len, reverse=True))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# a number, then its unit: right after it, or after a lab flag column ("7.2  H  %")
_NUMBER_RE = re.compile(
    rf"(?<![A-Za-z0-9.,^/_])(?P<n>{_NUM})(?!\d|[.,]\d)"
    rf"(?:\s?(?P<u>{UNIT_PATTERN})|\s+(?-i:[HLA]{{1,2}}|\*{{1,2}})\s+(?P<u2>{UNIT_PATTERN}))?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DATE_RE = re.compile(
    rf"\b(?:(?P<m1>\d{{1,2}})/(?P<d1>\d{{1,2}})/(?P<y1>\d{{2,4}})"
    rf"|(?P<y2>\d{{4}})-(?P<m2>\d{{1,2}})-(?P<d2>\d{{1,2}})"
    rf"|(?P<mn3>{_MONTH}) (?P<d3>\d{{1,2}}),? (?P<y3>\d{{4}})"
    rf"|(?P<d4>\d{{1,2}}) (?P<mn4>{_MONTH}),? (?P<y4>\d{{4}}))\b",
    re.IGNORECASE,
)
_PAIR_RE = re.compile(r"(?<![\d/.])(\d{1,3})(?:/(\d{2,3})|:(\d{2}))(?![\d/])")  # 138/86 (BP), 10:30 (time)
WORD_NUMS = {
    w: str(i)
    for i, w in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"), 1
    )
}
_WORD_NUM_RE = re.compile(
    rf"\b(?P<w>{'|'.join(WORD_NUMS)})\s+(?P<u>{UNIT_PATTERN})(?![A-Za-z0-9])", re.IGNORECASE
)
_FREQ_NUMS = re.compile(
    r"\b(?:(?P<two>bid|b\.i\.d\.|twice)|(?P<three>tid|t\.i\.d\.|thrice)|(?P<four>qid|q\.i\.d\.))(?![A-Za-z])"
    r"|\bq\.?\s?(?P<q>\d+)\s?(?:h|hrs?|hours?)\b",
    re.IGNORECASE,
)
_LIST_MARKER_RE = re.compile(r"[.)][ \t]")
_ANY_NUMBER_RE = re.compile(r"(?<![\d.,])\d+(?:\.\d+)?")
THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}\b)")


def canon(num: str) -> str:
    try:
        return format(Decimal(num.replace(",", "")).normalize(), "f")
    except InvalidOperation:
        return num


def norm_words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class _Num:
    begin: int
    end: int
    key: str | tuple[int, ...]  # a canonical number, or the parts of a date / a pair
    kind: str  # "number", "date" or "pair"
    unit: str | None = None


def numbers(text: str) -> list[_Num]:
    out: list[_Num] = []
    taken = bytearray(len(text))
    for m in _DATE_RE.finditer(text):
        g = {k: v for k, v in m.groupdict().items() if v}
        month = next((g[k] for k in ("m1", "m2") if k in g), None)
        if month is None:
            month = str(_MONTHS.index(next(g[k] for k in ("mn3", "mn4") if k in g)[:3].lower()) + 1)
        day, year = (
            next(g[k] for k in ("d1", "d2", "d3", "d4") if k in g),
            next(g[k] for k in g if k[0] == "y"),
        )
        y = int(year) + (2000 if len(year) == 2 else 0)
        out.append(_Num(m.start(), m.end(), (y, *sorted((int(month), int(day)))), "date"))
        taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for m in _PAIR_RE.finditer(text):
        if taken.find(1, m.start(), m.end()) == -1:
            out.append(_Num(m.start(), m.end(), (int(m.group(1)), int(m.group(2) or m.group(3))), "pair"))
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for m in _NUMBER_RE.finditer(text):
        if taken.find(1, m.start(), m.end()) != -1:
            continue
        unit = m.group("u") or m.group("u2")
        line_start = text.rfind("\n", 0, m.start()) + 1
        if unit is None and not text[line_start : m.start()].strip() and _LIST_MARKER_RE.match(text, m.end()):
            continue  # "2. Hypertension": a list marker, not a claim
        canon_unit = unit_of(unit) if unit else None
        out.append(_Num(m.start(), m.end(), canon(m.group("n")), "number", canon_unit))
    return sorted(out, key=lambda n: n.begin)


@dataclass
class SourceNumbers:
    units: dict[str, set[str | None]] = field(default_factory=dict)
    tuples: set[tuple[str, tuple[int, ...]]] = field(default_factory=set)

    def add(self, num: str, unit: str | None) -> None:
        self.units.setdefault(num, set()).add(unit)


def source_numbers(text: str, entities: Sequence[dict[str, Any]]) -> SourceNumbers:
    src = SourceNumbers()
    nums = numbers(text)
    for i, n in enumerate(nums):
        if isinstance(n.key, tuple):
            src.tuples.add((n.kind, n.key))
            for part in n.key:
                src.add(str(part), None)
            continue
        src.add(n.key, n.unit)
        nxt = nums[i + 1] if i + 1 < len(nums) else None  # "4.0-5.6 %": the unit covers the range
        if nxt is not None and nxt.unit and re.fullmatch(r"\s*(?:-|–|to)\s*", text[n.end : nxt.begin]):
            src.add(n.key, nxt.unit)
    for m in _ANY_NUMBER_RE.finditer(text):  # "44yo", "2nd": any digits in the source count, bare
        src.add(canon(m.group(0)), None)
    for m in _WORD_NUM_RE.finditer(text):
        src.add(WORD_NUMS[m.group("w").lower()], unit_of(m.group("u")))
    for m in _FREQ_NUMS.finditer(text):
        src.add(m.group("q") or ("2" if m.group("two") else "3" if m.group("three") else "4"), "times")
        if m.group("q"):
            src.add(m.group("q"), "hour")
    for ent in entities:
        _add_entity_numbers(src, text, nums, ent)
    return src


def _add_entity_numbers(src: SourceNumbers, text: str, nums: list[_Num], ent: dict[str, Any]) -> None:
    attrs = {a.get("Type"): a for a in ent.get("Attributes", [])}
    if ent.get("Type") == "TEST_NAME" and "TEST_UNIT" in attrs:
        # a lab row: every number on its line (value, range) is in the row's unit
        unit = unit_of(str(attrs["TEST_UNIT"]["Text"]))
        begin = int(ent["BeginOffset"])
        line_end = text.find("\n", begin)
        line_end = len(text) if line_end == -1 else line_end
        for n in nums:
            if begin <= n.begin < line_end and isinstance(n.key, str):
                src.add(n.key, unit)
    for a in attrs.values():
        for n in numbers(THOUSANDS_RE.sub("", str(a.get("Text", "")))):
            if isinstance(n.key, str):
                src.add(n.key, n.unit)


def number_claims(generated: str, src: SourceNumbers) -> tuple[int, list[UnsupportedClaim]]:
    nums = numbers(generated)
    bad = []
    for n in nums:
        text = generated[n.begin : n.end]
        if isinstance(n.key, tuple):
            if (n.kind, n.key) not in src.tuples:
                bad.append(UnsupportedClaim(kind="number", text=text, reason=f"{n.kind} not in the source"))
            continue
        units = src.units.get(n.key)
        if units is None:
            bad.append(UnsupportedClaim(kind="number", text=text, reason="number not in the source"))
        elif n.unit is not None and n.unit not in units:
            why = "unit not stated in the source" if units == {None} else "unit differs from the source"
            bad.append(UnsupportedClaim(kind="number", text=text, reason=why))
    return len(nums), bad
