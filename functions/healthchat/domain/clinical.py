"""Clinical facts from DetectEntitiesV2 entities: medications, conditions, labs, and document sections.

Pure functions over entity dicts, so they work the same on Comprehend Medical's output and the local
extractor's. Family-history and hypothetical conditions are not the patient's and are left out of
``conditions_from``; negated ones are kept with ``negated=True``, past-history-only ones with
``history=True``. Medications carrying NEGATION (not taken, or listed as an allergy by the local
extractor) are left out of ``medications_from``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from healthchat.domain.labs import interpret_labs
from healthchat.domain.models import Condition, LabResult, Medication

# Section headers as notes print them, by the section kind they open: the one table both section finders
# read (``sections_of`` here, and the medspaCy sectionizer's rules in adapters/local/context_medspacy).
SECTION_HEADERS: dict[str, tuple[str, ...]] = {
    "allergies": ("allergies:", "allergy:", "drug allergies:", "allergies/reactions:"),
    "family_history": ("family history:", "family hx:", "fhx:", "fh:"),
    "past_history": (
        "past medical history:",
        "pmh:",
        "medical history:",
        "past history:",
        "past surgical history:",
        "psh:",
    ),
    "medications": (
        "medications:",
        "current medications:",
        "meds:",
        "home medications:",
        "discharge medications:",
        "medication changes:",
    ),
    "assessment": (
        "assessment and plan:",
        "assessment & plan:",
        "assessment/plan:",
        "assessment:",
        "a/p:",
        "impression:",
        "diagnosis:",
        "diagnoses:",
        "discharge diagnosis:",
        "discharge diagnoses:",
    ),
    "plan": ("plan:",),
    "follow_up": (
        "follow-up:",
        "follow up:",
        "followup:",
        "instructions:",
        "discharge instructions:",
        "patient instructions:",
    ),
    "social_history": ("social history:",),
    "hpi": ("history of present illness:", "hpi:", "chief complaint:"),
    "ros": ("review of systems:", "ros:"),
    "exam": ("physical exam:", "physical examination:", "exam:"),
    "results": ("results:", "labs:", "lab results:"),
}


def _header_key(header: str) -> str:
    """Letters only, lower case, one space between words ("Assessment & Plan:" -> "assessment plan")."""
    return re.sub(r"[^a-z]+", " ", header.lower()).strip()


SECTION_NAMES: dict[str, str] = {
    _header_key(h): name for name, headers in SECTION_HEADERS.items() for h in headers
}
_HEADER_RE = re.compile(r"^[ \t]*(?P<h>[A-Za-z][A-Za-z /&\-]{0,38}[A-Za-z])[ \t]*:", re.MULTILINE)
_BLANK_RE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Section:
    name: str  # normalized kind, e.g. "allergies", "family_history", "assessment"
    begin: int  # header start
    body_begin: int  # first character after the header's colon
    end: int


def sections_of(text: str) -> list[Section]:
    """Known section headers ('Allergies:', 'Family History:', 'Assessment and Plan:') and their extent
    (see :func:`section_extents`)."""
    heads = []
    for m in _HEADER_RE.finditer(text):
        name = SECTION_NAMES.get(_header_key(m.group("h")))
        if name is not None:
            heads.append((m.start(), m.end(), name))
    return section_extents(text, heads)


def section_extents(text: str, heads: Iterable[tuple[int, int, str]]) -> list[Section]:
    """Sections from headers found in ``text`` as (header begin, body begin, kind): a section runs to the
    next header or the next blank line, whichever comes first."""
    ordered = sorted(heads)
    out = []
    for i, (begin, body, name) in enumerate(ordered):
        nxt = ordered[i + 1][0] if i + 1 < len(ordered) else len(text)
        blank = _BLANK_RE.search(text, body, nxt)
        # a header followed directly by a blank line ("Plan:\n\n1. ...") owns the block after it
        if blank is not None and not text[body : blank.start()].strip():
            blank = _BLANK_RE.search(text, blank.end(), nxt)
        out.append(Section(name, begin, body, blank.start() if blank else nxt))
    return out


class SectionMap:
    """The sections of one text (found by :func:`sections_of` unless given), answering "which section is
    this offset in?" in O(log n)."""

    def __init__(self, text: str, sections: list[Section] | None = None) -> None:
        self.sections = sections_of(text) if sections is None else sections
        self._starts = [s.body_begin for s in self.sections]

    def at(self, offset: int) -> str | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self.sections[i].end:
            return self.sections[i].name
        return None


def _has_trait(entity: dict[str, Any], name: str) -> bool:
    return any(t.get("Name") == name for t in entity.get("Traits") or [])


def _attr_text(entity: dict[str, Any], kind: str) -> str | None:
    texts = [a["Text"] for a in entity.get("Attributes") or [] if a.get("Type") == kind]
    return " ".join(texts) if texts else None


def medications_from(entities: list[dict[str, Any]]) -> list[Medication]:
    """Current medications with strength/dose/route/frequency from their attributes, one per drug name."""
    by_name: dict[str, Medication] = {}
    for e in entities:
        if e.get("Category") != "MEDICATION" or e.get("Type") not in ("GENERIC_NAME", "BRAND_NAME"):
            continue
        if _has_trait(e, "NEGATION"):
            continue
        ends = [int(a["EndOffset"]) for a in e.get("Attributes") or []]
        med = Medication(
            name=" ".join(str(e["Text"]).split()),
            strength=_attr_text(e, "STRENGTH"),
            dose=_attr_text(e, "DOSAGE"),
            route=_attr_text(e, "ROUTE_OR_MODE"),
            frequency=_attr_text(e, "FREQUENCY"),
            begin_offset=int(e["BeginOffset"]),
            end_offset=max([int(e["EndOffset"]), *ends]),
        )
        key = med.name.lower()
        filled = sum(v is not None for v in (med.strength, med.dose, med.route, med.frequency))
        old = by_name.get(key)
        if old is None or filled > sum(
            v is not None for v in (old.strength, old.dose, old.route, old.frequency)
        ):
            by_name[key] = med
    return sorted(by_name.values(), key=lambda m: m.begin_offset)


def _icd10(entity: dict[str, Any]) -> str | None:
    concepts = entity.get("ICD10CMConcepts") or []
    if not concepts:
        return None
    best = max(concepts, key=lambda c: float(c.get("Score", 0.0)))
    code = best.get("Code")
    return str(code) if code else None


# a one-word adjective ("diabetic", "renal") beside a coded condition describes it, it is not one itself
_ADJECTIVE_RE = re.compile(r"[a-z]+(?:ic|al|ous|ive|oid|ary)", re.IGNORECASE)
_MODIFIER_GAP = 20  # characters between the adjective and the condition it describes ("X, likely diabetic")
_CLAUSE_END_RE = re.compile(r"[.;:]|\n[ \t]*\n")


def conditions_from(entities: list[dict[str, Any]], text: str | None = None) -> list[Condition]:
    """The patient's conditions (negated ones flagged, past-history-only ones flagged ``history``), one per
    condition and negation; ICD-10-CM if linked.

    Left out: family history, hypothetical ones ("go to the emergency department for chest pain"), a lone
    adjective beside a coded condition ("neuropathy, likely diabetic") and, when ``text`` is given, the
    reactions in an allergies section ("Penicillin (hives)"). The same condition named several ways is
    listed once (see :func:`_merge_same`).
    """
    sections = SectionMap(text) if text is not None else None
    found: list[Condition] = []
    for e in entities:
        if e.get("Category") != "MEDICAL_CONDITION" or e.get("Type") != "DX_NAME":
            continue
        if _has_trait(e, "PERTAINS_TO_FAMILY") or _has_trait(e, "HYPOTHETICAL"):
            continue
        begin = int(e["BeginOffset"])
        if sections is not None and sections.at(begin) == "allergies":
            continue  # the reaction to an allergen, not a condition the patient has
        found.append(
            Condition(
                name=" ".join(str(e["Text"]).split()),
                negated=_has_trait(e, "NEGATION"),
                icd10cm=_icd10(e),
                begin_offset=begin,
                end_offset=int(e["EndOffset"]),
                history=_has_trait(e, "PAST_HISTORY"),
            )
        )
    found = [c for c in found if not _describes_another(c, found, text)]
    merged = [_merge_same(group) for group in _same_condition_groups(found)]
    return sorted(merged, key=lambda c: c.begin_offset)


def _describes_another(cond: Condition, found: list[Condition], text: str | None) -> bool:
    """An uncoded one-word adjective right beside a coded condition, in the same clause."""
    if cond.icd10cm is not None or not _ADJECTIVE_RE.fullmatch(cond.name):
        return False
    for other in found:
        if other.icd10cm is None:
            continue
        if 0 <= cond.begin_offset - other.end_offset <= _MODIFIER_GAP:
            gap = (other.end_offset, cond.begin_offset)
        elif 0 <= other.begin_offset - cond.end_offset <= _MODIFIER_GAP:
            gap = (cond.end_offset, other.begin_offset)
        else:
            continue
        if text is None or not _CLAUSE_END_RE.search(text, *gap):
            return True
    return False


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", name.lower())


def _category(code: str | None) -> str | None:
    return code.split(".")[0].upper() if code else None


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _same_condition(a: Condition, b: Condition) -> bool:
    """Same negation, and either the same ICD-10-CM category with a word in common ("type 2 diabetes
    mellitus" / "diabetes", not "weight loss" / "polydipsia", both R63), or one name inside the other
    ("hypertension" / "essential hypertension") with codes that do not disagree ("anemia" D64.9 and
    "iron deficiency anemia" D50.9 stay apart)."""
    if a.negated != b.negated:
        return False
    wa, wb = _words(a.name), _words(b.name)
    ca, cb = _category(a.icd10cm), _category(b.icd10cm)
    if ca is not None and cb is not None and ca != cb:
        return False
    if ca is not None and ca == cb:
        stems = {w[:5] for w in wa if len(w) >= 4}
        if any(w[:5] in stems for w in wb if len(w) >= 4):
            return True
    return _contains(wa, wb) or _contains(wb, wa)


def _same_condition_groups(found: list[Condition]) -> list[list[Condition]]:
    """Connected groups under :func:`_same_condition`, in first-mention order."""
    groups: list[list[Condition]] = []
    for cond in found:
        joined = [g for g in groups if any(_same_condition(cond, c) for c in g)]
        merged = [c for g in joined for c in g] + [cond]
        groups = [g for g in groups if not any(g is j for j in joined)] + [merged]
    return groups


def _merge_same(group: list[Condition]) -> Condition:
    """One condition for a group naming it several ways: the most specific member (longest code, then
    most words, then longest name, then first mentioned); ``history`` only if every mention is history."""
    best = max(
        group,
        key=lambda c: (
            len((c.icd10cm or "").replace(".", "")),
            len(_words(c.name)),
            len(c.name),
            -c.begin_offset,
        ),
    )
    history = all(c.history for c in group)
    return best if best.history == history else best.model_copy(update={"history": history})


def labs_from(text: str, entities: list[dict[str, Any]]) -> list[LabResult]:
    """Lab results with reference ranges and flags (see :func:`healthchat.domain.labs.interpret_labs`)."""
    return interpret_labs(text, entities)
