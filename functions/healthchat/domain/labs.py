"""Lab results: finding lab rows/mentions in text, parsing printed reference ranges, and flagging values.

Hand-written on purpose: printed lab reports use a handful of range notations and no library parses
them with character offsets; the rules below are small, deterministic and tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from healthchat.data_files import data_json
from healthchat.domain.models import LabResult, ReferenceRange

Flag = Literal["low", "normal", "high", "abnormal", "unknown"]

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_QUALITATIVE = r"(?:Negative|Positive|Non-?reactive|Reactive|Not detected|Detected|Normal|Abnormal|Trace)"
_RANGE_RE = re.compile(
    rf"(?P<lo>{_NUM})\s*(?:-|–|to)\s*(?P<hi>{_NUM})"
    rf"|(?P<op><=|>=|≤|≥|<|>)\s*(?P<bound>{_NUM})"
    rf"|(?P<qual>\b{_QUALITATIVE}\b)",
    re.IGNORECASE,
)
_FLAG_RE = re.compile(r"(?<!\S)(?P<flag>HH|LL|H|L|A|High|Low|Abnormal|Critical|\*+)(?!\S)")
_UNIT_RE = re.compile(
    r"(?<!\S)(?P<unit>%|[a-zA-Zµμ][a-zA-Z0-9µμ/^.*]*(?:/[a-zA-Z0-9.^]+)*|x10\^?\d+/[a-zA-Zµ]+)(?!\S)"
)
_VALUE = rf"[<>]?\s?{_NUM}|{_QUALITATIVE}"
_ROW_RE = re.compile(
    rf"^[ \t]*(?P<name>[A-Za-z][A-Za-z0-9 ,()/%.'+\-]{{0,50}}?[A-Za-z0-9)%])"
    rf"[ \t]*(?::[ \t]*|[ \t]{{2,}}|\t|[ \t](?=[<>]?\d))"
    rf"(?P<value>{_VALUE})(?=\s|$)(?![ \t]*[-–][ \t]*\d)(?P<rest>[^\n]*)$",
    re.MULTILINE | re.IGNORECASE,
)
_PROSE_UNITS = (
    r"%|mg/dL|mmol/L|mEq/L|g/dL|ng/mL|pg/mL|uIU/mL|mIU/L|U/L|IU/L|mg/L|ng/dL|mL/min(?:/1\.73\s?m2)?"
)
_REPORT_FLAG: dict[str, Flag] = {
    "h": "high",
    "hh": "high",
    "high": "high",
    "l": "low",
    "ll": "low",
    "low": "low",
    "a": "abnormal",
    "abnormal": "abnormal",
    "critical": "abnormal",
}


@dataclass(frozen=True)
class LabTest:
    name: str
    aliases: tuple[str, ...]
    unit: str | None
    explanation: str


@dataclass(frozen=True)
class RangeSpec:
    """A printed reference range; ``low``/``high`` bounds with their inclusiveness, or a qualitative one."""

    text: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    qualitative: str | None = None


@dataclass(frozen=True)
class LabMention:
    """A lab test found in text with character offsets (``*_end`` exclusive)."""

    name: str
    name_begin: int
    name_end: int
    value: str
    value_begin: int
    value_end: int
    unit: str | None = None
    unit_begin: int = -1
    unit_end: int = -1
    range_text: str | None = None
    report_flag: str | None = None
    end: int = 0


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, LabTest], dict[str, str]]:
    raw: dict[str, Any] = data_json("lab_tests.json")
    by_alias: dict[str, LabTest] = {}
    for t in raw["tests"]:
        test = LabTest(t["name"], tuple(t["aliases"]), t["unit"], t["explanation"])
        for alias in (test.name, *test.aliases):
            by_alias.setdefault(_norm(alias), test)
    return by_alias, dict(raw["unit_aliases"])


def lookup_test(name: str) -> LabTest | None:
    """The known lab test a printed name (or alias, or common OCR misreading) refers to."""
    return _table()[0].get(_norm(name))


def normalize_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    return _table()[1].get(unit, unit)


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def parse_range(text: str | None) -> RangeSpec | None:
    """Parse '4.0-5.6', '3.5 - 5.1', '<200', '>= 60', '0.4-4.0 uIU/mL', 'Negative' into a RangeSpec."""
    if not text:
        return None
    m = _RANGE_RE.search(text)
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


def _numeric_flag(x: float, rng: RangeSpec) -> Flag:
    if rng.low is not None and (x < rng.low or (x == rng.low and not rng.low_inclusive)):
        return "low"
    if rng.high is not None and (x > rng.high or (x == rng.high and not rng.high_inclusive)):
        return "high"
    return "normal"


def flag_for(value: str, rng: RangeSpec | None) -> Flag:
    """low/normal/high for a numeric value vs a numeric range; normal/abnormal for qualitative ones."""
    if rng is None:
        return "unknown"
    v = value.strip()
    if rng.qualitative is not None:
        if re.fullmatch(_NUM, v):
            return "unknown"
        return "normal" if _norm(v).replace(" ", "") == rng.qualitative.replace(" ", "") else "abnormal"
    m = re.fullmatch(rf"(?P<op>[<>]?)\s?(?P<n>{_NUM})", v)
    if m is None:
        return "unknown"
    x = _num(m.group("n"))
    if m.group("op") == "<":  # a '<X' result is only classifiable against an upper bound
        return "normal" if rng.low is None and rng.high is not None and x <= rng.high else "unknown"
    if m.group("op") == ">":
        return "normal" if rng.high is None and rng.low is not None and x >= rng.low else "unknown"
    return _numeric_flag(x, rng)


def parse_row_tail(tail: str, offset: int) -> tuple[str | None, int, int, str | None, str | None, int]:
    """Unit (with offsets), report flag and range text in what follows a value on its line.

    Returns ``(unit, unit_begin, unit_end, report_flag, range_text, end)``; offsets are ``offset``-based.
    """
    unit, ub, ue, flag, rtext, end = None, -1, -1, None, None, offset
    rm = _RANGE_RE.search(tail)
    masked = tail
    if rm is not None:
        rtext = rm.group(0).strip()
        masked = tail[: rm.start()] + " " * (rm.end() - rm.start()) + tail[rm.end() :]
        end = offset + rm.end()
    for fm in _FLAG_RE.finditer(masked):
        flag = fm.group("flag")
        end = max(end, offset + fm.end())
        masked = masked[: fm.start()] + " " * (fm.end() - fm.start()) + masked[fm.end() :]
        break
    um = _UNIT_RE.search(masked)
    if um is not None and not re.match(r"(?i)ref|range|normal|flag", um.group("unit")):
        unit, ub, ue = um.group("unit"), offset + um.start(), offset + um.end()
        end = max(end, ue)
    return unit, ub, ue, flag, rtext, end


def find_lab_rows(text: str) -> list[LabMention]:
    """Table rows ``NAME  VALUE  [FLAG]  [UNIT]  [RANGE]``: known tests, or any name with a printed range."""
    rows: list[LabMention] = []
    for m in _ROW_RE.finditer(text):
        name = m.group("name").strip()
        known = lookup_test(name) is not None
        tail_off = m.start("rest")
        unit, ub, ue, flag, rtext, end = parse_row_tail(m.group("rest"), tail_off)
        if not known and (
            rtext is None or len(name.split()) > 6 or not re.match(r"[<>]?\d", m.group("value"))
        ):
            continue
        rows.append(
            LabMention(
                name, m.start("name"), m.start("name") + len(name), m.group("value"),
                m.start("value"), m.end("value"), unit, ub, ue, rtext, flag, max(end, m.end("value")),
            )
        )  # fmt: skip
    return rows


@lru_cache(maxsize=1)
def _prose_re() -> re.Pattern[str]:
    aliases = sorted({a for t in _table()[0].values() for a in (t.name, *t.aliases) if len(a) >= 3}, key=len)
    names = "|".join(re.escape(a) for a in reversed(aliases))
    return re.compile(
        rf"\b(?P<name>{names})\b(?:\s+(?:level|result|value))?"
        rf"(?:\s*(?:was|is|of|at|=|:|came back at|came back|measured))?\s*"
        rf"(?P<value>{_NUM})(?!\d|[.,]\d|/\d)(?:\s?(?P<unit>{_PROSE_UNITS}))?",
        re.IGNORECASE,
    )


def find_lab_mentions(text: str) -> list[LabMention]:
    """Prose mentions of known tests with a value: 'A1c was 7.2%', 'LDL of 162 mg/dL'."""
    out = []
    for m in _prose_re().finditer(text):
        unit = m.group("unit")
        out.append(
            LabMention(
                m.group("name"), m.start("name"), m.end("name"), m.group("value"), m.start("value"),
                m.end("value"), unit, m.start("unit") if unit else -1, m.end("unit") if unit else -1,
                end=m.end(),
            )
        )  # fmt: skip
    return out


def _line_tail(text: str, start: int) -> str:
    nl = text.find("\n", start)
    return text[start : nl if nl >= 0 else len(text)]


def lab_result(text: str, name: str, value: str, unit: str | None, begin: int, value_end: int) -> LabResult:
    """A LabResult from a located name/value: range and report flag are read from the rest of the line."""
    unit_t, _, _, report, rtext, tail_end = parse_row_tail(_line_tail(text, value_end), value_end)
    unit = unit or unit_t
    test = lookup_test(name)
    rng = parse_range(rtext)
    computed = flag_for(value, rng)
    flag: Flag = computed
    explanation = test.explanation if test else None
    reported = _REPORT_FLAG.get((report or "").lower())
    if reported is not None:
        flag = reported  # the laboratory's own flag wins: it may use age/sex-specific limits we cannot see
        if computed not in ("unknown", reported):
            note = f"The report marks this {reported}, but the printed range suggests {computed}."
            explanation = f"{explanation} {note}" if explanation else note
    return LabResult(
        name=test.name if test else " ".join(name.split()),
        value=value.strip(),
        unit=normalize_unit(unit),
        reference_range=ReferenceRange(low=rng.low, high=rng.high, text=rng.text) if rng else None,
        flag=flag,
        explanation=explanation,
        begin_offset=begin,
        end_offset=max(value_end, tail_end if rtext or report or unit_t else value_end),
    )


def _attr(entity: dict[str, Any], *types: str) -> dict[str, Any] | None:
    for a in entity.get("Attributes") or []:
        if a.get("Type") in types:
            return dict(a)
    return None


def interpret_labs(text: str, entities: list[dict[str, Any]]) -> list[LabResult]:
    """Lab results from TEST_NAME entities with a TEST_VALUE, plus table rows the entities missed."""
    results: list[LabResult] = []
    covered: list[tuple[int, int]] = []
    meds = [(e["BeginOffset"], e["EndOffset"]) for e in entities if e.get("Category") == "MEDICATION"]
    for e in entities:
        if e.get("Type") != "TEST_NAME" or (val := _attr(e, "TEST_VALUE")) is None:
            continue
        unit = _attr(e, "TEST_UNIT", "TEST_UNITS")
        ve = max(val["EndOffset"], unit["EndOffset"] if unit else 0)
        begin = int(e["BeginOffset"])
        results.append(lab_result(text, e["Text"], val["Text"], unit["Text"] if unit else None, begin, ve))
        covered.append((begin, int(e["EndOffset"])))
    for row in find_lab_rows(text):
        span = (row.name_begin, row.name_end)
        if any(b < span[1] and span[0] < e for b, e in covered + meds):
            continue
        results.append(lab_result(text, row.name, row.value, row.unit, row.name_begin, row.value_end))
    results.sort(key=lambda r: r.begin_offset)
    return _unique(results)


def _unique(results: list[LabResult]) -> list[LabResult]:
    """One entry per (test, value, unit): a note that repeats "A1c 7.2%" in two sections has one
    result. The first mention is kept, unless a later one carries the printed reference range."""
    kept: dict[tuple[str, str, str], int] = {}
    out: list[LabResult] = []
    for lab in results:
        key = (lab.name.lower(), lab.value, (lab.unit or "").lower())
        if key not in kept:
            kept[key] = len(out)
            out.append(lab)
        elif lab.reference_range is not None and out[kept[key]].reference_range is None:
            out[kept[key]] = lab
    return out
