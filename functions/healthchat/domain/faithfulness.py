"""Faithfulness check: every number (with its unit), drug, dose and diagnosis a generated text states must
be supported by the source document or its extracted entities, and no condition's negation may flip.

Hand-written: no library checks clinical claims against a source offline (entailment models need torch and
a model download, and they miss a changed unit). Drugs and conditions are found with the local extractor's
lexicons, imported on first use (about 0.35 s once), not with the CRF or medspaCy, so importing this module
stays light and the check costs milliseconds. Negation is judged with ConText-style cue rules in the
generated text and with the entities' NEGATION trait (else the same rules) in the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from healthchat.domain.models import FaithfulnessReport, GlossaryEntry, UnsupportedClaim

KINDS = ("number", "drug", "dose", "diagnosis", "negation")

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


def _unit(spelling: str) -> str | None:
    """The canonical unit of a spelling (Greek mu and the micro sign match each other, ignoring case)."""
    return _UNIT_OF.get(" ".join(spelling.lower().replace("\u03bc", "\u00b5").split()))


_UNIT = "|".join(re.escape(s) for s in sorted(_UNIT_OF, key=len, reverse=True))
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# a number, then its unit: right after it, or after a lab flag column ("7.2  H  %")
_NUMBER_RE = re.compile(
    rf"(?<![A-Za-z0-9.,^/_])(?P<n>{_NUM})(?!\d|[.,]\d)"
    rf"(?:\s?(?P<u>{_UNIT})|\s+(?-i:[HLA]{{1,2}}|\*{{1,2}})\s+(?P<u2>{_UNIT}))?(?![A-Za-z0-9])",
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
_WORD_NUMS = {
    w: str(i)
    for i, w in enumerate(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"), 1
    )
}
_WORD_NUM_RE = re.compile(rf"\b(?P<w>{'|'.join(_WORD_NUMS)})\s+(?P<u>{_UNIT})(?![A-Za-z0-9])", re.IGNORECASE)
_FREQ_NUMS = re.compile(
    r"\b(?:(?P<two>bid|b\.i\.d\.|twice)|(?P<three>tid|t\.i\.d\.|thrice)|(?P<four>qid|q\.i\.d\.))(?![A-Za-z])"
    r"|\bq\.?\s?(?P<q>\d+)\s?(?:h|hrs?|hours?)\b",
    re.IGNORECASE,
)
_LIST_MARKER_RE = re.compile(r"[.)][ \t]")
_ANY_NUMBER_RE = re.compile(r"(?<![\d.,])\d+(?:\.\d+)?")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}\b)")

# ---- negation cues (ConText-style: a pre-cue negates forward to the clause end; post-cues backward) ----
_CLAUSE_BREAK_RE = re.compile(
    r"[.;:!?\n]|,\s+and\b|\band (?:i|he|she|we|they|you|it|there|the patient)\b"
    r"|\b(?:but|however|although|though|except|whereas|yet|which|who|while|because)\b",
    re.IGNORECASE,
)
_PRE_NEG_RE = re.compile(
    r"\b(?:no|not|without|denies|denied|deny|denying|never|none|negative for|free of|absence of|"
    r"ruled out|rules out)\b|\b\w+n['’]t\b",
    re.IGNORECASE,
)
_PSEUDO_NEG_RE = re.compile(
    r"\b(?:no (?:change|increase|decrease|worsening)|not only|not (?:certain|sure)|not ruled out)\b", re.I
)
_NEG_WINDOW = 200  # characters before a mention searched for its clause start
# at most this many words between a pre-cue and the mention (NegEx uses 5), unless they are a list
# ("denies chest pain, shortness of breath, palpitations or swelling"), which the clause end bounds
_NEG_SCOPE_WORDS = 6
_WORDS_RE = re.compile(r"[A-Za-z0-9']+")
_POST_NEG_RE = re.compile(
    r"\W*(?:(?:was|is|were|are|has been|have been)\s+)?(?:ruled out|excluded|negative|absent|"
    r"not (?:seen|found|present|detected|identified)|free)\b",
    re.IGNORECASE,
)


def _canon(num: str) -> str:
    try:
        return format(Decimal(num.replace(",", "")).normalize(), "f")
    except InvalidOperation:
        return num


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class _Num:
    begin: int
    end: int
    key: str | tuple[int, ...]  # a canonical number, or the parts of a date / a pair
    kind: str  # "number", "date" or "pair"
    unit: str | None = None


def _numbers(text: str) -> list[_Num]:
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
        canon_unit = _unit(unit) if unit else None
        out.append(_Num(m.start(), m.end(), _canon(m.group("n")), "number", canon_unit))
    return sorted(out, key=lambda n: n.begin)


@dataclass
class _SourceNumbers:
    units: dict[str, set[str | None]] = field(default_factory=dict)
    tuples: set[tuple[str, tuple[int, ...]]] = field(default_factory=set)

    def add(self, num: str, unit: str | None) -> None:
        self.units.setdefault(num, set()).add(unit)


def _source_numbers(text: str, entities: Sequence[dict[str, Any]]) -> _SourceNumbers:
    src = _SourceNumbers()
    nums = _numbers(text)
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
        src.add(_canon(m.group(0)), None)
    for m in _WORD_NUM_RE.finditer(text):
        src.add(_WORD_NUMS[m.group("w").lower()], _unit(m.group("u")))
    for m in _FREQ_NUMS.finditer(text):
        src.add(m.group("q") or ("2" if m.group("two") else "3" if m.group("three") else "4"), "times")
        if m.group("q"):
            src.add(m.group("q"), "hour")
    for ent in entities:
        _add_entity_numbers(src, text, nums, ent)
    return src


def _add_entity_numbers(src: _SourceNumbers, text: str, nums: list[_Num], ent: dict[str, Any]) -> None:
    attrs = {a.get("Type"): a for a in ent.get("Attributes", [])}
    if ent.get("Type") == "TEST_NAME" and "TEST_UNIT" in attrs:
        # a lab row: every number on its line (value, range) is in the row's unit
        unit = _unit(str(attrs["TEST_UNIT"]["Text"]))
        begin = int(ent["BeginOffset"])
        line_end = text.find("\n", begin)
        line_end = len(text) if line_end == -1 else line_end
        for n in nums:
            if begin <= n.begin < line_end and isinstance(n.key, str):
                src.add(n.key, unit)
    for a in attrs.values():
        for n in _numbers(_THOUSANDS_RE.sub("", str(a.get("Text", "")))):
            if isinstance(n.key, str):
                src.add(n.key, n.unit)


def _number_claims(generated: str, src: _SourceNumbers) -> tuple[int, list[UnsupportedClaim]]:
    nums = _numbers(generated)
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


# ---- drugs and doses --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _drug_generics() -> dict[str, str]:
    """Brand names, abbreviations and synonyms -> generic name, all lower case."""
    from healthchat.adapters.local.drug_lexicon import drug_terms
    from healthchat.data_files import data_json

    out = {t.phrase: t.generic for t in drug_terms() if t.generic}
    meds = data_json("medications.json")
    for key in ("brand", "abbreviation"):
        out.update({k.lower(): v.lower() for k, v in meds[key].items()})
    return out


def _drug_key(name: str) -> str:
    key = _norm(name)
    return _drug_generics().get(key, key)


def _dose_key(text: str) -> str:
    text = _THOUSANDS_RE.sub("", text.lower())
    text = re.sub(r"\b(?:half an?|1/2)\b", "0.5", text)
    text = re.sub(rf"\b({'|'.join(_WORD_NUMS)})\b", lambda m: _WORD_NUMS[m.group(1)], text)
    unit = re.search(rf"(?<![a-z])({_UNIT})(?![a-z])", text)
    nums = "/".join(_canon(n) for n in re.findall(r"\d+(?:\.\d+)?", text))
    return f"{nums} {_unit(unit.group(1)) or '' if unit else ''}".strip()


def _doses_after(text: str, end: int, limit: int) -> list[tuple[str, str]]:
    """(dose key, as written) of the strengths and doses in the window after a drug name."""
    from healthchat.adapters.local import medical_context as ctx

    window = text[end : min(limit, end + ctx.MED_WINDOW)]
    stop = ctx.MED_WINDOW_STOP_RE.search(window)
    window = _THOUSANDS_RE.sub("", window[: stop.start()] if stop else window)
    return [
        (_dose_key(m.group(0)), m.group(0))
        for m in ctx.MED_ATTR_RE.finditer(window)
        if m.group("STRENGTH") or m.group("DOSAGE")
    ]


def _drug_mentions(text: str) -> list[tuple[int, int]]:
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches

    return [(b, e) for b, e, t in lexicon_matches(text, lexicon()) if t.category == "MEDICATION"]


def _drug_claims(
    generated: str, source: str, entities: Sequence[dict[str, Any]]
) -> tuple[int, int, list[UnsupportedClaim]]:
    src_spans = _drug_mentions(source)
    known = {_drug_key(source[b:e]) for b, e in src_spans}
    doses: set[tuple[str, str]] = set()
    for i, (b, e) in enumerate(src_spans):
        limit = src_spans[i + 1][0] if i + 1 < len(src_spans) else len(source)
        doses.update((_drug_key(source[b:e]), k) for k, _ in _doses_after(source, e, limit))
    for ent in entities:
        if ent.get("Category") == "MEDICATION":
            key = _drug_key(str(ent["Text"]))
            known.add(key)
            for a in ent.get("Attributes", []):
                if a.get("Type") in ("STRENGTH", "DOSAGE"):
                    doses.add((key, _dose_key(str(a["Text"]))))
    spans = _drug_mentions(generated)
    bad, n_doses = [], 0
    for i, (b, e) in enumerate(spans):
        name, key = generated[b:e], _drug_key(generated[b:e])
        found = _doses_after(generated, e, spans[i + 1][0] if i + 1 < len(spans) else len(generated))
        n_doses += len(found)
        if key not in known and not _mentions(source, name):
            bad.append(UnsupportedClaim(kind="drug", text=name, reason="drug not named in the source"))
            continue
        for dose, written in found:
            if (key, dose) not in doses:
                reason = "dose not stated for this drug in the source"
                bad.append(UnsupportedClaim(kind="dose", text=f"{name} {written}", reason=reason))
    return len(spans), n_doses, bad


# ---- diagnoses and negation --------------------------------------------------------------------------


def is_negated(text: str, begin: int, end: int) -> bool:
    """True if a negation cue governs ``text[begin:end]`` within its clause ("no evidence of cancer")."""
    start = max(0, begin - _NEG_WINDOW)
    breaks = [m.end() for m in _CLAUSE_BREAK_RE.finditer(text, start, begin)]
    before = text[breaks[-1] if breaks else start : begin]
    for m in _PRE_NEG_RE.finditer(before):
        near = "," in before[m.end() :] or len(_WORDS_RE.findall(before, m.end())) <= _NEG_SCOPE_WORDS
        if near and not _PSEUDO_NEG_RE.match(before, m.start()):
            return True
    return bool(_POST_NEG_RE.match(text, end))


@dataclass
class _Conditions:
    """Where conditions occur in the source, and whether each occurrence is negated."""

    text: str
    entities: list[dict[str, Any]]

    def polarities_of(self, phrase: str) -> set[bool]:
        words = _norm(phrase).split()
        if not words:
            return set()
        pattern = r"(?<![A-Za-z0-9])" + r"[^A-Za-z0-9]+".join(map(re.escape, words)) + r"(?![A-Za-z0-9])"
        return {v for m in re.finditer(pattern, self.text, re.I) for v in self._negated(m.start(), m.end())}

    def _negated(self, begin: int, end: int) -> set[bool]:
        """The entity's NEGATION trait and the cue rules' verdict: where the two disagree, either
        reading of the source supports the generated text (a flip is reported only when both agree)."""
        out = {is_negated(self.text, begin, end)}
        for ent in self.entities:
            if int(ent["BeginOffset"]) < end and begin < int(ent["EndOffset"]):
                out.add(any(t.get("Name") == "NEGATION" for t in ent.get("Traits", [])))
                break
        return out

    def polarities_by_code(self, phrase: str) -> set[bool]:
        """Polarities of source conditions in the same ICD-10-CM category as ``phrase`` (linked lazily)."""
        from healthchat.adapters.local.icd10 import Icd10DataMissing, linker

        try:
            wanted = {c["Code"][:3] for c in linker().link(phrase)}
        except Icd10DataMissing:
            return set()  # the code set is not installed: no support by code
        out = set()
        for ent in self.entities if wanted else ():
            codes = ent.get("ICD10CMConcepts") or linker().link(str(ent["Text"]))
            if wanted & {c["Code"][:3] for c in codes}:
                out.add(any(t.get("Name") == "NEGATION" for t in ent.get("Traits", [])))
        return out


def _condition_mentions(
    generated: str, source: str, glossary: Sequence[GlossaryEntry]
) -> list[tuple[int, int, str | None]]:
    """Conditions named in the generated text: (begin, end, the glossary term it stands for, if any).

    A glossary plain phrase stands for its term and wins over lexicon matches inside it: "swelling" for
    edema is a claim about edema, and "not cancer" for benign (a term in the source) claims nothing.
    """
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches

    lex = lexicon()
    found: list[tuple[int, int, str | None]] = []
    masked: list[tuple[int, int]] = []
    for entry in sorted(glossary, key=lambda g: -len(g.plain)):
        hits = lexicon_matches(entry.term, lex)
        is_condition = len(hits) == 1 and hits[0][2].category == "MEDICAL_CONDITION"
        if not entry.plain.strip() or not (is_condition or _mentions(source, entry.term)):
            continue
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(entry.plain)}(?![A-Za-z0-9])", generated, re.I):
            if any(b < m.end() and m.start() < e for b, e in masked):
                continue
            masked.append((m.start(), m.end()))
            if is_condition:
                found.append((m.start(), m.end(), entry.term))
    for b, e, term in lexicon_matches(generated, lex):
        if term.category == "MEDICAL_CONDITION" and not any(mb < e and b < me for mb, me in masked):
            found.append((b, e, None))
    return sorted(found)


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(phrase)}(?![A-Za-z0-9])", text, re.I) is not None


def _condition_claims(
    generated: str, conditions: _Conditions, glossary: Sequence[GlossaryEntry]
) -> tuple[int, int, list[UnsupportedClaim]]:
    mentions = _condition_mentions(generated, conditions.text, glossary)
    bad, checked_negation = [], 0
    for b, e, term in mentions:
        phrase = generated[b:e]
        polarities = conditions.polarities_of(term or phrase)
        if not polarities:  # a plain phrase for a source term ("high blood pressure" for hypertension)
            key = _norm(phrase)
            for entry in glossary:
                if (
                    key
                    and f" {key} " in f" {_norm(entry.plain)} "
                    and (found := conditions.polarities_of(entry.term))
                ):
                    polarities |= found
        if not polarities:
            polarities = conditions.polarities_by_code(phrase)
        if not polarities:
            bad.append(UnsupportedClaim(kind="diagnosis", text=phrase, reason="diagnosis not in the source"))
            continue
        checked_negation += 1
        negated = is_negated(generated, b, e)
        if negated not in polarities:
            reason = (
                "stated as absent, affirmed in the source"
                if negated
                else "stated as present, negated in the source"
            )
            bad.append(UnsupportedClaim(kind="negation", text=phrase, reason=reason))
    return len(mentions), checked_negation, bad


def check_faithfulness(
    generated: str,
    source_text: str,
    entities: Iterable[dict[str, Any]],
    glossary: Sequence[GlossaryEntry] = (),
) -> FaithfulnessReport:
    """Check ``generated`` against ``source_text`` and its DetectEntitiesV2 ``entities``.

    ``glossary`` holds the (term, plain) pairs the text may use in place of a term; a plain phrase is
    supported where its term is in the source. Claims' ``reason`` strings never quote the document.
    """
    ents = list(entities)
    n_numbers, bad_numbers = _number_claims(generated, _source_numbers(source_text, ents))
    n_drugs, n_doses, bad_drugs = _drug_claims(generated, source_text, ents)
    conditions = _Conditions(source_text, [e for e in ents if e.get("Category") == "MEDICAL_CONDITION"])
    n_dx, n_neg, bad_dx = _condition_claims(generated, conditions, glossary)
    unsupported = bad_numbers + bad_drugs + bad_dx
    checked = {"number": n_numbers, "drug": n_drugs, "dose": n_doses, "diagnosis": n_dx, "negation": n_neg}
    return FaithfulnessReport(passed=not unsupported, checked=checked, unsupported=unsupported)
