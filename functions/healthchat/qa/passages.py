"""Passages for an answer: a document's sentences found by hybrid search (with its section headers as a
hint), and knowledge-base answer windows, each turned into a :class:`Citation` with exact offsets."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING

from healthchat.data_files import data_json
from healthchat.domain.models import DocumentResult
from healthchat.qa.facts import FRAME_WORDS
from healthchat.qa.kb import KbHit, KnowledgeBase
from healthchat.qa.models import Citation
from healthchat.qa.retrieval import Hit, HybridIndex
from healthchat.qa.text import document_passages, tokenize, words

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

MIN_COSINE = 0.5  # a passage sharing no word with the question must be at least this similar
KB_MIN_COVERAGE = 0.5  # a knowledge-base window must hold this share of the question's words...
KB_MIN_COSINE = 0.55  # ... or be this similar to it (checked on the dev split, see benchmarks/qa)
_SECTION_PASSAGES = 4

_cache: OrderedDict[tuple[str, str, str], HybridIndex] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 16


def document_index(result: DocumentResult, text: str, embeddings: Embeddings | None) -> HybridIndex:
    """The passage index of one document, kept for the last few documents asked about."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = (result.document_id, digest, "" if embeddings is None else type(embeddings).__name__)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    spans = document_passages(text)
    texts = [text[s.begin : s.end] for s in spans]
    meta = [{"begin": s.begin, "end": s.end, "section": s.section} for s in spans]
    # the header tells the embeddings what a short line is about ("ALLERGIES: Penicillin (hives)."); BM25
    # sees the sentence alone, so a header word does not make every line under it a keyword match
    topical = [f"{s.section.title()}: {t}" if s.section else t for s, t in zip(spans, texts, strict=True)]
    index = HybridIndex.build(texts, meta, None, embeddings, embed_texts=topical)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def _relevant(hit: Hit, semantic: bool) -> bool:
    return hit.bm25 > 0 or (semantic and hit.cosine is not None and hit.cosine >= MIN_COSINE)


def _section_hits(index: HybridIndex, question: str) -> list[int]:
    """Passages of the section whose whole header the question names ("what about follow-up?")."""
    words = set(tokenize(question))
    best, best_size = "", 0
    for meta in index.metadata:
        header = set(tokenize(meta["section"]))
        if header and header <= words and len(header) > best_size:
            best, best_size = meta["section"], len(header)
    if not best:
        return []
    return [i for i, m in enumerate(index.metadata) if m["section"] == best][:_SECTION_PASSAGES]


def _content_words(question: str) -> list[str] | None:
    """The question's words without those that only frame it ("was my X high?"), if any remain."""
    words = [w for w in tokenize(question) if w not in FRAME_WORDS]
    return words or None


def document_citations(
    result: DocumentResult,
    index: HybridIndex,
    question: str,
    k: int = 3,
    skip: list[Citation] | None = None,
    semantic: bool = True,
) -> list[Citation]:
    """The best ``k`` passages for ``question`` (a named section's first), minus those inside ``skip``.
    Without ``semantic``, a passage must share a word with the question (facts already answer it)."""
    ordered = _section_hits(index, question)
    hits = index.search(question, k=k + 8, words=_content_words(question))
    ordered += [h.index for h in hits if _relevant(h, semantic) and h.index not in ordered]
    out: list[Citation] = []
    for i in ordered:
        begin, end = index.metadata[i]["begin"], index.metadata[i]["end"]
        if any(c.begin_offset <= begin and end <= c.end_offset for c in skip or []):
            continue
        if any(c.begin_offset < end and begin < c.end_offset for c in out):
            continue
        section = index.metadata[i]["section"]
        out.append(
            Citation(
                text=index.texts[i],
                begin_offset=begin,
                end_offset=end,
                document_id=result.document_id,
                source="document",
                title=section.title() if section else None,
            )
        )
        if len(out) == k:
            break
    return out


def kb_relevant(kb: KnowledgeBase, hit: KbHit, words: set[str]) -> bool:
    """Whether a window answers a question with these (tokenized) ``words``: it holds enough of them, or
    its embedding is close. A share of words, unlike a BM25 score, means the same in any corpus size."""
    h = hit.hit
    if h.cosine is not None and h.cosine >= KB_MIN_COSINE:
        return True
    return bool(words) and len(words & set(kb.index.tokens[h.index])) / len(words) >= KB_MIN_COVERAGE


def kb_citation(hit: KbHit) -> Citation:
    e = hit.entry
    return Citation(
        text=hit.text,
        begin_offset=hit.begin,
        end_offset=hit.end,
        source="knowledge_base",
        source_url=e.url,
        title=f"{e.question.rstrip(' ?')}? ({e.source}, NIH)",
    )


def mentions(text: str, term: str) -> bool:
    """Whether ``text`` names ``term`` (short terms with their exact case: "eGFR" is not "EGFR")."""
    flags = 0 if len(term) <= 5 else re.IGNORECASE
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", text, flags) is not None


@lru_cache(maxsize=1)
def _lab_phrases() -> tuple[tuple[str, bool], ...]:
    """Lab test names and aliases as (phrase, exact case); short ones ("BUN") match case-sensitively."""
    from healthchat.domain.labs import lab_test_names

    return tuple((name, len(name) <= 5) for name in lab_test_names() if len(name) >= 3)


@lru_cache(maxsize=1)
def _glossary_focus_terms() -> tuple[str, ...]:
    """Condition and drug terms of HealthChat's glossary ("concussion"), which the lexicon may lack; not
    the everyday health words ("pain", "fever") that name no one topic."""
    from healthchat.qa.safety import COMMON_HEALTH_WORDS

    return tuple(
        str(raw["term"])
        for name in ("glossary_conditions.json", "glossary_drugs.json")
        for raw in data_json(name)["entries"]
        if len(str(raw["term"])) >= 4 and str(raw["term"]).lower() not in COMMON_HEALTH_WORDS
    )


def question_focus(question: str) -> list[str]:
    """What the question is about, when it names it: drugs (brand names also as their generic) and
    conditions found by the extractor's lexicon or named in the glossary's condition and drug parts, and
    lab tests from HealthChat's lab table."""
    from healthchat.adapters.local.medical_lexicon import lexicon, lexicon_matches
    from healthchat.qa.facts import _brands, norm

    out: list[str] = []
    for b, e, term in lexicon_matches(question, lexicon()):
        if term.category in ("MEDICATION", "MEDICAL_CONDITION"):
            name = question[b:e]
            out.append(name)
            generic = _brands().get(norm(name))
            if generic:
                out.append(generic)
    out += [name for name, exact in _lab_phrases() if mentions(question, name if exact else name.lower())]
    lowered = question.lower()
    out += [t for t in _glossary_focus_terms() if t.lower() in lowered and mentions(question, t)]
    return list(dict.fromkeys(out))


def _names_focus(hit: KbHit, focus: list[str]) -> bool:
    """Whether the entry is about a focus: its MedQuAD focus or its question names it, short names with
    their exact case ("eGFR" is not the gene EGFR), longer ones by all their word stems ("brain tumors").
    A window that only mentions the focus in passing (potassium channels in Isaacs' syndrome) is not."""
    about = f"{hit.entry.focus}. {hit.entry.question}"
    if any(mentions(about, name) for name in focus):
        return True
    tokens = set(tokenize(about))
    return any(set(tokenize(name)) <= tokens for name in focus if len(name) > 5 and tokenize(name))


def _aspects(text: str) -> set[str]:
    return {w[:5] for w in tokenize(text)} & _ASPECT_STEMS


def _aspect_match(question: str, hit: KbHit) -> bool:
    """Whether the entry's question asks what the user asks ("treated" ~ "What are the treatments ..."),
    compared by five-letter stems so the light stemmer's "treat"/"treatment" meet."""
    return bool(_aspects(question) & _aspects(hit.entry.question))


def kb_citations(
    kb: KnowledgeBase, question: str, k: int = 2, terms: list[str] | None = None
) -> list[Citation]:
    """Relevant knowledge-base windows; with ``terms``, only windows naming one of them. When the question
    names a drug, condition or lab test, a window must be about one of them: a passage that only shares a
    frame word ("What is the dose of metformin ...?" -> a chemotherapy dose) is dropped, not cited."""
    words = set(tokenize(question))
    focus = question_focus(question)
    # a wide pool: the entry about the focus may rank below windows that only mention it
    hits = kb.search(question, k=k * 25)
    if terms is not None:
        hits = [h for h in hits if any(mentions(h.text, t) for t in terms)]
    on_topic = [h for h in hits if _names_focus(h, focus)] if focus else _on_topic(question, hits)
    if not focus and not on_topic:  # no topic named: the word overlap alone decides
        return [kb_citation(h) for h in hits if kb_relevant(kb, h, words)][:k]
    # an entry about the topic that asks what the user asks ("treatments for ...") needs no word overlap
    asked = [h for h in on_topic if _aspect_match(question, h)]
    rest = [h for h in on_topic if h not in asked and kb_relevant(kb, h, words)]
    return [kb_citation(h) for h in (asked + rest)[:k]]


# what a question asks about a topic, not the topic ("How is a brain tumor treated?"), as 5-letter stems
_ASPECT_STEMS = frozenset(
    words(
        """sympt sign cause treat risk outlo preve diagn stage resea trial inher compl cure manag type lower
        reduc many much often get live who"""
    )
)


def _on_topic(question: str, hits: list[KbHit]) -> list[KbHit]:
    """With no drug, condition or test named, the hits whose entry's MedQuAD focus or question holds every
    topic word of the question ("brain tumor" -> "Brain and Spinal Tumors", not "Brain Stem Glioma")."""
    topic = {w for w in tokenize(question) if w not in FRAME_WORDS and w[:5] not in _ASPECT_STEMS}
    if not topic:
        return []
    return [h for h in hits if topic <= set(tokenize(f"{h.entry.focus}. {h.entry.question}"))]


def section_citations(
    result: DocumentResult, index: HybridIndex, sections: list[str], limit: int = 20
) -> list[Citation]:
    """Every passage of the named sections, in section order and then document order (at most ``limit``)."""
    out: list[Citation] = []
    for section in sections:
        for i, meta in enumerate(index.metadata):
            if meta["section"] != section or len(out) == limit:
                continue
            out.append(
                Citation(
                    text=index.texts[i],
                    begin_offset=meta["begin"],
                    end_offset=meta["end"],
                    document_id=result.document_id,
                    source="document",
                    title=section.title(),
                )
            )
    return out
