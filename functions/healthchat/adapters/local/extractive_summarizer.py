"""Extractive summary: abnormal labs (built only from extracted values), then sentences picked from the text.

Every sentence carries the source spans it came from; apart from the lab sentence, sentences are
copied verbatim, so the summary cannot state a number, drug or diagnosis that is not in the source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from healthchat.domain.clinical import SectionMap
from healthchat.domain.models import LabResult, SourceSpan, Summary, SummarySentence

MAX_WORDS = 120
MIN_SENTENCES = 3
MAX_SENTENCE_WORDS = 40
_SALIENT = frozenset(("MEDICAL_CONDITION", "MEDICATION", "TEST_TREATMENT_PROCEDURE", "ANATOMY"))
MAX_LAB_WORDS = 80  # the lab sentence leaves room for diagnoses, medication changes and follow-up
_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"])")
_BULLET_RE = re.compile(r"^(?:[-*•]\s*|\d{1,2}[.)]\s+|[A-Z][A-Za-z /&]{0,38}:\s*)")
_MED_CHANGE_RE = re.compile(
    r"\b(?:start(?:ed|ing)?|begin|began|initiat\w*|increas\w*|decreas\w*|reduc\w*|lower\w*|rais\w*|"
    r"stop(?:ped)?|discontinu\w*|switch\w*|chang\w*|adjust\w*|hold|held|resume\w*|new)\b",
    re.IGNORECASE,
)
_FOLLOW_UP_RE = re.compile(
    r"\b(?:follow[- ]?up|return|recheck|re-check|repeat|schedul\w*|appointment|see (?:your|you|me)|"
    r"come back|in \d+ (?:days?|weeks?|months?)|next visit)\b",
    re.IGNORECASE,
)


_HEADER_RE = re.compile(r"^[A-Z][A-Z0-9 /&,()-]{1,40}:")


def _blocks(text: str) -> list[tuple[int, int]]:
    """Logical lines: a wrapped line joins the one before it unless that one ended a sentence or
    a header, or the new line starts a list item or a header (clinical notes wrap mid-sentence)."""
    blocks: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        starts_item = bool(_BULLET_RE.match(stripped)) or bool(_HEADER_RE.match(stripped))
        if blocks and stripped and not starts_item:
            prev = text[blocks[-1][0] : blocks[-1][1]].rstrip()
            if prev and prev[-1] not in ".!?:" and not _HEADER_RE.match(prev.strip()):
                blocks[-1] = (blocks[-1][0], pos + len(line))
                pos += len(line) + 1
                continue
        blocks.append((pos, pos + len(line)))
        pos += len(line) + 1
    return blocks


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(begin, end) of sentences: logical lines split at sentence ends; list markers and headers trimmed."""
    spans = []
    for start, stop in _blocks(text):
        block = text[start:stop]
        parts, cursor = [], 0
        for m in _SPLIT_RE.finditer(block):
            parts.append((cursor, m.start()))
            cursor = m.end()
        parts.append((cursor, len(block)))
        for b, e in parts:
            seg = block[b:e]
            lead = len(seg) - len(seg.lstrip())
            bullet = _BULLET_RE.match(seg[lead:])
            b2 = b + lead + (bullet.end() if bullet else 0)
            e2 = b + len(seg.rstrip())
            if e2 - b2 >= 3:
                spans.append((start + b2, start + e2))
    return spans


def _lab(item: LabResult | dict[str, Any]) -> LabResult:
    return item if isinstance(item, LabResult) else LabResult.model_validate(item)


def _lab_phrase(lab: LabResult, with_range: bool = True) -> str:
    value = f"{lab.value} {lab.unit}" if lab.unit and lab.unit != "%" else f"{lab.value}{lab.unit or ''}"
    rng = lab.reference_range.text if lab.reference_range and lab.reference_range.text else None
    printed = rng and lab.reference_range is not None and lab.reference_range.source != "typical"
    detail = f"{lab.flag}; range {rng}" if with_range and printed else lab.flag
    return f"{lab.name} {value} ({detail})"


def _spans(labs: list[LabResult]) -> list[SourceSpan]:
    return [SourceSpan(begin_offset=x.begin_offset, end_offset=x.end_offset) for x in labs]


def _salience(category: str | None, traits: set[str | None]) -> float:
    """How much an entity makes its sentence worth summarising: affirmed findings count most."""
    if category not in _SALIENT:
        return 0.0
    if traits & {"NEGATION", "HYPOTHETICAL"}:
        return 0.25
    return 0.5 if "PERTAINS_TO_FAMILY" in traits else 1.0


def _density(weight: float, span: tuple[int, int], text: str) -> float:
    """Medical content per length: of two sentences naming the same findings, the shorter reads easier."""
    return weight / (1 + _words(text[span[0] : span[1]]) / 15)


def _words(s: str) -> int:
    return len(s.split())


class ExtractiveSummarizer:
    """Summarizer port, deterministic and offline.

    Order: results outside the reference range, diagnoses/assessment, medication changes,
    follow-up instructions; at most ``MAX_WORDS`` words.
    """

    name = "healthchat-extractive-0.1"

    def summarize(
        self, text: str, entities: Sequence[dict[str, Any]], labs: Sequence[LabResult | dict[str, Any]]
    ) -> Summary:
        sentences: list[SummarySentence] = []
        budget = MAX_WORDS
        lab_results = [_lab(x) for x in labs]
        lab_sentence = self._lab_sentence(lab_results, budget)
        if lab_sentence is not None:
            sentences.append(lab_sentence)
            budget -= _words(lab_sentence.text)
        lab_spans = [(x.begin_offset, x.end_offset) for x in lab_results]
        for b, e in self._picked(text, entities, lab_spans):
            s = " ".join(text[b:e].split())
            if not s.endswith((".", "!", "?")):
                s += "."
            if _words(s) > budget:
                continue
            sentences.append(SummarySentence(text=s, source_spans=[SourceSpan(begin_offset=b, end_offset=e)]))
            budget -= _words(s)
        return Summary(text=" ".join(s.text for s in sentences), sentences=sentences)

    @staticmethod
    def _lab_sentence(labs: list[LabResult], budget: int) -> SummarySentence | None:
        """Every result outside its range, with the printed range when the words allow, else without it;
        if even that is too long, as many as fit and a count of the rest."""
        out = [lab for lab in labs if lab.flag in ("low", "high", "abnormal")]
        if not out:
            return None
        lead = "Results outside the reference range: "
        limit = min(budget, MAX_LAB_WORDS)
        for with_range in (True, False):
            sentence = lead + ", ".join(_lab_phrase(x, with_range) for x in out) + "."
            if _words(sentence) <= limit:
                return SummarySentence(text=sentence, source_spans=_spans(out))
        for n in range(len(out) - 1, 0, -1):
            rest = len(out) - n
            sentence = f"{lead}{', '.join(_lab_phrase(x, False) for x in out[:n])}, and {rest} more."
            if _words(sentence) <= limit:
                return SummarySentence(text=sentence, source_spans=_spans(out))
        return None

    @staticmethod
    def _picked(
        text: str, entities: Sequence[dict[str, Any]], lab_spans: Sequence[tuple[int, int]] = ()
    ) -> list[tuple[int, int]]:
        sections = SectionMap(text)
        spans = split_sentences(text)
        starts = [b for b, _ in spans]

        def sentence_of(offset: int) -> int:
            lo, hi = 0, len(starts)
            while lo < hi:  # last sentence starting at or before offset
                mid = (lo + hi) // 2
                if starts[mid] <= offset:
                    lo = mid + 1
                else:
                    hi = mid
            return lo - 1

        dx, meds = set(), set()
        weight = [0.0] * len(spans)
        for e in entities:
            traits = {t.get("Name") for t in e.get("Traits") or []}
            i = sentence_of(int(e["BeginOffset"]))
            if i < 0 or int(e["BeginOffset"]) >= spans[i][1]:
                continue
            if e.get("Category") == "PROTECTED_HEALTH_INFORMATION":
                weight[i] = float("-inf")  # never copy a name, date or id into the summary by salience
            weight[i] += _salience(e.get("Category"), traits)
            if e.get("Category") == "MEDICAL_CONDITION" and "DIAGNOSIS" in traits and not traits & {
                "NEGATION", "PERTAINS_TO_FAMILY", "HYPOTHETICAL"
            }:  # fmt: skip
                dx.add(i)
            if e.get("Category") == "MEDICATION" and "NEGATION" not in traits:
                meds.add(i)
        assess = [i for i, (b, _) in enumerate(spans) if sections.at(b) == "assessment"]
        groups = [
            (assess or sorted(dx))[:3],
            [i for i in sorted(meds) if _MED_CHANGE_RE.search(text[spans[i][0] : spans[i][1]])][:3],
            [i for i, (b, e) in enumerate(spans) if _FOLLOW_UP_RE.search(text[b:e])][:2],
        ]
        chosen: list[int] = []
        for group in groups:
            chosen.extend(i for i in group if i not in chosen)
        if len(chosen) < MIN_SENTENCES:
            # no assessment, medication change or follow-up found (a history section, a letter):
            # the sentences with the most medical content, in document order
            # (not table rows of lab results: the lab sentence covers them; not run-on OCR blocks)
            def prose(i: int) -> bool:
                b, e = spans[i]
                rows = any(lb < e and b < le for lb, le in lab_spans)
                return (
                    weight[i] > 0 and i not in chosen and not rows and _words(text[b:e]) <= MAX_SENTENCE_WORDS
                )

            ranked = sorted(
                filter(prose, range(len(spans))), key=lambda i: (-_density(weight[i], spans[i], text), i)
            )
            chosen.extend(sorted(ranked[: MIN_SENTENCES - len(chosen)]))
        return [spans[i] for i in chosen]
