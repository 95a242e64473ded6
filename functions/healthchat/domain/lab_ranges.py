"""Reference ranges: printed-range parsing, the curated typical adult ranges with their unit conversions,
and the low/normal/high flag.

Hand-written on purpose: no library reads the range notations printed on lab reports, and the factors
that turn mg/dL into mmol/L are per analyte (molar masses), which a general unit library cannot know. The
typical ranges live in ``data/lab_ranges.json``, each with the public source it was taken from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Literal

from healthchat.data_files import data_json
from healthchat.domain.lab_units import normalize_unit, same_unit
from healthchat.domain.models import ReferenceRange

Flag = Literal["low", "normal", "high", "abnormal", "unknown"]
Sex = Literal["female", "male"]

NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
QUALITATIVE = r"(?:Negative|Positive|Non-?reactive|Reactive|Not detected|Detected|Normal|Abnormal|Trace)"
RANGE_RE = re.compile(
    rf"(?P<lo>{NUM})\s*(?:-|–|to)\s*(?P<hi>{NUM})"
    rf"|(?P<op><=|>=|≤|≥|<|>)\s*(?P<bound>{NUM})"
    rf"|(?P<qual>\b{QUALITATIVE}\b)",
    re.IGNORECASE,
)
_NEGATIVE = {"negative", "neg", "none", "nil", "absent", "notdetected", "nonreactive"}
_POSITIVE = {"positive", "pos", "present", "detected", "reactive"}
TYPICAL_NOTE = "Flag based on a typical adult range, not one printed on this report."
NOT_COMPARABLE_NOTE = (
    "No range is printed on this report, and this result's unit (or kind of result) does not match a"
    " typical adult range, so it is not flagged."
)


@dataclass(frozen=True)
class RangeSpec:
    """A reference range: ``low``/``high`` bounds with their inclusiveness, or an expected word."""

    text: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    qualitative: str | None = None


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def parse_range(text: str | None) -> RangeSpec | None:
    """Parse '4.0-5.6', '3.5 - 5.1', '<200', '>= 60', '0.4-4.0 uIU/mL', 'Negative' into a RangeSpec."""
    if not text:
        return None
    m = RANGE_RE.search(text)
    if m is None:
        return None
    printed = m.group(0).strip()
    if m.group("lo") is not None:
        return RangeSpec(printed, low=_num(m.group("lo")), high=_num(m.group("hi")))
    if m.group("op") is not None:
        op, bound = m.group("op"), _num(m.group("bound"))
        if op in ("<", "<=", "≤"):
            return RangeSpec(printed, high=bound, high_inclusive=op != "<")
        return RangeSpec(printed, low=bound, low_inclusive=op != ">")
    return RangeSpec(printed, qualitative=m.group("qual").lower().replace("-", ""))


def _word_class(word: str) -> str:
    w = re.sub(r"[^a-z0-9+]", "", word.lower())
    return "negative" if w in _NEGATIVE else "positive" if w in _POSITIVE else w


def _numeric_flag(x: float, rng: RangeSpec) -> Flag:
    if rng.low is not None and (x < rng.low or (x == rng.low and not rng.low_inclusive)):
        return "low"
    if rng.high is not None and (x > rng.high or (x == rng.high and not rng.high_inclusive)):
        return "high"
    return "normal"


def flag_for(value: str, rng: RangeSpec | None) -> Flag:
    """low/normal/high for a numeric value vs a numeric range; normal/abnormal for an expected word
    ('Trace' or '1+' against 'Negative' is abnormal; 'Neg' and 'Not detected' count as 'Negative')."""
    if rng is None:
        return "unknown"
    v = value.strip()
    if rng.qualitative is not None:
        if not is_word_result(v):
            return "unknown"
        return "normal" if _word_class(v) == _word_class(rng.qualitative) else "abnormal"
    m = re.fullmatch(rf"(?P<op>[<>]?)\s?(?P<n>{NUM})", v)
    if m is None:
        return "unknown"
    x = _num(m.group("n"))
    if m.group("op") == "<":  # a '<X' result is only classifiable against an upper bound
        return "normal" if rng.low is None and rng.high is not None and x <= rng.high else "unknown"
    if m.group("op") == ">":
        return "normal" if rng.high is None and rng.low is not None and x >= rng.low else "unknown"
    return _numeric_flag(x, rng)


# ---- typical adult ranges -------------------------------------------------------------------------


@dataclass(frozen=True)
class TypicalEntry:
    """One row of lab_ranges.json: a test's typical adult range in one unit family."""

    test: str
    unit: str | None  # '' = unitless (INR, pH), None = an expected word (urinalysis)
    ranges: dict[str, str]  # 'any', or 'female' and 'male' -> printed notation
    factors: dict[str, float] = field(default_factory=dict)  # other unit -> multiplier from ``unit``
    source: str = ""
    note: str | None = None


@dataclass(frozen=True)
class TypicalFlag:
    """A flag computed against a typical range, the range as shown in the reported unit, and why."""

    flag: Flag
    reference_range: ReferenceRange | None
    note: str


@lru_cache(maxsize=1)
def _raw_ranges() -> dict[str, Any]:
    data: dict[str, Any] = data_json("lab_ranges.json")
    return data


def _entry(raw: dict[str, Any]) -> TypicalEntry:
    ranges = {"any": raw["range"]} if "range" in raw else {"female": raw["female"], "male": raw["male"]}
    factors = {
        u: float(c["multiply_by"]) if "multiply_by" in c else 1 / float(c["divide_by"])
        for u, c in (raw.get("convert") or {}).items()
    }
    return TypicalEntry(raw["test"], raw["unit"], ranges, factors, raw["source"], raw.get("note"))


@lru_cache(maxsize=1)
def typical_table() -> dict[str, tuple[TypicalEntry, ...]]:
    """Canonical test name -> its typical-range entries (one per unit family)."""
    table: dict[str, list[TypicalEntry]] = {}
    for raw in _raw_ranges()["ranges"]:
        table.setdefault(raw["test"], []).append(_entry(raw))
    return {name: tuple(entries) for name, entries in table.items()}


def qualitative_counterpart(test: str) -> str | None:
    """The urine test a blood test's name means when its result is a word ('Glucose  Negative')."""
    counterparts: dict[str, str] = _raw_ranges()["qualitative_counterparts"]
    return counterparts.get(test) if test != "_about" else None


def is_word_result(value: str) -> bool:
    """'Negative', 'Trace', '1+' are word results; '5.5', '<0.1' are numbers."""
    return re.fullmatch(rf"[<>]?\s?{NUM}", value.strip()) is None


def plausible_unit(test: str | None, unit: str | None) -> str | None:
    """The unit, except an OCR 'p' for the micro sign: pmol/L (or pg/L) for a test measured in umol/L
    (or ug/L) and never in picomoles (creatinine, iron) is read as umol/L; B12's pmol/L stays."""
    if test is None or unit not in ("pmol/L", "pg/L"):
        return unit
    known = {u for e in typical_table().get(test, ()) for u in (e.unit, *e.factors) if u}
    micro = normalize_unit("u" + unit[1:])
    if any(same_unit(unit, u) for u in known) or not any(same_unit(micro, u) for u in known):
        return unit
    return micro


def _factor(entry: TypicalEntry, unit: str | None, value: str) -> float | None:
    """Multiplier from the entry's unit to the reported one, or None when they cannot be compared."""
    if entry.unit is None:
        return 1.0 if is_word_result(value) else None
    if is_word_result(value):
        return None
    if entry.unit == "" or unit is None:
        return 1.0 if entry.unit == "" and unit is None else None
    if same_unit(unit, entry.unit):
        return 1.0
    return next((f for u, f in entry.factors.items() if same_unit(unit, u)), None)


def _decimals(value: str) -> int:
    m = re.search(r"\.(\d+)", value)
    return len(m.group(1)) if m else 0


def _round(x: float, decimals: int) -> float:
    # enough decimals for two significant digits, and never fewer than the reported value carries
    while decimals < 4 and x != 0 and abs(x) < 10 ** (1 - decimals):
        decimals += 1
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else str(x)


def _converted(spec: RangeSpec, factor: float, decimals: int) -> RangeSpec:
    """A range in another unit, its limits rounded as precisely as the value was reported: a glucose of
    5.5 mmol/L is compared with 3.9-5.5, not with 5.4951 (99 mg/dL)."""
    if factor == 1.0:
        return spec
    low = _round(spec.low * factor, decimals) if spec.low is not None else None
    high = _round(spec.high * factor, decimals) if spec.high is not None else None
    if low is not None and high is not None:
        text = f"{_fmt(low)}-{_fmt(high)}"
    elif high is not None:
        text = ("<=" if spec.high_inclusive else "<") + _fmt(high)
    else:
        text = (">=" if spec.low_inclusive else ">") + _fmt(low or 0.0)
    return RangeSpec(text, low, high, spec.low_inclusive, spec.high_inclusive)


def _union(specs: dict[str, RangeSpec]) -> RangeSpec:
    lows = [s.low for s in specs.values()]
    highs = [s.high for s in specs.values()]
    low = None if None in lows else min(x for x in lows if x is not None)
    high = None if None in highs else max(x for x in highs if x is not None)
    text = "; ".join(f"{'women' if sex == 'female' else 'men'} {s.text}" for sex, s in sorted(specs.items()))
    return RangeSpec(text, low, high)


def _sex_note(value: str, specs: dict[str, RangeSpec], flag: Flag) -> str:
    note = (
        " Typical ranges differ for women and men; without the patient's sex, only values outside both"
        " are flagged."
    )
    per_sex = {sex: flag_for(value, s) for sex, s in specs.items()}
    if flag == "normal" and set(per_sex.values()) != {"normal"}:
        off = next(sex for sex, f in per_sex.items() if f != "normal")
        other = "female" if off == "male" else "male"
        note += f" This value is {per_sex[off]} for {_people(off)} but normal for {_people(other)}."
    return note


def _people(sex: str) -> str:
    return "women" if sex == "female" else "men"


def _pick(
    entries: tuple[TypicalEntry, ...], unit: str | None, value: str
) -> tuple[TypicalEntry, float] | None:
    for entry in entries:
        factor = _factor(entry, unit, value)
        if factor is not None:
            return entry, factor
    return None


def typical_flag(test: str, unit: str | None, value: str, sex: Sex | None = None) -> TypicalFlag | None:
    """Flag a value against the typical adult range for ``test``, converted into the reported unit.

    Returns None when there is no typical range for the test; a TypicalFlag with flag "unknown" when the
    unit is missing or does not convert (never a guess).
    """
    entries = typical_table().get(test)
    if not entries:
        return None
    picked = _pick(entries, normalize_unit(unit), value)
    if picked is None:
        return TypicalFlag("unknown", None, NOT_COMPARABLE_NOTE)
    entry, factor = picked
    decimals = _decimals(value)
    specs = {sex_: _converted(s, factor, decimals) for sex_, s in _parsed(entry).items()}
    note = TYPICAL_NOTE
    if "any" in specs:
        spec = specs["any"]
    elif sex is not None:
        spec = specs[sex]
        note = TYPICAL_NOTE.replace("adult range", f"adult range for {_people(sex)}")
    else:
        spec = _union(specs)
    flag = flag_for(value, spec)
    if "any" not in specs and sex is None:
        note += _sex_note(value, specs, flag)
    if factor != 1.0:
        note += f" The range was converted from {entry.unit}."
    if entry.note:
        note += f" {entry.note}"
    reference = ReferenceRange(
        low=spec.low, high=spec.high, text=spec.text, source="typical", citation=entry.source
    )
    return TypicalFlag(flag, reference, note)


def _parsed(entry: TypicalEntry) -> dict[str, RangeSpec]:
    out = {}
    for key, printed in entry.ranges.items():
        spec = parse_range(printed)
        if spec is None:
            raise ValueError(f"lab_ranges.json: unreadable range for {entry.test}")
        out[key] = spec
    return out


_SEX_RES = (
    re.compile(r"\b(?:sex|gender)\s*(?:/\s*age\s*)?[:=]?\s*(female|male|f|m)\b", re.IGNORECASE),
    re.compile(
        r"\bage\s*/\s*(?:sex|gender)\s*[:=]?\s*\d{1,3}\s*(?:y|yo|yrs?|years?)?\s*/\s*(f|m)\b", re.IGNORECASE
    ),
    re.compile(r"\b(?:DOB|date of birth)\s*:?\s*[\d/.-]{6,10}\s*\(\s*(female|male|f|m)\s*\)", re.IGNORECASE),
)


def patient_sex(text: str) -> Sex | None:
    """The patient's sex when a report labels it ('Sex: F', 'Gender: Male', 'DOB: 01/02/1970 (F)');
    None when it is not labelled or the labels disagree."""
    found = {m.group(1)[0].lower() for rx in _SEX_RES for m in rx.finditer(text)}
    if found == {"f"}:
        return "female"
    if found == {"m"}:
        return "male"
    return None
