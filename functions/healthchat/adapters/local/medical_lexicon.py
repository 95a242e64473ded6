"""Lexicons of the local medical extractor, and their matcher.

The curated lists (``data/medications.json``, ``clinical_terms.json``), the generated drug names
(``data/drug_names.tsv``) and social-history substances are what the extractor emits as terms; together
with the ICD-10-CM condition heads (``data/gazetteer_conditions.txt``) they form the "feature lexicon"
whose matches the CRF tagger reads as its gazetteer feature. Hand-written matcher: a dict of phrases
keyed by first token, longest match first, in one pass - no library matches 60k phrases faster without
a tokenizer pipeline (spaCy's PhraseMatcher needs a Doc, which costs more than the whole match here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from healthchat.adapters.local.drug_lexicon import drug_terms
from healthchat.data_files import data_json, data_text

_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_SCORES = {"GENERIC_NAME": 0.95, "BRAND_NAME": 0.9, "ABBREVIATION": 0.8, "DX_NAME": 0.85, "TEST_NAME": 0.9}


@dataclass(frozen=True)
class Term:
    category: str
    type: str
    trait: str | None = None  # DIAGNOSIS / SYMPTOM / SIGN for conditions
    case_sensitive: bool = False
    surface: str = ""
    score: float = 0.85


@dataclass
class Lexicon:
    """Phrases keyed by their first lower-cased token; longest match wins."""

    by_first: dict[str, list[tuple[tuple[str, ...], Term]]] = field(default_factory=dict)

    def add(self, phrase: str, term: Term) -> None:
        toks = tuple(t.lower() for t in _TOKEN_RE.findall(phrase))
        if toks:
            self.by_first.setdefault(toks[0], []).append((toks, term))

    def finalize(self) -> None:
        for entries in self.by_first.values():
            entries.sort(key=lambda e: -len(e[0]))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    lex = Lexicon()
    meds = data_json("medications.json")
    for g in meds["generic"]:
        lex.add(g, Term("MEDICATION", "GENERIC_NAME", score=_SCORES["GENERIC_NAME"]))
    for b in meds["brand"]:
        lex.add(b, Term("MEDICATION", "BRAND_NAME", score=_SCORES["BRAND_NAME"]))
    for a in meds["abbreviation"]:
        lex.add(a, Term("MEDICATION", "GENERIC_NAME", case_sensitive=True, surface=a, score=0.8))
    for name, kind in SOCIAL.items():
        lex.add(name, Term("BEHAVIORAL_ENVIRONMENTAL_SOCIAL", kind, score=0.85))
    listed = {t for entries in lex.by_first.values() for t, _ in entries}
    for d in drug_terms():
        if d.phrase in NOT_DRUGS:
            continue
        toks = tuple(t.lower() for t in _TOKEN_RE.findall(d.phrase))
        if toks not in listed:  # the curated list's typing wins
            lex.add(d.phrase, Term("MEDICATION", d.type, score=_SCORES[d.type] - 0.05))
    terms = data_json("clinical_terms.json")
    for c in terms["conditions"]:
        caps = c["term"].isupper()
        lex.add(c["term"], Term("MEDICAL_CONDITION", "DX_NAME", c["trait"], caps, c["term"], 0.85))
    for p in terms["procedures"]:
        caps = p.isupper()
        lex.add(p, Term("TEST_TREATMENT_PROCEDURE", "PROCEDURE_NAME", None, caps, p, 0.8))
    for t in terms["treatments"]:
        caps = t.isupper()
        lex.add(t, Term("TEST_TREATMENT_PROCEDURE", "TREATMENT_NAME", None, caps, t, 0.8))
    for a in terms["anatomy"]:
        lex.add(a, Term("ANATOMY", "SYSTEM_ORGAN_SITE", score=0.75))
    lex.finalize()
    return lex


def lexicon_matches(text: str, lex: Lexicon) -> list[tuple[int, int, Term]]:
    toks = [(m.start(), m.end(), m.group(0)) for m in _TOKEN_RE.finditer(text)]
    lowered = [t[2].lower() for t in toks]
    out: list[tuple[int, int, Term]] = []
    i = 0
    while i < len(toks):
        hit = None
        for phrase, term in lex.by_first.get(lowered[i], ()):
            n = len(phrase)
            if tuple(lowered[i : i + n]) != phrase:
                continue
            begin, end = toks[i][0], toks[i + n - 1][1]
            if term.case_sensitive and text[begin:end] != term.surface:
                continue
            if n > 1 and "\n" in text[begin:end]:
                continue
            hit = (begin, end, term, n)
            break
        if hit is None:
            i += 1
            continue
        out.append(hit[:3])
        i += hit[3]
    return out


# substances the CRF learned as chemicals that are use/behaviour, not medicines a patient takes:
# DetectEntitiesV2's BEHAVIORAL_ENVIRONMENTAL_SOCIAL category and its types
SOCIAL = {
    "alcohol": "ALCOHOL_CONSUMPTION",
    "ethanol": "ALCOHOL_CONSUMPTION",
    "tobacco": "TOBACCO_USE",
    "nicotine": "TOBACCO_USE",
    "cigarettes": "TOBACCO_USE",
    "cocaine": "REC_DRUG_USE",
    "heroin": "REC_DRUG_USE",
    "marijuana": "REC_DRUG_USE",
    "cannabis": "REC_DRUG_USE",
    "methamphetamine": "REC_DRUG_USE",
}
NOT_DRUGS = frozenset(("oxygen", "water", "cholesterol", "saline"))
# in-code parts of the gazetteer the CRF was trained with (scripts/train_ner.py hashes them)
GAZETTEER_RULES: dict[str, object] = {"social": sorted(SOCIAL.items()), "not_drugs": sorted(NOT_DRUGS)}
GAZ_KIND = {
    "BEHAVIORAL_ENVIRONMENTAL_SOCIAL": "SOC",
    "MEDICATION": "MED",
    "MEDICAL_CONDITION": "DX",
    "TEST_TREATMENT_PROCEDURE": "PROC",
    "ANATOMY": "ANAT",
}


@lru_cache(maxsize=1)
def _feature_lexicon() -> Lexicon:
    """The lexicon plus ICD-10-CM condition names (data/gazetteer_conditions.txt): what the CRF's
    gazetteer feature looks up. The extra names are evidence for the tagger, not entities on their own."""
    lex = Lexicon()
    for entries in lexicon().by_first.values():
        for toks, term in entries:
            lex.by_first.setdefault(toks[0], []).append((toks, term))
    gaz = data_text("gazetteer_conditions.txt")
    dx = Term("MEDICAL_CONDITION", "DX_NAME")
    for line in gaz.splitlines():
        if line and not line.startswith("#"):
            lex.add(line, dx)
    lex.finalize()
    return lex


def lexicon_spans(text: str) -> list[tuple[int, int, str]]:
    """Feature-lexicon matches as (begin, end, kind), kind MED/DX/PROC/ANAT: the CRF's gazetteer input."""
    return [(b, e, GAZ_KIND[t.category]) for b, e, t in lexicon_matches(text, _feature_lexicon())]
