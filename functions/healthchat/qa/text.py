"""Tokens for BM25 and passages with exact character offsets: a document's sentences and lines, and a
knowledge-base answer's sentence windows.

Hand-written: the splitter must keep exact offsets into the stored text and must know the layouts of
clinical notes (wrapped prose lines, numbered plan items, ALL-CAPS section headers, lab table rows);
sentence splitters in NLTK/spaCy need model downloads and re-normalise whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """The white-space separated words of a literal word list."""
    return text.split()


STOPWORDS = frozenset(
    words("""a about above after again all also am an and any are as at be been before being below between
    both
    but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my myself no nor not of off on
    once only or other our ours out over own same she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself is are was were be what's whats i'm im
    it's does tell please say said know mean means meaning""")
)


def _stem(word: str) -> str:
    """A light English suffix strip so "tests"/"test" and "treated"/"treatment" meet; no library needed."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word stems without stop words: what BM25 indexes and queries with."""
    return [_stem(w.split("'")[0]) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Span:
    """``text[begin:end]`` of some stored text, and the section header it sits under (if any)."""

    begin: int
    end: int
    section: str = ""


_HEADER_RE = re.compile(r"^[ \t]*(?P<h>[A-Z][A-Z0-9 /&()',-]{2,60}?)[ \t]*:?[ \t]*$")
_INLINE_HEADER_RE = re.compile(r"^[ \t]*(?P<h>[A-Z][A-Z /&-]{2,40}):[ \t]+\S")
_ABBREV = ("dr", "mr", "mrs", "ms", "vs", "no", "st", "e.g", "i.e", "approx", "pt", "wt", "temp", "fig")
# sentence end: . ! ? then space and a capital / digit / quote (not "Dr. Smith", not "7.2")
_SENT_END_RE = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z0-9\"'(])")
_CONTINUES_RE = re.compile(r"[a-z,;(]$")
_LIST_START_RE = re.compile(r"^\s*(?:\d{1,2}[.)]\s|[-*\u2022]\s)")


def _is_abbreviation(text: str, end: int) -> bool:
    word = re.search(r"([A-Za-z.]+)\.$", text[max(0, end - 8) : end])
    return word is not None and word.group(1).lower() in _ABBREV


def _sentences_in(text: str, begin: int, end: int, section: str) -> list[Span]:
    out, start = [], begin
    for m in _SENT_END_RE.finditer(text, begin, end):
        if _is_abbreviation(text, m.start()) or re.fullmatch(r"\s*\d{1,2}[.)]", text[start : m.start()]):
            continue
        out.append(Span(start, m.start(), section))
        start = m.end()
    out.append(Span(start, end, section))
    return [_strip(s, text) for s in out if text[s.begin : s.end].strip()]


def _strip(span: Span, text: str) -> Span:
    piece = text[span.begin : span.end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    return Span(span.begin + lead, span.end - trail, span.section)


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, pos + len(body)))
        pos += len(line)
    return out


def document_passages(text: str) -> list[Span]:
    """A document's sentences (and table rows), each with the section header above it.

    A line break ends a sentence unless the line wraps prose (it ends with a lower-case letter or a
    comma and the next line starts with a lower-case letter); headers start sections and are not passages.
    """
    spans: list[Span] = []
    section, block_begin, block_end = "", -1, -1

    def flush() -> None:
        if block_begin >= 0:
            spans.extend(_sentences_in(text, block_begin, block_end, section))

    for begin, end in _lines(text):
        line = text[begin:end]
        if not line.strip():
            flush()
            block_begin = -1
            continue
        header = _HEADER_RE.match(line)
        if header and not re.search(r"\d{2,}", line) and len(line.split()) <= 8:
            flush()
            section, block_begin = header.group("h").strip(), -1
            continue
        inline = _INLINE_HEADER_RE.match(line)
        wraps = (
            block_begin >= 0
            and _CONTINUES_RE.search(text[block_begin:block_end])
            and line.lstrip()[:1].islower()
            and not _LIST_START_RE.match(line)
        )
        if wraps:
            block_end = end
            continue
        flush()
        if inline:
            section = inline.group("h").strip()
        block_begin, block_end = begin, end
    flush()
    return spans


def answer_windows(text: str, max_chars: int = 700) -> list[Span]:
    """Consecutive sentences of a knowledge-base answer grouped into windows of about ``max_chars``."""
    sentences = _sentences_in(text, 0, len(text), "")
    out: list[Span] = []
    begin = end = -1
    for s in sentences:
        if begin >= 0 and s.end - begin > max_chars:
            out.append(Span(begin, end))
            begin = -1
        if begin < 0:
            begin = s.begin
        end = s.end
    if begin >= 0:
        out.append(Span(begin, end))
    return out
