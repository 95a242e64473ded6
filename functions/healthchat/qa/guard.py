"""Checks a chat model's answer must pass on top of the faithfulness check (numbers, drugs, diagnoses,
negation): no advice to change a medicine, no lab status word that contradicts the document's computed
flag, and no finding the cited passage gives a family member stated for the patient; and numbers written
in words turned into digits (:func:`words_to_digits`) so the faithfulness check sees them.

Hand-written rules, for the reason ``domain.faithfulness`` gives (no offline library checks clinical
claims); drugs and conditions are found with the local extractor's lexicon, as the faithfulness check
does. Each check returns a short PHI-free reason, never the offending words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from healthchat.domain.claim_numbers import UNIT_PATTERN, WORD_NUMS
from healthchat.domain.models import LabResult
from healthchat.qa.facts import norm

# ---- medication changes --------------------------------------------------------------------------------

_CHANGE = (
    r"(?:stop\w*|start\w*|quit\w*|discontinu\w*|doubl\w*|tripl\w*|skip\w*|miss\w*|increas\w*|decreas\w*|"
    r"reduc\w*|lower\w*|rais\w*|switch\w*|halv\w*|cut\w*(?: back| down)?|chang\w*|restart\w*|resum\w*|"
    r"taper\w*|wean\w*|hold\w*|pause\w*|(?:go|come|get) off|(?:take|taking) (?:more|less|extra|an extra|"
    r"another|double|half|twice)|(?:don't|do not|never) take)"
)
# advice: an imperative ("Double your dose"), "you should/can/need to ...", "it is fine to ...", "I suggest"
_ADVICE_RE = re.compile(
    rf"(?:^|[.!?;:]\s+|\b(?:yes|no|ok|okay|so|then|please|just)\W+)(?:please\s+|just\s+)?{_CHANGE}\b|"
    rf"\byou\s+(?:should|can|could|may|might|must|need to|have to|ought to|want to|had better|'d better|"
    rf"will need to|are able to)\s+(?:not\s+|also\s+|now\s+|safely\s+)?{_CHANGE}\b|"
    rf"\b(?:it is|it's|it would be)\s+(?:ok|okay|fine|safe|best|better|a good idea|wise|reasonable)\s+to\s+"
    rf"{_CHANGE}\b|\b(?:i|we)\s+(?:recommend|suggest|advise)\w*\b|\b(?:try|consider)\s+{_CHANGE}",
    re.IGNORECASE,
)
_MEDICINE_WORDS_RE = re.compile(
    r"\b(?:medicines?|medications?|meds|drugs?|pills?|tablets?|capsules?|doses?|dosage|prescriptions?|"
    r"insulin|inhaler)\b",
    re.IGNORECASE,
)
# "your doctor plans to increase ...": a report of the document, allowed when the cited passage says so
_ATTRIBUTED_RE = re.compile(
    r"\b(?:doctor|provider|clinician|physician|nurse|note|document|plan|report|record|care team)\b",
    re.IGNORECASE,
)
_REPORTED_CHANGE_RE = re.compile(
    rf"\b(?:says?|said|wants?|plans?|planned|recommend\w*|advis\w*|told|asks?|asked|ordered|wrote|decided)"
    rf"\b[^.!?]{{0,40}}?\b{_CHANGE}\b",
    re.IGNORECASE,
)
_SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*")


def _sentences(text: str) -> list[str]:
    return [m.group(0) for m in _SENTENCE_RE.finditer(text) if m.group(0).strip()]


def _has_medicine(sentence: str) -> bool:
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches

    if _MEDICINE_WORDS_RE.search(sentence):
        return True
    return any(t.category == "MEDICATION" for _, _, t in lexicon_matches(sentence, lexicon()))


def _change_stems(text: str) -> set[str]:
    return {m.group(0).lower()[:4] for m in re.finditer(_CHANGE, text, re.IGNORECASE)}


def medication_advice(answer: str, source: str) -> bool:
    """Whether ``answer`` tells the patient to start, stop, skip or change a medicine. A sentence that
    reports the document's own plan ("Your doctor plans to increase metformin") passes when the cited
    source states the same kind of change."""
    stated = _change_stems(source)
    for sentence in _sentences(answer):
        advice = _ADVICE_RE.search(sentence.strip()) is not None
        reported = _ATTRIBUTED_RE.search(sentence) is not None and _REPORTED_CHANGE_RE.search(sentence)
        if not (advice or reported) or not _has_medicine(sentence):
            continue
        if reported and stated and _change_stems(sentence) <= stated:
            continue  # the document's own plan, as the cited passage states it
        return True
    return False


# ---- numbers written as words ----------------------------------------------------------------------------

_UNITS_WORDS = {w: i for i, w in enumerate(("zero", *WORD_NUMS), 0)} | {
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS_WORDS, *_TENS_WORDS, *_SCALES], key=len, reverse=True))
_NUMBER_PHRASE_RE = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:(?:\s+|-|\s+and\s+)(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)
_UNIT_AFTER_RE = re.compile(rf"\s+(?:{UNIT_PATTERN})(?![A-Za-z0-9])", re.IGNORECASE)


def _value(phrase: str) -> int:
    total = current = 0
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and":
            continue
        if word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0
        else:
            current += _UNITS_WORDS.get(word, _TENS_WORDS.get(word, 0))
    return total + current


def words_to_digits(text: str) -> str:
    """``text`` with numbers written in words as digits ("five thousand mg" -> "5000 mg"); a lone "one"
    that counts nothing ("one of your medicines") stays a word."""

    def digits(m: re.Match[str]) -> str:
        value = _value(m.group(0))
        counts = value > 1 or _UNIT_AFTER_RE.match(text, m.end()) is not None
        return str(value) if counts else m.group(0)

    return _NUMBER_PHRASE_RE.sub(digits, text)


# ---- lab status words ----------------------------------------------------------------------------------

_STATUS_RE = re.compile(
    r"\b(?P<neg>not\s+|isn't\s+|wasn't\s+|aren't\s+|weren't\s+|never\s+)?(?:"
    r"(?P<high>high|higher|elevated|raised|above (?:the )?(?:normal |reference )?range)|"
    r"(?P<low>low|lower|decreased|below (?:the )?(?:normal |reference )?range)|"
    r"(?P<normal>normal|within (?:the )?(?:normal |reference )?range|in range|fine|ok|okay|"
    r"nothing to worry about)|"
    r"(?P<abnormal>abnormal|out of range))\b"
    # said of the lab ("LDL is high.", "high at 155"), not of a noun ("high blood pressure", "normal range")
    r"(?=\s*(?:$|[^\w\s]|(?:and|but|for|compared|than|at|in|on|so|which|because|according|per|as|or|to|"
    r"with|by|this|that|today|now|too|again|overall|enough)\b))",
    re.IGNORECASE,
)
# a status claim (and its negation) -> the computed flags it agrees with
_AGREES = {
    "high": {"high"},
    "low": {"low"},
    "normal": {"normal"},
    "abnormal": {"high", "low", "abnormal"},
}
_AGREES_NEGATED = {
    "high": {"normal", "low"},
    "low": {"normal", "high"},
    "normal": {"high", "low", "abnormal"},
    "abnormal": {"normal"},
}


def _lab_spans(sentence: str, labs: Sequence[LabResult]) -> list[tuple[int, LabResult]]:
    from healthchat.qa.facts import _lab_names

    lowered = f" {norm(sentence)} "
    found: list[tuple[int, int, LabResult]] = []
    for lab in labs:
        for name in _lab_names(lab):
            pos = lowered.find(f" {name} ")
            if pos >= 0:
                found.append((pos, len(name), lab))
    # where names overlap ("LDL cholesterol" and "cholesterol"), the longest wins
    found.sort(key=lambda f: (f[0], -f[1]))
    out: list[tuple[int, LabResult]] = []
    end = -1
    for pos, size, lab in found:
        if pos >= end:
            out.append((pos, lab))
            end = pos + size
    return out


def _norm_offset(sentence: str, offset: int) -> int:
    return len(norm(sentence[:offset]))


def contradicted_lab_status(answer: str, labs: Sequence[LabResult], source: str) -> bool:
    """Whether a sentence of ``answer`` calls a lab high/low/normal/abnormal against its computed flag.
    Each status word goes with the nearest lab named before it (else the first named after it). A lab with
    no computed flag may carry only a status word the cited source itself uses."""
    for sentence in _sentences(answer):
        spans = _lab_spans(sentence, labs)
        if not spans:
            continue
        for m in _STATUS_RE.finditer(sentence):
            status = next(k for k in ("high", "low", "normal", "abnormal") if m.group(k))
            at = _norm_offset(sentence, m.start())
            before = [lab for pos, lab in spans if pos <= at]
            lab = before[-1] if before else spans[0][1]
            if lab.flag == "unknown":
                if not re.search(rf"\b{re.escape(m.group(status))}\b", source, re.IGNORECASE):
                    return True
                continue
            agree = _AGREES_NEGATED[status] if m.group("neg") else _AGREES[status]
            if lab.flag not in agree:
                return True
    return False


# ---- findings of a family member -------------------------------------------------------------------------

_FAMILY_RE = re.compile(
    r"\b(?:mother|mom|father|dad|parents?|sister|brother|siblings?|aunt|uncle|grand(?:mother|father|parents?|"
    r"ma|pa)|cousin|son|daughter|children|niece|nephew|twin|family|maternal|paternal|FH|FHx)\b",
    re.IGNORECASE,
)
_PATIENT_RE = re.compile(r"\b(?:you|your|you've|you're|yours)\b", re.IGNORECASE)


def _conditions(text: str) -> list[str]:
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches

    return [
        text[b:e].lower() for b, e, t in lexicon_matches(text, lexicon()) if t.category == "MEDICAL_CONDITION"
    ]


def family_finding_for_patient(answer: str, source: str) -> bool:
    """Whether ``answer`` states for the patient a condition that the cited source names only in a sentence
    about a family member ("Mother had breast cancer" -> "you have breast cancer")."""
    family: set[str] = set()
    own: set[str] = set()
    for sentence in _sentences(source):
        (family if _FAMILY_RE.search(sentence) else own).update(_conditions(sentence))
    family -= own
    if not family:
        return False
    for sentence in _sentences(answer):
        if _FAMILY_RE.search(sentence) or not _PATIENT_RE.search(sentence):
            continue
        if family & set(_conditions(sentence)):
            return True
    return False


def guard_reason(answer: str, source: str, labs: Sequence[LabResult] = ()) -> str | None:
    """Why ``answer`` may not be shown although its cited ``source`` holds its claims, or None."""
    if medication_advice(answer, source):
        return "the model's answer advises a medication change"
    if contradicted_lab_status(answer, labs, source):
        return "the model's answer contradicts a lab flag"
    if family_finding_for_patient(answer, source):
        return "the model's answer gives a family member's finding to the patient"
    return None
