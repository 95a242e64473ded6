"""Plain-language rewrite of a summary with a glossary, plus a Flesch-Kincaid grade.

Flesch-Kincaid is hand-written (standard formula, heuristic syllable counter) rather than textstat:
textstat > 0.7.8 downloads data at run time and the Lambda package stays dependency-free. The rewrite
only swaps glossary terms (whose plain texts hold no digits or drug names) and re-phrases the lab
sentence from its own values, so it adds no number or drug that the summary does not contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from healthchat.data_files import data_json
from healthchat.domain.models import GlossaryEntry, PlainLanguage, Summary

_LAB_LEAD = "Results outside the reference range: "
_LAB_ITEM_RE = re.compile(
    r"(?P<name>[^(]+?) (?P<value>[<>]?\d[\d.,]*%?(?: [^\s(]+)?|[A-Za-z-]+) "
    r"\((?P<flag>low|high|abnormal)(?:; range (?P<range>[^)]+))?\)"
)
_FLAG_WORDS = {"high": "higher than", "low": "lower than", "abnormal": "different from"}
_WORD_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+(?:[.,]\d+)*")
_SENT_RE = re.compile(r"[.!?]+(?:\s|$)")


@dataclass(frozen=True)
class _Entry:
    term: str
    plain: str
    swap: bool
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _glossary() -> tuple[_Entry, ...]:
    raw = data_json("glossary.json")
    entries = []
    for e in sorted(raw["entries"], key=lambda x: -len(x["term"])):
        term = e["term"]
        exact = len(term) <= 4 or term.isupper()
        flags = 0 if exact else re.IGNORECASE
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", flags)
        entries.append(_Entry(term, e["plain"], bool(e["swap"]), pattern))
    return tuple(entries)


def count_syllables(word: str) -> int:
    """Vowel-group count with the usual English corrections (silent final e, -le, -ed)."""
    w = word.lower()
    if not w.isalpha():
        return max(1, len(w) // 3) if w else 0
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]+", w)))


def flesch_kincaid_grade(text: str) -> float | None:
    """0.39 * words/sentences + 11.8 * syllables/words - 15.59; None for text without words."""
    words = _WORD_RE.findall(text)
    if not words:
        return None
    sentences = max(1, len(_SENT_RE.findall(text.strip() + " ")))
    syllables = sum(count_syllables(w) for w in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return round(grade, 1)


def _lab_sentences(sentence: str) -> list[str] | None:
    if not sentence.startswith(_LAB_LEAD):
        return None
    out = []
    for item in re.split(r"(?<=\)), ", sentence[len(_LAB_LEAD) :].rstrip(".")):
        m = _LAB_ITEM_RE.fullmatch(item)
        if m is None:
            return None
        name, value = m.group("name").strip(), m.group("value")
        line = f"Your {name} result was {value}."
        rng = m.group("range")
        line += f" This is {_FLAG_WORDS[m.group('flag')]} the usual range"
        line += f" ({rng})." if rng else "."
        out.append(line)
    return out or None


class GlossarySimplifier:
    """Simplifier port: glossary swaps, short sentences, Flesch-Kincaid grades."""

    name = "healthchat-glossary-0.1"

    def simplify(self, summary: Summary, text: str) -> PlainLanguage:
        used: dict[str, GlossaryEntry] = {}
        pieces: list[str] = []
        for s in summary.sentences:
            lab = _lab_sentences(s.text)
            pieces.extend(lab if lab is not None else self._split(s.text))
        if not summary.sentences and summary.text:
            pieces.extend(self._split(summary.text))
        rewritten = [self._rewrite(p, used) for p in pieces]
        out = " ".join(r for r in rewritten if r)
        return PlainLanguage(
            text=out,
            reading_grade=flesch_kincaid_grade(out),
            source_reading_grade=flesch_kincaid_grade(text or summary.text),
            glossary=list(used.values()),
        )

    @staticmethod
    def _split(sentence: str) -> list[str]:
        parts = [p.strip() for p in re.split(r";\s+", sentence) if p.strip()]
        return [p if p.endswith((".", "!", "?")) else p + "." for p in parts]

    @staticmethod
    def _rewrite(sentence: str, used: dict[str, GlossaryEntry]) -> str:
        """Swap terms in one pass over the original sentence (longest terms first, no overlaps)."""
        swaps: list[tuple[int, int, str]] = []
        for entry in _glossary():
            for m in entry.pattern.finditer(sentence):
                if any(m.start() < e and b < m.end() for b, e, _ in swaps):
                    continue
                used.setdefault(entry.term.lower(), GlossaryEntry(term=entry.term, plain=entry.plain))
                if entry.swap:
                    swaps.append((m.start(), m.end(), entry.plain))
        out, last = [], 0
        for b, e, plain in sorted(swaps):
            out.append(sentence[last:b] + plain)
            last = e
        text = "".join(out) + sentence[last:]
        return text[:1].upper() + text[1:]
