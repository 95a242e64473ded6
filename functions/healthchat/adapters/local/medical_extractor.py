"""Local medical NER with output in Amazon Comprehend Medical's DetectEntitiesV2 shape.

How an entity is found, in order of precedence (an accepted span blocks any overlapping later one):
1. lab results (``healthchat.domain.labs``: table rows and "A1c was 7.2%" mentions), as TEST_NAME with
   TEST_VALUE/TEST_UNIT attributes;
2. PHI by pattern (names after "Patient:"/"Dr.", dates, ages, ids, phones, emails, addresses);
3. terms: the curated lexicons (``data/medications.json``, ``clinical_terms.json``) plus 48.8k drug names
   (``data/drug_names.tsv``), and the mentions of the CRF tagger (``ner_crf``: chemicals and diseases it
   learned from BC5CDR and NCBI-disease); the longest span wins, the lexicon on a tie.
Medication attributes (strength, dose, route, frequency, duration, form) are regexes over the words
after the name (``medical_context``). Traits (negation, hypothetical, uncertainty, family, history) come
from medspaCy's ConText and sectionizer (``context_medspacy``); DIAGNOSIS/SIGN/SYMPTOM from the lexicon.
Conditions get ICD-10-CM codes where the linker (``icd10``) is confident.

Allergies: a drug named in an "Allergies:" section or after "allergic to" is emitted as MEDICATION
with a NEGATION trait (the patient is not taking it); Comprehend Medical documents no rule for this,
and :func:`healthchat.domain.clinical.medications_from` drops NEGATION medications either way.
"""

from __future__ import annotations

import re
from typing import Any

from healthchat.adapters.local import medical_context as ctx
from healthchat.adapters.local.context_medspacy import annotator
from healthchat.adapters.local.icd10 import linker
from healthchat.adapters.local.medical_lexicon import (
    NOT_DRUGS,
    SOCIAL,
    Term,
    lexicon,
    lexicon_matches,
    lexicon_spans,
)
from healthchat.adapters.local.ner_crf import TaggedSpan, default_tagger
from healthchat.adapters.local.time_expressions import (
    TIME_RELATIONSHIP,
    TIME_TO_TYPES,
    find_time_expressions,
    relationship_type,
)
from healthchat.domain.labs import LabMention, find_lab_mentions, find_lab_rows, lookup_test
from healthchat.ports import EntityResult

_TEST_HEADS = frozenset(
    ("panel", "panels", "studies", "study", "count", "profile", "test", "tests", "screen")
)


def _lower_share(text: str) -> float:
    letters = sum(c.isalpha() for c in text)
    return sum(c.islower() for c in text) / letters if letters else 1.0


def _on_heading_line(text: str, offset: int) -> bool:
    """True if the line holding ``offset`` has letters but none in lower case."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end != -1 else len(text)]
    return not any(c.islower() for c in line)


def _chem_term(text: str, sp: TaggedSpan) -> tuple[int, int, Term] | None:
    """A CHEM mention as a medication, a social-history substance, or nothing (lab analytes such as
    potassium and glucose are left to the lab finder; oxygen and water are not medications)."""
    name = text[sp.begin : sp.end]
    attr = ctx.MED_ATTR_RE.search(name)
    if attr is not None:  # "metformin 500 mg PO BID": the dose is an attribute, not the name
        name = name[: attr.start()].rstrip(" ,(-")
        if len(name) < 3:
            return None
    end = sp.begin + len(name)
    social = SOCIAL.get(name.lower())
    if social is not None:
        return sp.begin, end, Term("BEHAVIORAL_ENVIRONMENTAL_SOCIAL", social)
    if lookup_test(name) is not None or name.lower() in NOT_DRUGS:
        return None
    return sp.begin, end, Term("MEDICATION", "GENERIC_NAME", score=sp.score)


def _condition_term(name: str, sp: TaggedSpan) -> tuple[int, int, Term] | None:
    """A DIS mention as a condition, unless it names a test or panel ("lipid panel", "CBC")."""
    words = name.lower().split()
    if lookup_test(name) is not None or (words and words[-1] in _TEST_HEADS):
        return None
    return sp.begin, sp.end, Term("MEDICAL_CONDITION", "DX_NAME", score=sp.score)


# categories whose traits come from ConText
_ASSERTED = frozenset(("MEDICAL_CONDITION", "MEDICATION", "BEHAVIORAL_ENVIRONMENTAL_SOCIAL"))
_TRAIT_ORDER = ("NEGATION", "HYPOTHETICAL", "LOW_CONFIDENCE", "PERTAINS_TO_FAMILY", "PAST_HISTORY")


class _Ids:
    def __init__(self) -> None:
        self.n = -1

    def next(self) -> int:
        self.n += 1
        return self.n


def _attribute(ids: _Ids, kind: str, category: str, begin: int, text: str, score: float) -> dict[str, Any]:
    return {
        "Type": kind,
        "Score": score,
        "RelationshipScore": 0.9,
        "RelationshipType": kind,
        "Id": ids.next(),
        "BeginOffset": begin,
        "EndOffset": begin + len(text),
        "Text": text,
        "Category": category,
        "Traits": [],
    }


def _med_attributes(text: str, ids: _Ids, end: int, limit: int) -> list[dict[str, Any]]:
    window = text[end : min(limit, end + ctx.MED_WINDOW)]
    stop = ctx.MED_WINDOW_STOP_RE.search(window)
    if stop is not None:
        window = window[: stop.start()]
    attrs = []
    for m in ctx.MED_ATTR_RE.finditer(window):
        kind = next(k for k in ctx.MED_ATTR_KINDS if m.group(k) is not None)
        attrs.append(_attribute(ids, kind, "MEDICATION", end + m.start(), m.group(0), 0.85))
    return attrs


def _lab_entity(ids: _Ids, text: str, lab: LabMention) -> dict[str, Any]:
    ent = _entity(ids, text, lab.name_begin, lab.name_end, "TEST_TREATMENT_PROCEDURE", "TEST_NAME", 0.9)
    attrs = [_attribute(ids, "TEST_VALUE", "TEST_TREATMENT_PROCEDURE", lab.value_begin, lab.value, 0.9)]
    if lab.unit:
        attrs.append(_attribute(ids, "TEST_UNIT", "TEST_TREATMENT_PROCEDURE", lab.unit_begin, lab.unit, 0.85))
    ent["Attributes"] = attrs
    return ent


def _entity(
    ids: _Ids, text: str, begin: int, end: int, category: str, kind: str, score: float
) -> dict[str, Any]:
    return _entity_at(ids.next(), text, begin, end, category, kind, score)


def _entity_at(
    ident: int, text: str, begin: int, end: int, category: str, kind: str, score: float = 0.8
) -> dict[str, Any]:
    return {
        "Id": ident,
        "BeginOffset": begin,
        "EndOffset": end,
        "Score": score,
        "Text": text[begin:end],
        "Category": category,
        "Type": kind,
        "Traits": [],
        "Attributes": [],
    }


def _phi_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for kind, pattern in ctx.PHI_PATTERNS:
        for m in pattern.finditer(text):
            group = next((g for g in ("v", "w") if g in m.groupdict() and m.group(g)), None)
            b, e = (m.start(group), m.end(group)) if group else (m.start(), m.end())
            spans.append((b, e, kind))
    return spans


_TIME_GAP = 80  # characters between a time expression and the entity it belongs to, at most
_CLAUSE_END_RE = re.compile(r"\n|[.;!?](?:\s|$)")


def _time_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TIME_EXPRESSION entities as DetectEntitiesV2 returns them: only a time tied to a medication,
    condition, test, procedure or treatment in the same clause, typed by it (TIME_TO_DX_NAME ...) and
    carrying it as an OVERLAP attribute. Times inside another entity or attribute ("x 3 months" after
    a drug is its DURATION) are not repeated."""
    spans = [(int(x["BeginOffset"]), int(x["EndOffset"])) for e in entities for x in (e, *e["Attributes"])]
    occupied = bytearray(len(text))
    for b, e in spans:
        occupied[b:e] = b"\x01" * (e - b)
    related = [e for e in entities if (e["Category"], e["Type"]) in TIME_TO_TYPES]
    next_id = 1 + max((int(x["Id"]) for e in entities for x in (e, *e["Attributes"])), default=-1)
    out = []
    for b, e in find_time_expressions(text):
        if occupied.find(1, b, e) != -1:
            continue
        best = _nearest_in_clause(text, b, e, related)
        if best is None:
            continue
        attr = {
            k: best[k] for k in ("Type", "Score", "BeginOffset", "EndOffset", "Text", "Category", "Traits")
        }
        attr.update(Id=next_id + 1, RelationshipScore=0.8, RelationshipType=TIME_RELATIONSHIP)
        ent = _entity_at(
            next_id, text, b, e, "TIME_EXPRESSION", relationship_type(best["Category"], best["Type"])
        )
        ent["Attributes"] = [attr]
        out.append(ent)
        next_id += 2
    return out


def _nearest_in_clause(text: str, b: int, e: int, related: list[dict[str, Any]]) -> dict[str, Any] | None:
    best, gap = None, _TIME_GAP + 1
    for ent in related:
        lo, hi = (int(ent["EndOffset"]), b) if int(ent["EndOffset"]) <= b else (e, int(ent["BeginOffset"]))
        if hi < lo:
            continue  # overlapping spans are excluded before this
        if hi - lo < gap and not _CLAUSE_END_RE.search(text, lo, hi):
            best, gap = ent, hi - lo
    return best


class LocalMedicalExtractor:
    """MedicalExtractor port, offline: DetectEntitiesV2-shaped entities from lexicons and rules.

    Parameters
    ----------
    None. Lexicons load from ``healthchat/data/*.json`` on first construction and are shared.
    """

    name = "healthchat-crf-0.2"

    def __init__(self) -> None:
        self._lex = lexicon()
        self._tagger = default_tagger()
        self.model_card: dict[str, Any] = self._tagger.card

    def detect_entities(self, text: str) -> EntityResult:
        """Entities with offsets into ``text``; Ids unique within the result (entities and attributes)."""
        taken = bytearray(len(text))  # 1 where an accepted entity already sits (O(1) overlap checks)

        def take(b: int, e: int) -> bool:
            if taken.find(1, b, e) != -1:
                return False
            taken[b:e] = b"\x01" * (e - b)
            return True

        found: list[tuple[int, int, str, Any]] = []
        for lab in sorted(
            find_lab_rows(text) + find_lab_mentions(text), key=lambda m: (m.name_begin, -m.end)
        ):
            if take(lab.name_begin, lab.end):
                found.append((lab.name_begin, lab.name_end, "LAB", lab))
        lexical = lexicon_matches(text, self._lex)
        drugs = bytearray(len(text))
        for b, e, term in lexical:
            if term.category == "MEDICATION":
                drugs[b:e] = b"\x01" * (e - b)
        for b, e, kind in _phi_spans(text):
            if drugs.find(1, b, e) == -1 and take(b, e):
                found.append((b, e, "PHI", kind))
        for m in ctx.ROUTE_PHRASE_RE.finditer(text):
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        terms = lexical + self._tagged_terms(text)
        # longest span first; on equal length the lexicon's (listed before the tagger's) wins
        for b, e, term in sorted(terms, key=lambda t: t[0] - t[1]):
            if take(b, e):
                found.append((b, e, "TERM", term))
        found.sort(key=lambda f: f[0])
        entities = self._build(text, found)
        entities += _time_entities(text, entities)
        entities.sort(key=lambda ent: int(ent["BeginOffset"]))
        return EntityResult(entities=entities, model_version=self.name)

    def _tagged_terms(self, text: str) -> list[tuple[int, int, Term]]:
        """The CRF's mentions as terms. Mentions on heading lines ("IRON STUDIES", "HISTORY OF PRESENT
        ILLNESS") are dropped unless the whole text is in capitals: a heading names a section, not a
        finding, and the tagger, trained on abstracts, has seen few capitalised lines."""
        out = []
        mostly_caps = _lower_share(text) < 0.2
        for sp in self._tagger.tag(text, lexicon_spans(text)):
            name = text[sp.begin : sp.end]
            if "\n" in name or (not mostly_caps and _on_heading_line(text, sp.begin)):
                continue
            term = _chem_term(text, sp) if sp.label == "CHEM" else _condition_term(name, sp)
            if term is not None:
                out.append(term)
        return out

    def _build(self, text: str, found: list[tuple[int, int, str, Any]]) -> list[dict[str, Any]]:
        ids = _Ids()
        asserted = [
            (b, e, p.category) for b, e, kind, p in found if kind == "TERM" and p.category in _ASSERTED
        ]
        context = iter(annotator().annotate(text, asserted)) if asserted else iter(())
        entities = []
        for i, (b, e, kind, payload) in enumerate(found):
            if kind == "LAB":
                entities.append(_lab_entity(ids, text, payload))
            elif kind == "PHI":
                entities.append(_entity(ids, text, b, e, "PROTECTED_HEALTH_INFORMATION", payload, 0.8))
            else:
                next_begin = found[i + 1][0] if i + 1 < len(found) else len(text)
                traits = next(context).traits if payload.category in _ASSERTED else frozenset()
                entities.append(_term_entity(ids, text, b, e, payload, traits, next_begin))
        return entities


def _term_entity(
    ids: _Ids, text: str, b: int, e: int, term: Term, context: frozenset[str], next_begin: int
) -> dict[str, Any]:
    """One lexicon/tagger term as an entity; ``context`` holds its ConText traits (negation, family...)."""
    ent = _entity(ids, text, b, e, term.category, term.type, term.score)
    if term.category == "MEDICATION":
        ent["Attributes"] = _med_attributes(text, ids, e, next_begin)
        names = [t for t in _TRAIT_ORDER if t in context and t in ("NEGATION", "PAST_HISTORY")]
        ent["Traits"] = [{"Name": t, "Score": 0.8} for t in names]
    elif term.category == "BEHAVIORAL_ENVIRONMENTAL_SOCIAL" and "NEGATION" in context:
        ent["Traits"] = [{"Name": "NEGATION", "Score": 0.8}]  # "does not smoke or drink alcohol"
    elif term.category == "MEDICAL_CONDITION":
        names = ([term.trait] if term.trait else []) + [t for t in _TRAIT_ORDER if t in context]
        ent["Traits"] = [{"Name": t, "Score": 0.8} for t in names]
        concepts = linker().link(ent["Text"])
        if concepts:
            ent["ICD10CMConcepts"] = concepts
    return ent
