"""Lab results: finding lab rows/mentions in text and turning them into flagged LabResults.

Ranges, units and flags live in :mod:`healthchat.domain.lab_ranges`.

Hand-written on purpose: printed lab reports use a handful of range notations and no library parses
them with character offsets; the rules below are small, deterministic and tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from healthchat.data_files import data_json
from healthchat.domain.lab_ranges import (
    NUM,
    QUALITATIVE,
    RANGE_RE,
    Flag,
    RangeSpec,
    Sex,
    flag_for,
    is_word_result,
    parse_range,
    patient_sex,
    plausible_unit,
    qualitative_counterpart,
    typical_flag,
)
from healthchat.domain.lab_units import normalize_unit
from healthchat.domain.models import LabResult, ReferenceRange

__all__ = [
    "LabMention",
    "LabTest",
    "RangeSpec",
    "find_lab_mentions",
    "find_lab_rows",
    "flag_for",
    "interpret_labs",
    "lab_result",
    "lookup_test",
    "normalize_unit",
    "parse_range",
]

_FLAG_RE = re.compile(r"(?<!\S)(?P<flag>HH|LL|H|L|A|High|Low|Abnormal|Critical|\*+)(?!\S)")
_UNIT_RE = re.compile(
    r"(?<!\S)(?P<unit>%|[a-zA-Zµμ×][a-zA-Z0-9µμ/^.*³⁶⁹¹²]*(?:/[a-zA-Z0-9.^]+)*"
    r"|x10\^?\d+/[a-zA-Zµ]+|10[\^*Ee]?[0-9³⁶⁹¹²]+/[a-zA-Zµμ]+"
    r"|[x*]?1[l1]?[0o][\^*%°]?\d{1,2}/[a-zA-Zµμ]+)(?!\S)"  # OCR: x10%12/L, *10*9/L, 1069/L, x10°12/L
)
# another result between this one and a marker: the marker is that earlier (cumulative) result's
_EARLIER_RESULT_RE = re.compile(rf"(?<!\S)(?:[<>]?{NUM}|{QUALITATIVE}|Neg|Pos|[1-4]\+)(?!\S)", re.IGNORECASE)
_NOT_A_UNIT_RE = re.compile(rf"(?i)(?:ref|range|normal|flag|{QUALITATIVE}|neg|pos|small|moderate|large)\b")
# results: a number, a word (Negative, Trace), a dipstick grade (1+) or size (Small, Moderate, Large)
_VALUE = rf"[<>]?\s?{NUM}|{QUALITATIVE}|Neg|Pos|Small|Moderate|Large|[1-4]\+"
_ROW_RE = re.compile(
    rf"^[ \t]*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9 ,()/%.'+\-]{{0,50}}?[A-Za-z0-9)%])??)"
    rf"[ \t]*(?::[ \t]*|[ \t]{{2,}}|\t|[ \t](?=[<>]?\d))"
    rf"(?P<value>{_VALUE})(?=\s|$)(?![ \t]*[-–][ \t]*\d)(?P<rest>[^\n]*)$",
    re.MULTILINE | re.IGNORECASE,
)
_PROSE_UNITS = (
    r"%|mg/dL|mmol/mol|mmol/L|mEq/L|g/dL|ng/mL|pg/mL|uIU/mL|mIU/L|U/L|IU/L|mg/L|ng/dL|mL/min(?:/1\.73\s?m2)?"
    r"|[uµ]mol/L|nmol/L|pmol/L|g/L|x10\^9/L|x10\^3/uL|K/uL|fL|pg"
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
def _table() -> dict[str, LabTest]:
    raw: dict[str, Any] = data_json("lab_tests.json")
    by_alias: dict[str, LabTest] = {}
    for t in raw["tests"]:
        test = LabTest(t["name"], tuple(t["aliases"]), t["unit"], t["explanation"])
        for alias in (test.name, *test.aliases):
            by_alias.setdefault(_norm(alias), test)
    return by_alias


@lru_cache(maxsize=1)
def lab_test_names() -> tuple[str, ...]:
    """Every known test's name and aliases, in the table's order, each once."""
    tests = dict.fromkeys(_table().values())  # one entry per test, first-seen order
    return tuple(dict.fromkeys(a for t in tests for a in (t.name, *t.aliases)))


def lookup_test(name: str) -> LabTest | None:
    """The known lab test a printed name (or alias, or common OCR misreading) refers to."""
    return _table().get(_norm(name))


def parse_row_tail(tail: str, offset: int) -> tuple[str | None, int, int, str | None, str | None, int]:
    """Unit (with offsets), report flag and range text in what follows a value on its line.

    Returns ``(unit, unit_begin, unit_end, report_flag, range_text, end)``; offsets are ``offset``-based.
    """
    unit, ub, ue, flag, rtext, end = None, -1, -1, None, None, offset
    # the reference range is the last one on the line: a cumulative report prints earlier results
    # (">90") between this result and its range (">= 60")
    rm = None
    for rm in RANGE_RE.finditer(tail):  # noqa: B007 - the last match is wanted
        pass
    masked = tail
    if rm is not None:
        rtext = rm.group(0).strip()
        masked = tail[: rm.start()] + " " * (rm.end() - rm.start()) + tail[rm.end() :]
        end = offset + rm.end()
    for i, fm in enumerate(_FLAG_RE.finditer(masked)):  # a cumulative report repeats an earlier flag
        # a marker after another result ("4.7  3.6 Low") belongs to that earlier result, not to this one
        if i == 0 and not _EARLIER_RESULT_RE.search(masked, 0, fm.start()):
            flag, end = fm.group("flag"), max(end, offset + fm.end())
        masked = masked[: fm.start()] + " " * (fm.end() - fm.start()) + masked[fm.end() :]
    um = _UNIT_RE.search(masked)
    if um is not None and not _NOT_A_UNIT_RE.match(um.group("unit")):
        unit, ub, ue = um.group("unit"), offset + um.start(), offset + um.end()
        end = max(end, ue)
    return unit, ub, ue, flag, rtext, end


def _word_result_fits(test: LabTest, value: str) -> bool:
    """A word result ('Negative', '1+', 'Large') belongs to a word-valued test or its urine counterpart;
    'Platelets: Large clumps' is a comment, not a result."""
    return not is_word_result(value) or test.unit is None or qualitative_counterpart(test.name) is not None


_SENTENCE_END_RE = re.compile(r"[.;](?=\s+[A-Za-z])")


def _sentence_part(tail: str) -> str:
    """What follows a value up to the end of its sentence: in prose ("A1c 8.1 % (ref 4.0-5.6). LDL 162
    mg/dL (ref <100).") the next result's range is not this one's."""
    end = _SENTENCE_END_RE.search(tail)
    return tail[: end.start()] if end else tail


def find_lab_rows(text: str) -> list[LabMention]:
    """Table rows ``NAME  VALUE  [FLAG]  [UNIT]  [RANGE]``: known tests, or any name with a printed range."""
    rows: list[LabMention] = []
    for m in _ROW_RE.finditer(text):
        name = m.group("name").strip()
        test = lookup_test(name)
        if name[0].isdigit() and test is None:
            continue  # "25-OH Vitamin D" is a test; "2. Hypertension 5 years" is not
        tail_off = m.start("rest")
        unit, ub, ue, flag, rtext, end = parse_row_tail(_sentence_part(m.group("rest")), tail_off)
        if test is None and (
            rtext is None or len(name.split()) > 6 or not re.match(r"[<>]?\d", m.group("value"))
        ):
            continue
        if test is not None and rtext is None and not _word_result_fits(test, m.group("value")):
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
    aliases = sorted({a for a in lab_test_names() if len(a) >= 3}, key=len)
    names = "|".join(re.escape(a) for a in reversed(aliases))
    return re.compile(
        rf"\b(?P<name>{names})\b(?:\s+(?:level|result|value))?"
        rf"(?:\s*(?:was|is|of|at|=|:|came back at|came back|measured))?\s*"
        rf"(?P<value>{NUM})(?!\d|[.,]\d|/\d)(?:\s?(?P<unit>{_PROSE_UNITS})(?!\w))?",
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
    return _sentence_part(text[start : nl if nl >= 0 else len(text)])


_URINALYSIS_RE = re.compile(r"(?i)\b(?:urinalysis|urine|UA)\b")


def _test_for(name: str, value: str, before: str = "") -> LabTest | None:
    test = lookup_test(name)
    if test is None and name.strip().lower() == "ph" and _URINALYSIS_RE.search(before[-400:]):
        test = lookup_test("Urine pH")  # a bare "pH" row under a urinalysis heading (not a blood gas)
    counterpart = qualitative_counterpart(test.name) if test and is_word_result(value) else None
    return lookup_test(counterpart) if counterpart else test


def _reconcile(
    computed: Flag, report: str | None, note: str | None, printed: bool
) -> tuple[Flag, str | None]:
    """The flag shown and its note. The laboratory's own marker wins over ours: it may use limits for age,
    sex or method that the report does not show. A bare 'A' (abnormal) takes our low/high direction."""
    reported = _REPORT_FLAG.get((report or "").lower())
    if reported is None:
        return computed, note
    if computed == "unknown":
        return reported, None
    if reported == "abnormal" and computed in ("low", "high", "abnormal"):
        return computed, None if printed else note
    basis = "the printed range" if printed else "a typical adult range"
    if computed != reported:
        return reported, (
            f"The report marks this {reported}, but {basis} suggests {computed}. "
            "The laboratory's own flag is kept, since it may use limits this report does not show."
        )
    if printed:
        return reported, None
    return reported, (
        "The flag is the laboratory's own; the range shown is a typical adult range, not one printed on this"
        " report."
    )


def lab_result(
    text: str, name: str, value: str, unit: str | None, begin: int, value_end: int, sex: Sex | None = None
) -> LabResult:
    """A LabResult from a located name/value: range and report flag are read from the rest of the line.

    A printed range is used as printed; without one, the typical adult range for the test (converted into
    the reported unit) is used and the result says so in ``flag_note``.
    """
    unit_t, _, _, report, rtext, tail_end = parse_row_tail(_line_tail(text, value_end), value_end)
    test = _test_for(name, value, text[max(0, begin - 400) : begin])
    unit = plausible_unit(test.name if test else None, normalize_unit(unit or unit_t))
    rng = parse_range(rtext)
    reference: ReferenceRange | None = None
    computed: Flag = "unknown"
    note: str | None = None
    if rng is not None:
        reference = ReferenceRange(low=rng.low, high=rng.high, text=rng.text, source="report")
        computed = flag_for(value, rng)
    elif test is not None and (typical := typical_flag(test.name, unit, value, sex)) is not None:
        reference, computed, note = typical.reference_range, typical.flag, typical.note
    flag, note = _reconcile(computed, report, note, printed=rng is not None)
    return LabResult(
        name=test.name if test else " ".join(name.split()),
        value=value.strip(),
        unit=unit,
        reference_range=reference,
        flag=flag,
        explanation=test.explanation if test else None,
        begin_offset=begin,
        end_offset=max(value_end, tail_end if rtext or report or unit_t else value_end),
        report_flag=report,
        flag_note=note,
    )


def _attr(entity: dict[str, Any], *types: str) -> dict[str, Any] | None:
    for a in entity.get("Attributes") or []:
        if a.get("Type") in types:
            return dict(a)
    return None


def interpret_labs(text: str, entities: list[dict[str, Any]], sex: Sex | None = None) -> list[LabResult]:
    """Lab results from TEST_NAME entities with a TEST_VALUE, plus table rows the entities missed.

    ``sex`` picks sex-specific typical ranges; by default it is read from a labelled field of the report
    ('Sex: F'), and when unknown only values outside both sexes' ranges are flagged.
    """
    sex = sex or patient_sex(text)
    results: list[LabResult] = []
    covered: list[tuple[int, int]] = []
    meds = [(e["BeginOffset"], e["EndOffset"]) for e in entities if e.get("Category") == "MEDICATION"]
    for e in entities:
        if e.get("Type") != "TEST_NAME" or (val := _attr(e, "TEST_VALUE")) is None:
            continue
        unit = _attr(e, "TEST_UNIT", "TEST_UNITS")
        begin, ve = int(e["BeginOffset"]), int(val["EndOffset"])  # the tail holds the unit and the range
        results.append(
            lab_result(text, e["Text"], val["Text"], unit["Text"] if unit else None, begin, ve, sex)
        )
        covered.append((begin, int(e["EndOffset"])))
    for row in find_lab_rows(text):
        span = (row.name_begin, row.name_end)
        if any(b < span[1] and span[0] < e for b, e in covered + meds):
            continue
        results.append(lab_result(text, row.name, row.value, row.unit, row.name_begin, row.value_end, sex))
    results.sort(key=lambda r: r.begin_offset)
    return _unique(results)


def _printed(lab: LabResult) -> bool:
    return lab.reference_range is not None and lab.reference_range.source == "report"


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
        elif _printed(lab) and not _printed(out[kept[key]]):
            out[kept[key]] = lab
    return out
