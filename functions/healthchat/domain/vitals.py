"""Blood-pressure readings and current tobacco use found in document text, for tips.

Hand-written: "BP 150/95" and "current smoker" are short fixed phrasings; the medical extractor does not
emit vital signs (DetectEntitiesV2 has no BP type) and its tobacco entities miss "smoker"/"smokes".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_BP_RE = re.compile(
    r"\b(?:BP|B/P|blood pressure)\b(?:\s*(?:was|is|of|reading|measured|today|:|=|at))*\s*"
    r"(?P<sys>\d{2,3})\s*/\s*(?P<dia>\d{2,3})(?!\d|/\d)",
    re.IGNORECASE,
)
_SMOKING_RE = re.compile(
    r"\b(?:current(?:ly)? (?:a )?smok\w*|smokes|smoking|smoker|tobacco use|uses tobacco|cigarettes?|"
    r"packs? (?:per|a) day|ppd|vap(?:es|ing))\b",
    re.IGNORECASE,
)
_NOT_CURRENT_RE = re.compile(
    r"\b(?:no|not|denies|denied|never|non-?smoker|former|ex-?smoker|quit|stopped|remote|history of|"
    r"negative for|none)\b",
    re.IGNORECASE,
)
_SENTENCE_RE = re.compile(r"[^.\n;]+")


@dataclass(frozen=True)
class BloodPressure:
    systolic: int
    diastolic: int
    begin_offset: int
    end_offset: int

    @property
    def reading(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


def blood_pressures(text: str) -> list[BloodPressure]:
    """Readings such as 'BP 150/95', 'Blood pressure: 128/84 mmHg' (physiologically plausible only)."""
    out = []
    for m in _BP_RE.finditer(text):
        sys_, dia = int(m.group("sys")), int(m.group("dia"))
        if 60 <= sys_ <= 300 and 30 <= dia <= 200 and sys_ > dia:
            out.append(BloodPressure(sys_, dia, m.start("sys"), m.end("dia")))
    return out


def current_tobacco_use(text: str, entities: Iterable[dict[str, Any]] = ()) -> bool:
    """True when the document says the person uses tobacco now (not denied, not former)."""
    for e in entities:
        traits = {t.get("Name") for t in e.get("Traits") or []}
        if e.get("Type") == "TOBACCO_USE" and "NEGATION" not in traits:
            sentence = _sentence_at(text, int(e.get("BeginOffset", 0)))
            if not _NOT_CURRENT_RE.search(sentence):
                return True
    for m in _SENTENCE_RE.finditer(text):
        sentence = m.group(0)
        if _SMOKING_RE.search(sentence) and not _NOT_CURRENT_RE.search(sentence):
            return True
    return False


def _sentence_at(text: str, offset: int) -> str:
    for m in _SENTENCE_RE.finditer(text):
        if m.start() <= offset < m.end():
            return m.group(0)
    return ""
