"""Plain-language rewrite of a summary with the glossary, plus Flesch-Kincaid grades.

Grades come from textstat (pinned at 0.7.8: later versions download data at run time). The rewrite
and the abbreviation senses are hand-written rules rather than a model: every swap is a glossary entry
whose plain text holds no digit or drug name, an ambiguous abbreviation ("MS", "PT", "PE") is swapped
only when exactly one sense's cue words occur in its sentence (or, failing that, near it in the source
document), and the lab sentence is re-phrased from its own values, so nothing is added that the
summary does not already say.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import textstat

from healthchat.adapters.local.glossary_data import Entry, Sense, glossary
from healthchat.data_files import data_json
from healthchat.domain.models import GlossaryEntry, PlainLanguage, Summary

logger = logging.getLogger(__name__)

_LAB_LEAD = "Results outside the reference range: "
_LAB_ITEM_RE = re.compile(
    r"(?P<name>[^(]+?) (?P<value>[<>]?\d[\d.,]*%?(?: [^\s(]+)?|[A-Za-z-]+) "
    r"\((?P<flag>low|high|abnormal)(?:; range (?P<range>[^)]+))?\)"
)
_FLAG_WORDS = {"high": "higher than", "low": "lower than", "abnormal": "different from"}
_WORD_RE = re.compile(r"[A-Za-z]+|\d+")
_WINDOW = 300  # characters of source text either side of a sentence searched for sense cues
_ROUTE_FREQ = (
    r"(?:po|p\.o\.|bid|b\.i\.d\.|tid|qid|qd|qod|qam|qpm|qhs|hs|prn|sl|iv|im|sc|sq|subq|pr|ac|pc|daily|"
    r"nightly|q\.?\d+(?:-\d+)?h(?:r|rs)?)"
)
_DOSE_BEFORE = re.compile(
    r"(?:\d[\d.,/]*\s*(?:mg|mcg|g|gm|grams?|ml|cc|l|units?|iu|meq|tabs?|tablets?|caps?|capsules?|puffs?|"
    rf"drops?|gtts?|sprays?|patch(?:es)?|supp\w*|%)|(?<![A-Za-z]){_ROUTE_FREQ})[\s,]*$",
    re.IGNORECASE,
)
_DOSE_AFTER = re.compile(
    rf"^\s+(?:{_ROUTE_FREQ}|\d[\d.,]*\s*(?:mg|mcg|g|ml|units?)\b)(?![A-Za-z])", re.IGNORECASE
)
# Capitalised abbreviations that are also English words: not matched in ALL-CAPS sentences ("MS. JONES").
_ENGLISH = frozenset(
    re.findall(r"\w+", "ad aids am as bs cap cc doe ed er ha id map ms no od or os pad pm sob us")
)
_CLASSIFIERS = frozenset(
    re.findall(r"\w+", "stage grade class type phase level factor tier part cranial nerve nyha")
)
# Before "and"/"but" that opens a clause: after a comma any subject, without one only a pronoun.
_CLAUSE_RE = re.compile(
    r"(?:,\s+(?=(?:and|but)\s+(?:the|this|that|these|those|his|her|their|patient|pt)\s)|,?\s+(?=(?:and|but)"
    r"\s+(?:she|he|they|it|we|I|you|there)\s+(?!and\b|or\b)[a-z]))",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _drug_names() -> frozenset[str]:
    meds = data_json("medications.json")
    return frozenset(n.lower() for n in [*meds["generic"], *meds["brand"]])


def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade (textstat), rounded to one decimal; None for text without words."""
    if not _WORD_RE.search(text):
        return None
    return round(float(textstat.flesch_kincaid_grade(text)), 1)


def _dose_near(sentence: str, start: int, end: int) -> bool:
    """A dose ("500 mg"), a route or frequency ("PO", "q6h") or a drug name right next to the term."""
    before = sentence[max(0, start - 40) : start]
    if _DOSE_BEFORE.search(before) or _DOSE_AFTER.match(sentence[end:]):
        return True
    words = re.findall(r"[A-Za-z][A-Za-z-]+", before)
    return bool(words) and words[-1].lower() in _drug_names()


def _shouting(sentence: str) -> bool:
    words = re.findall(r"[A-Za-z]{2,}", sentence)
    return len(words) >= 3 and sum(w.isupper() for w in words) >= 0.6 * len(words)


def _blocked(entry: Entry, sentence: str, m: re.Match[str]) -> bool:
    """Context rules that keep a written form from being read as this abbreviation."""
    if entry.dose_context and not _dose_near(sentence, m.start(), m.end()):
        return True
    if entry.exact and entry.term.lower() in _ENGLISH and _shouting(sentence):
        return True
    if re.fullmatch(r"[IVX]+", entry.term):  # "stage IV", "Schatzker IV" are numerals, not routes
        prev = re.findall(r"([A-Za-z]+)\W*$", sentence[: m.start()])
        if prev and (prev[0].lower() in _CLASSIFIERS or prev[0][0].isupper()):
            return prev[0].lower() not in _drug_names()
    return False


def _sense(entry: Entry, piece: str, m: re.Match[str], sentence: str, window: str) -> Sense | None:
    """The one sense whose cues occur in the sentence, else in the source window; None if not exactly one."""
    dose = any(s.dose for s in entry.senses) and _dose_near(piece, m.start(), m.end())
    for tier, context in enumerate((sentence, window)):
        hits = [
            s
            for s in entry.senses
            if (s.cues is not None and s.cues.search(context)) or (s.dose and dose and tier == 0)
        ]
        if hits:
            return hits[0] if len(hits) == 1 else None
    return None


# words after which a swapped-in "a ..." phrase must lose its article (determiners, common modifiers)
_NO_ARTICLE_RE = re.compile(
    r"\b(?:no|any|his|her|their|your|our|its|this|that|mild|moderate|severe|chronic|acute|known|new|"
    r"possible|probable|likely|persistent|recurrent|worsening|ongoing|significant|some|further)\s+$",
    re.IGNORECASE,
)


def _splice(out: str, plain: str) -> str:
    """Append a swapped phrase: keep digits apart ("44y/o" -> "44-year-old"), make a/an agree."""
    if out[-1:].isdigit() or re.search(r"\d $", out):
        return out.rstrip() + ("-" if plain.startswith("year-old") else " ") + plain
    last = re.search(r"([A-Za-z]+)\s+$", out)
    if last and plain.lower().startswith(last.group(1).lower() + " "):
        plain = plain.split(" ", 1)[1]  # "at h.s." -> "at bedtime", not "at at bedtime"
    if _NO_ARTICLE_RE.search(out) and re.match(r"an? ", plain):
        plain = plain.split(" ", 1)[1]  # "no tachycardia" -> "no fast heart rate", not "no a fast ..."
    art = re.search(r"\b(an?|the|An?|The)\s+$", out)
    if art is None:
        return out + plain
    if re.match(r"(?:a|an|the) ", plain):
        plain = plain.split(" ", 1)[1]
    word = art.group(1)
    if word.lower() in ("a", "an"):
        vowel = bool(re.match(r"[aeio]|u[^aeiou]{2}|x-", plain, re.IGNORECASE))
        fixed = ("an" if vowel else "a") if word.islower() else ("An" if vowel else "A")
        return out[: art.start(1)] + fixed + out[art.end(1) :] + plain
    return out + plain


def _end_sentence(piece: str) -> str:
    """Full stop for a split-off piece, inside a closing quote: 'of "old age,"' -> 'of "old age."'."""
    if piece.endswith((".", "!", "?", '."', '?"')):
        return piece
    if piece.endswith('"'):
        return piece[:-1].rstrip(",") + '."'
    return piece.rstrip(",:") + "."


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


def _window(text: str, spans: list[tuple[int, int]], terms: list[str]) -> str:
    """Source text around the sentence's spans, or around the first uses of its terms (lab sentence)."""
    if not text:
        return ""
    if not spans:
        spans = [(m.start(), m.end()) for t in terms for m in list(re.finditer(re.escape(t), text))[:3]]
    return " … ".join(text[max(0, b - _WINDOW) : e + _WINDOW] for b, e in spans)


class GlossarySimplifier:
    """Simplifier port: glossary swaps, abbreviation senses from context, short sentences, FK grades."""

    name = "healthchat-glossary-0.2"

    def simplify(
        self, summary: Summary, text: str, *, entities: Sequence[dict[str, Any]] | None = None
    ) -> PlainLanguage:
        """The deterministic rewrite; it adds no claim, so it needs no ``entities``."""
        used: dict[tuple[str, str], GlossaryEntry] = {}
        rewritten: list[str] = []
        sentences = [
            (s.text, [(sp.begin_offset, sp.end_offset) for sp in s.source_spans]) for s in summary.sentences
        ]
        if not sentences and summary.text:
            sentences = [(summary.text, [])]
        for sentence, spans in sentences:
            lab = _lab_sentences(sentence)
            window = _window(text, spans, re.findall(r"\b[A-Z][A-Za-z]{1,5}\b", sentence))
            for piece in lab if lab is not None else self._split(sentence):
                rewritten.append(self._rewrite(piece, sentence, window, used))
        out = " ".join(r for r in rewritten if r)
        return PlainLanguage(
            text=out,
            reading_grade=reading_grade(out),
            source_reading_grade=reading_grade(text or summary.text),
            glossary=list(used.values()),
        )

    @staticmethod
    def _split(sentence: str) -> list[str]:
        """Split at ";" and before ", and/but <subject>" when both halves are clauses; every word is kept."""
        parts: list[str] = []
        for chunk in (p.strip() for p in re.split(r";\s+", sentence) if p.strip()):
            cuts = [0] + [
                m.start()
                for m in _CLAUSE_RE.finditer(chunk)
                if len(chunk[: m.start()].split()) >= 4 and len(chunk[m.end() :].split()) >= 4
            ]
            pieces = [
                chunk[b:e].lstrip(", ").strip() for b, e in zip(cuts, [*cuts[1:], len(chunk)], strict=True)
            ]
            parts.extend(p[:1].upper() + p[1:] for p in pieces if p)
        return [_end_sentence(p) for p in parts]

    @staticmethod
    def _rewrite(piece: str, sentence: str, window: str, used: dict[tuple[str, str], GlossaryEntry]) -> str:
        """Swap terms in one pass over the original piece (longest terms first, no overlaps)."""
        swaps: list[tuple[int, int, str]] = []
        taken: list[tuple[int, int]] = []
        lowered = piece.lower()
        for entry in glossary():
            if entry.key not in lowered:
                continue
            for m in entry.pattern.finditer(piece):
                if any(m.start() < e and b < m.end() for b, e in taken) or _blocked(entry, piece, m):
                    continue
                taken.append((m.start(), m.end()))
                plain, swap = entry.plain, entry.swap
                if entry.senses:
                    sense = _sense(entry, piece, m, sentence, window)
                    plain, swap = (sense.plain, sense.swap) if sense else (entry.plain, False)
                used.setdefault((entry.term, plain), GlossaryEntry(term=entry.term, plain=plain))
                if swap and not (m.groupdict().get("plural")):
                    swaps.append((m.start(), m.end(), plain))
        out, last = "", 0
        for b, e, plain in sorted(swaps):
            out = _splice(out + piece[last:b], plain)
            last = e
        text = out + piece[last:]
        if piece.endswith(".") and not text.endswith((".", "!", "?")):
            text += "."  # a dotted form ("b.i.d.") ended the sentence
        return text[:1].upper() + text[1:]
