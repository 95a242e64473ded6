"""Structured facts a question asks about: the document's labs, medications and conditions it names, and
glossary definitions, each as an answer line built only from its cited text.

Hand-written matching: names come from the result itself and from HealthChat's own tables (lab aliases,
brand names, the glossary), so a lookup is a phrase match on normalised words, with no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from healthchat.data_files import data_json
from healthchat.domain.labs import lookup_test
from healthchat.domain.models import Condition, DocumentResult, LabResult, Medication
from healthchat.qa.models import Citation
from healthchat.qa.text import document_passages, tokenize, words

GLOSSARY_TITLE = "HealthChat glossary (plain-language definitions written for HealthChat)"
LAB_GUIDE_TITLE = "HealthChat lab test guide"
# words too common in lab names to pick one test on their own
_GENERIC = frozenset(words("""blood cell count total level test serum panel result fasting free ratio"""))
_DEFINITION_RE = re.compile(
    r"\b(?:what (?:is|are|does|do)\b|what's\b|whats\b|mean(?:s|ing)?\b|define\b|definition\b|"
    r"stand for\b|used for\b|for\?|explain\b|why (?:am i|do i|was i) (?:on|taking)\b)",
    re.IGNORECASE,
)
# "what are the symptoms of X" asks about X, not what X is
_NOT_DEFINITION_RE = re.compile(
    r"\b(?:symptoms?|signs?|causes?|treat\w*|risks?|outlook|prevent\w*|diagnos\w*|stages?|research|"
    r"trials?|inherit\w*|complications?|how many|who gets)\b",
    re.IGNORECASE,
)
# question words that say how, not what, the question is about
FRAME_WORDS = frozenset(
    words("""high low normal ok okay fine result level value function doctor say note report follow need body
    make help show test check sign cause amount good bad""")
)


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _has_phrase(haystack: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {haystack} "


def is_definition_question(question: str) -> bool:
    return bool(_DEFINITION_RE.search(question)) and not _NOT_DEFINITION_RE.search(question)


@dataclass
class Fact:
    """One answer line and the citations that carry every value it states."""

    line: str
    citations: list[Citation] = field(default_factory=list)
    kind: str = "fact"  # "lab" | "medication" | "condition" | "definition"
    term: str = ""  # the name the question asked about (a knowledge-base passage must mention it)


def _doc_citation(result: DocumentResult, text: str, begin: int, end: int, title: str) -> Citation:
    return Citation(
        text=text[begin:end],
        begin_offset=begin,
        end_offset=end,
        document_id=result.document_id,
        source="structured",
        title=title,
    )


def _own_citation(text: str, title: str) -> Citation:
    """A citation of HealthChat's own reviewed text (glossary, lab guide, typical range): offsets into it."""
    return Citation(text=text, begin_offset=0, end_offset=len(text), source="glossary", title=title)


# ---- labs -------------------------------------------------------------------------------------------


def _lab_names(lab: LabResult) -> list[str]:
    test = lookup_test(lab.name)
    names = [lab.name, *(test.aliases if test else ())]
    return [n for n in (norm(x) for x in names) if len(n) > 1]


def match_labs(question: str, labs: list[LabResult]) -> list[LabResult]:
    """Labs the question names: by name or alias, or by the head word of the name ("cholesterol"); failing
    those, labs whose explanation shares a topic word with the question ("kidney")."""
    q = norm(question)
    q_words = set(q.split()) | {w[:-1] for w in q.split() if w.endswith("s")}
    out = []
    for lab in labs:
        head = norm(lab.name).split()[-1] if lab.name.strip() else ""
        by_head = head not in _GENERIC and len(head) > 3 and head in q_words
        if by_head or any(_has_phrase(q, n) for n in _lab_names(lab)):
            out.append(lab)
    if out:
        return out
    topic = set(tokenize(question)) - FRAME_WORDS - _GENERIC
    return [lab for lab in labs if lab.explanation and topic & (set(tokenize(lab.explanation)) - _GENERIC)]


_FLAG_WORDS = {
    "high": "high (above the range)",
    "low": "low (below the range)",
    "normal": "within the range",
    "abnormal": "marked abnormal",
    "unknown": "not compared with a range",
}


def lab_fact(result: DocumentResult, text: str, lab: LabResult) -> Fact:
    value = f"{lab.value} {lab.unit}".strip() if lab.unit else lab.value
    cites = [_doc_citation(result, text, lab.begin_offset, lab.end_offset, f"Lab result: {lab.name}")]
    line = f"{lab.name}: {value}, {_FLAG_WORDS[lab.flag]}"
    rng = lab.reference_range
    if rng is not None and rng.text:
        if rng.source == "typical":
            typical = f"Typical adult range for {lab.name}: {rng.text}" + (f" {lab.unit}" if lab.unit else "")
            cites.append(_own_citation(typical, rng.citation or "HealthChat typical adult ranges"))
            line += f"; the report prints no range, HealthChat's typical adult range is {rng.text}"
        else:
            line += f"; the report's range is {rng.text}"
    return Fact(line + ".", cites, "lab", lab.name)


def lab_guide_fact(lab: LabResult) -> Fact | None:
    if not lab.explanation:
        return None
    return Fact(lab.explanation, [_own_citation(lab.explanation, LAB_GUIDE_TITLE)], "definition")


# ---- medications and conditions ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _brands() -> dict[str, str]:
    meds: dict[str, Any] = data_json("medications.json")
    return {norm(k): v.lower() for k, v in meds["brand"].items()}


def _generic_names_in(question: str) -> set[str]:
    q = norm(question)
    return {generic for brand, generic in _brands().items() if _has_phrase(q, brand)}


def match_medications(question: str, meds: list[Medication]) -> list[Medication]:
    q = norm(question)
    generics = _generic_names_in(question)
    return [m for m in meds if _has_phrase(q, norm(m.name)) or norm(m.name) in generics]


def medication_fact(result: DocumentResult, text: str, med: Medication) -> Fact:
    quoted = " ".join(text[med.begin_offset : med.end_offset].split())
    cite = _doc_citation(result, text, med.begin_offset, med.end_offset, f"Medication: {med.name}")
    return Fact(f'Your document lists {med.name}: "{quoted}".', [cite], "medication", med.name)


_NOT_CONDITION_WORDS = frozenset(
    [
        "what",
        "does",
        "mean",
        "have",
        "about",
        "document",
        "doctor",
        "note",
        "said",
        "from",
        "with",
        "that",
        "this",
        "there",
        "were",
        "when",
        "which",
        "your",
        "mine",
        "they",
        "them",
        "been",
        "being",
        "should",
        "could",
        "would",
    ]
)


def match_conditions(question: str, conditions: list[Condition]) -> list[Condition]:
    """Conditions the question names, or whose name holds a word of the question ("Do I have diabetes?"
    finds "type 2 diabetes mellitus"); the most specific (longest) first, one per (name, negated)."""
    q = norm(question)
    words = {w for w in q.split() if len(w) >= 4 and w not in _NOT_CONDITION_WORDS}
    seen: set[tuple[str, bool]] = set()
    out = []
    for c in sorted(conditions, key=lambda c: -len(c.name)):
        key = (norm(c.name), c.negated)
        if key not in seen and (_has_phrase(q, key[0]) or words & set(key[0].split())):
            seen.add(key)
            out.append(c)
    return out


def _enclosing(text: str, begin: int, end: int) -> tuple[int, int]:
    """The sentence (or line) of ``text`` around ``text[begin:end]``."""
    for span in document_passages(text):
        if span.begin <= begin and end <= span.end:
            return span.begin, span.end
    return begin, end


def condition_fact(result: DocumentResult, text: str, cond: Condition) -> Fact:
    begin, end = _enclosing(text, cond.begin_offset, cond.end_offset)
    cite = _doc_citation(result, text, begin, end, f"Condition: {cond.name}")
    quoted = " ".join(text[begin:end].split())
    if cond.negated:
        line = f'Your document records no {cond.name} (a negative finding): "{quoted}"'
    else:
        line = f'Your document mentions {cond.name}: "{quoted}"'
    return Fact(line, [cite], "condition", cond.name)


# ---- vital signs -------------------------------------------------------------------------------------

_BP_QUESTION_RE = re.compile(r"\b(?:blood pressures?|bp|b/p|vitals?|vital signs)\b", re.IGNORECASE)
BP_TERMS_RE = re.compile(r"\b(?:blood pressures?|BP|B/P|hypertens\w*|hypotens\w*)\b", re.IGNORECASE)


def asks_blood_pressure(question: str) -> bool:
    return bool(_BP_QUESTION_RE.search(question))


def blood_pressure_facts(result: DocumentResult, text: str) -> list[Fact]:
    """Each blood-pressure reading of the document ("BP 142/88"), quoted with the sentence it sits in."""
    from healthchat.domain.vitals import blood_pressures

    out = []
    for bp in blood_pressures(text):
        begin, end = _enclosing(text, bp.begin_offset, bp.end_offset)
        cite = _doc_citation(result, text, begin, end, "Vital signs: blood pressure")
        quoted = " ".join(text[begin:end].split())
        line = f'Your document records a blood pressure of {bp.reading}: "{quoted}"'
        out.append(Fact(line, [cite], "vital", "blood pressure"))
    return out


# ---- glossary ---------------------------------------------------------------------------------------


def _glossary() -> tuple[Any, ...]:
    """The process-wide glossary (parsed once, shared with the safety screen and the simplifier)."""
    from healthchat.adapters.local.glossary_data import glossary

    return glossary()


def glossary_facts(question: str, limit: int = 3) -> list[Fact]:
    """Definitions of the glossary terms the question names (longest first, not overlapping)."""
    out: list[Fact] = []
    taken: list[tuple[int, int]] = []
    lowered = question.lower()
    for entry in _glossary():  # longest terms first
        if entry.key not in lowered:
            continue
        m = entry.pattern.search(question)
        if m is None or any(b < m.end() and m.start() < e for b, e in taken):
            continue
        taken.append((m.start(), m.end()))
        text = f"{entry.term}: {entry.plain}"
        cite = _own_citation(text, GLOSSARY_TITLE)
        out.append(Fact(_definition(entry.term, entry.plain), [cite], "definition", entry.term))
        if len(out) == limit:
            break
    return out


def _definition(term: str, plain: str) -> str:
    """ "Metformin is a medicine that lowers blood sugar." / "eGFR means an estimate of ..." """
    verb = "is" if plain.lower().startswith(("a ", "an ", "the ")) and term.islower() else "means"
    return f"{term[:1].upper() + term[1:]} {verb} {plain}."
