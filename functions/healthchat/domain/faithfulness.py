"""Faithfulness check: every number (with its unit), drug, dose and diagnosis a generated text states must
be supported by the source document or its extracted entities, and no condition's negation may flip.

Hand-written: no library checks clinical claims against a source offline (entailment models need torch and
a model download, and they miss a changed unit). Drugs and conditions are found with the local extractor's
lexicons, imported on first use (about 0.35 s once), not with the CRF or medspaCy, so importing this module
stays light and the check costs milliseconds. Negation is judged with ConText-style cue rules in the
generated text and with the entities' NEGATION trait (else the same rules) in the source. Number claims
(units, dates, pairs) live in ``claim_numbers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from healthchat.domain.claim_numbers import (
    THOUSANDS_RE,
    UNIT_PATTERN,
    WORD_NUMS,
    canon,
    norm_words,
    number_claims,
    source_numbers,
    unit_of,
)
from healthchat.domain.models import FaithfulnessReport, GlossaryEntry, UnsupportedClaim

KINDS = ("number", "drug", "dose", "diagnosis", "negation")

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
_NEG_WINDOW = 400  # characters before a mention searched for its clause start (a rewritten list grows)
# at most this many words between a pre-cue and the mention (NegEx uses 5), unless they are a list
# ("denies chest pain, shortness of breath, palpitations or swelling"), which the clause end bounds
_NEG_SCOPE_WORDS = 6
_WORDS_RE = re.compile(r"[A-Za-z0-9']+")
_POST_NEG_RE = re.compile(
    r"\W*(?:(?:was|is|were|are|has been|have been)\s+)?(?:ruled out|excluded|negative|absent|"
    r"not (?:seen|found|present|detected|identified)|free)\b",
    re.IGNORECASE,
)


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
    key = norm_words(name)
    return _drug_generics().get(key, key)


def _dose_key(text: str) -> str:
    text = THOUSANDS_RE.sub("", text.lower())
    text = re.sub(r"\b(?:half an?|1/2)\b", "0.5", text)
    text = re.sub(rf"\b({'|'.join(WORD_NUMS)})\b", lambda m: WORD_NUMS[m.group(1)], text)
    unit = re.search(rf"(?<![a-z])({UNIT_PATTERN})(?![a-z])", text)
    nums = "/".join(canon(n) for n in re.findall(r"\d+(?:\.\d+)?", text))
    return f"{nums} {unit_of(unit.group(1)) or '' if unit else ''}".strip()


def _doses_after(text: str, end: int, limit: int) -> list[tuple[str, str]]:
    """(dose key, as written) of the strengths and doses in the window after a drug name."""
    from healthchat.adapters.local import medical_context as ctx

    window = text[end : min(limit, end + ctx.MED_WINDOW)]
    stop = ctx.MED_WINDOW_STOP_RE.search(window)
    window = THOUSANDS_RE.sub("", window[: stop.start()] if stop else window)
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
        words = norm_words(phrase).split()
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
            key = norm_words(phrase)
            for entry in glossary:
                if (
                    key
                    and f" {key} " in f" {norm_words(entry.plain)} "
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
    n_numbers, bad_numbers = number_claims(generated, source_numbers(source_text, ents))
    n_drugs, n_doses, bad_drugs = _drug_claims(generated, source_text, ents)
    conditions = _Conditions(source_text, [e for e in ents if e.get("Category") == "MEDICAL_CONDITION"])
    n_dx, n_neg, bad_dx = _condition_claims(generated, conditions, glossary)
    unsupported = bad_numbers + bad_drugs + bad_dx
    checked = {"number": n_numbers, "drug": n_drugs, "dose": n_doses, "diagnosis": n_dx, "negation": n_neg}
    return FaithfulnessReport(passed=not unsupported, checked=checked, unsupported=unsupported)
