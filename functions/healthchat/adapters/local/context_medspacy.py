"""Assertion context (negation, hypothetical, uncertainty, family, history) and note sections via medspaCy.

Why medspaCy: its ConText is the maintained implementation of the ConText/NegEx algorithm, with rules
refined at the US VA, and its Sectionizer ships SecTag/MIMIC-derived section headers; both are rule
based and run offline. Our additions are small: "rule out" reads as HYPOTHETICAL (Comprehend Medical's
reading, medspaCy says uncertain), so do instructions ("go to the emergency department for X"), "X
resolved" negates X, "allergic to" negates a drug, and the project's own headers ("Assessment and
Plan:" ...). PyRuSH is not used (slow, debug logging): sentences
come from spaCy's rule-based sentencizer plus breaks at blank lines, list items and section headers.

Traits are read from each target's ConText modifiers (the data behind medspaCy's ``is_negated``,
``is_hypothetical``, ... span attributes) and named as Comprehend Medical names them. ConText compares
every modifier with every other one in a Doc, so long texts are run in pieces cut where a sentence ends
(its scope never crosses a sentence, so the result is the same). spaCy and medspaCy are imported when
the first annotator is built, not with this module.
"""

from __future__ import annotations

import itertools
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthchat.domain.clinical import SECTION_HEADERS, SectionMap, section_extents

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

_GROUP = "healthchat_targets"
CHUNK_CHARS = 2000  # texts are run in pieces of about this size, cut where a sentence must end anyway

# ConText modifier category -> Comprehend Medical trait
_TRAIT_OF_CATEGORY = {
    "NEGATED_EXISTENCE": "NEGATION",
    "POSSIBLE_EXISTENCE": "LOW_CONFIDENCE",
    "HYPOTHETICAL": "HYPOTHETICAL",
    "HISTORICAL": "PAST_HISTORY",
    "FAMILY": "PERTAINS_TO_FAMILY",
    "ALLERGY": "NEGATION",  # ours, for drugs only: an allergy drug is not a drug the patient takes
}
_SECTION_TRAIT = {"family_history": "PERTAINS_TO_FAMILY", "past_history": "PAST_HISTORY"}

# medspaCy's default section categories -> the project's names (healthchat.domain.clinical.SECTION_HEADERS)
_SECTION_NAME = {
    "allergy": "allergies",
    "past_medical_history": "past_history",
    "observation_and_plan": "assessment",
    "diagnoses": "assessment",
    "history_of_present_illness": "hpi",
    "chief_complaint": "hpi",
    "physical_exam": "exam",
    "labs_and_studies": "results",
    "imaging": "results",
    "patient_instructions": "follow_up",
}
# default header rules that misfire at the start of ordinary lines, or that name a section wrongly
_DROP_DEFAULT_HEADERS = {"consult", "primary:", "secondary:", "service:", "facility:", "psh:", "pmhsx:"}
_ALLERGY_CUES = ("allergic to", "allergy to", "allergies to", "intolerant of", "intolerance to")
_TAKING = {"take", "takes", "taking", "took", "on", "uses", "using", "started", "continue", "continues"}
_RULE_OUT = {"rule out", "rule the patient out", "r/o"}
# instructions naming conditions to act on should they happen ("Go to the emergency department for chest
# pain", "call 911 for ..."): HYPOTHETICAL, as Comprehend Medical reads them; "if", "return" and "come
# back for" are default rules already. The place is the cue's last word, so a line break before
# "department" does not matter.
_GO_TO = [
    f"{verb} to {article}{place}"
    for verb in ("go", "come", "head", "proceed")
    for article in ("", "the ", "the nearest ", "your nearest ", "an ")
    for place in ("emergency", "er", "ed", "urgent", "hospital")
]
_INSTRUCTION_CUES = (
    *_GO_TO,
    *(
        f"seek {adj}{need}"
        for adj in ("", "medical ", "emergency ", "immediate ", "urgent ", "immediate medical ")
        for need in ("care", "attention", "help", "treatment")
    ),
    *(f"call {who} {about}" for who in ("us", "your doctor", "your provider") for about in ("for", "about")),
    "call 911",
    "watch for",
    "watch out for",
    "look out for",
    "warning signs",
)
# where a sentence starts besides the sentencizer's: after a blank line, and at a list item
_BREAK_RE = re.compile(r"\n[ \t]*\n\s*|\n[ \t]*(?=(?:\d{1,2}[.)]|[-*\u2022])[ \t])")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END_RE = re.compile(r"[.!?][ \t]*\n|[.!?][ \t]+")


@dataclass(frozen=True)
class ContextResult:
    """Context of one input span: Comprehend Medical trait names and the normalized section name."""

    traits: frozenset[str]
    section: str | None


@contextmanager
def _spacy_without_torch() -> Iterator[None]:
    """spaCy's thinc imports torch when it is installed (1.2 s here) though these rules never use it; hide
    torch while spaCy loads, then un-hide it so a model adapter can still import it. No effect when torch
    is already loaded or not installed."""
    hidden = "torch" not in sys.modules
    if hidden:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        yield
    finally:
        if hidden and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def _resources() -> Path:
    with _spacy_without_torch():
        import medspacy

    return Path(medspacy.__file__).resolve().parents[1] / "resources" / "en"


def _allergy_reaches(target: Span, modifier: Span, between: Span) -> bool:
    """'allergic to penicillin, takes aspirin': the allergy cue stops at a verb of taking."""
    return not any(tok.lower_ in _TAKING for tok in between)


def _phrases(pattern: list[dict[str, Any]], tokenizer: Any) -> list[str] | None:
    """Every token sequence a rule's pattern matches, as phrases; None if it is not that simple.

    The default rules spell choices as ``{"LOWER": {"IN": [...]}}`` and ``"OP": "?"``; spaCy's Matcher
    tries every pattern at every token and calls Python for each ``IN`` test (85% of the run time),
    while the PhraseMatcher looks phrases up by hash. Only phrases the tokenizer splits back into the
    same words are used.
    """
    choices: list[list[str | None]] = []
    for token in pattern:
        if set(token) - {"LOWER", "OP"} or token.get("OP", "?") != "?":
            return None
        lower = token["LOWER"]
        values: list[str | None] = list(lower["IN"]) if isinstance(lower, dict) else [lower]
        choices.append([*values, None] if "OP" in token else values)
    phrases = []
    for combo in itertools.product(*choices):
        words = [w for w in combo if w is not None]
        phrase = " ".join(words)
        if words and [t.lower_ for t in tokenizer(phrase)] != words:
            return None
        if words:
            phrases.append(phrase)
    return list(dict.fromkeys(phrases))


def _context_rules(tokenizer: Any) -> list[Any]:
    from medspacy.context import ConTextRule

    rules = []
    for rule in ConTextRule.from_json(str(_resources() / "context_rules.json")):
        if rule.literal in ("risks of", ": no", ": none"):  # re-added below
            continue
        category = "HYPOTHETICAL" if rule.literal in _RULE_OUT else rule.category
        direction = "BACKWARD" if rule.literal == "resolved" else rule.direction  # "chest pain resolved"
        phrases = [rule.literal] if rule.pattern is None else _phrases(rule.pattern, tokenizer)
        if phrases is None:
            rules.append(ConTextRule(rule.literal, category, pattern=rule.pattern, direction=direction))
        else:
            rules += [ConTextRule(p, category, direction=direction) for p in phrases]
    # the default's one-token pattern "risk of" cannot match
    rules += [ConTextRule(cue, "HYPOTHETICAL", direction="FORWARD") for cue in ("risk of", "risks of")]
    rules += [ConTextRule(cue, "HYPOTHETICAL", direction="FORWARD") for cue in _INSTRUCTION_CUES]
    # "Fever: no" negates backwards, but "Review of systems: no fever" is the forward "no": the longer
    # ": no" match would win, so it must be followed by a line end or punctuation, not a word
    rules += [
        ConTextRule(
            f": {word}",
            "NEGATED_EXISTENCE",
            pattern=[{"ORTH": ":"}, {"LOWER": word}, {"IS_ALPHA": False}],
            direction="BACKWARD",
        )
        for word in ("no", "none")
    ]
    rules += [
        ConTextRule(
            cue, "ALLERGY", direction="FORWARD", allowed_types={"MEDICATION"}, on_modifies=_allergy_reaches
        )
        for cue in _ALLERGY_CUES
    ]
    return rules


def _section_rules() -> list[Any]:
    from medspacy.section_detection import SectionRule

    ours = {h for headers in SECTION_HEADERS.values() for h in headers}
    rules = [
        r
        for r in SectionRule.from_json(str(_resources() / "section_patterns.json"))
        if r.literal.lower() not in _DROP_DEFAULT_HEADERS and r.literal.lower() not in ours
    ]
    rules += [SectionRule(h, name) for name, headers in SECTION_HEADERS.items() for h in headers]
    return rules


def _build_pipeline() -> Language:
    with _spacy_without_torch():
        import spacy
        import thinc.compat  # noqa: F401  (decides has_torch once, while torch is hidden)

    with warnings.catch_warnings():  # medspacy's import turns every warning off process-wide: undone here
        import medspacy  # noqa: F401  (registers the factories)
    from loguru import logger

    logger.disable("PyRuSH")  # imported by medspacy, never run here; its DEBUG lines would flood stderr
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    sectionizer: Any = nlp.add_pipe(
        "medspacy_sectionizer",
        config={
            "rules": None,
            "require_start_line": True,
            "span_attrs": None,
            "apply_sentence_boundary": True,
        },
    )
    sectionizer.add(_section_rules())
    context: Any = nlp.add_pipe(
        "medspacy_context",
        config={"rules": None, "span_attrs": None, "input_span_type": "group", "span_group_name": _GROUP},
    )
    context.add(_context_rules(nlp.tokenizer))
    return nlp


class ContextAnnotator:
    """Traits and sections for character spans an extractor found, from one spaCy pipeline built once.

    ``annotate(text, spans)`` takes ``(begin, end, category)`` spans (Comprehend Medical categories;
    they may overlap) and returns one :class:`ContextResult` per span, in input order.
    """

    def __init__(self) -> None:
        self._nlp = _build_pipeline()
        self._sentencizer = self._nlp.get_pipe("sentencizer")
        self._sectionizer = self._nlp.get_pipe("medspacy_sectionizer")
        self._context = self._nlp.get_pipe("medspacy_context")

    def annotate(self, text: str, spans: Sequence[tuple[int, int, str]]) -> list[ContextResult]:
        """One result per span: traits (NEGATION, HYPOTHETICAL, LOW_CONFIDENCE, PERTAINS_TO_FAMILY,
        PAST_HISTORY) and section name ("allergies", "family_history", "past_history", ...)."""
        for begin, end, _ in spans:
            if not 0 <= begin < end <= len(text):
                raise ValueError(f"span [{begin}, {end}) is empty or outside the text (length {len(text)})")
        if not spans:
            return []
        order = sorted(range(len(spans)), key=lambda i: spans[i][0])
        found: list[set[str]] = [set() for _ in spans]
        headers: list[tuple[int, int, str]] = []
        k = 0
        for start, stop in _pieces(text):
            doc = self._doc(text[start:stop])
            headers += _headers(doc, start)
            piece = []
            while k < len(order) and spans[order[k]][0] < stop:
                piece.append(order[k])
                k += 1
            if piece:
                targets = [
                    self._target(doc, spans[i][0] - start, min(spans[i][1], stop) - start, spans[i][2])
                    for i in piece
                ]
                self._run_context(doc, targets)
                for i, target in zip(piece, targets, strict=True):
                    if target is not None:
                        found[i].update(m.category for m in target._.modifiers)
        sections = SectionMap(text, section_extents(text, headers))
        return [_result(found[i], cat, sections.at(begin)) for i, (begin, _, cat) in enumerate(spans)]

    def _doc(self, text: str) -> Doc:
        doc = self._sentencizer(self._nlp.make_doc(text))
        for m in _BREAK_RE.finditer(text):
            if m.end() < len(text):
                tok = doc.char_span(m.end(), m.end() + 1, alignment_mode="expand")
                if tok is not None:
                    doc[tok.start].is_sent_start = True
        with warnings.catch_warnings():
            # W036: the sectionizer's token Matcher is empty (all its rules are phrases); spaCy warns per call
            warnings.filterwarnings("ignore", message=r"\[W036\]")
            return self._sectionizer(doc)

    @staticmethod
    def _target(doc: Doc, begin: int, end: int, category: str) -> Span | None:
        span = doc.char_span(begin, end, label=category, alignment_mode="expand")
        return span if span is not None and len(span) else None  # None: whitespace only

    def _run_context(self, doc: Doc, targets: list[Span | None]) -> None:
        doc.spans[_GROUP] = [t for t in targets if t is not None]
        self._context(doc)


def _headers(doc: Doc, offset: int) -> list[tuple[int, int, str]]:
    """(header begin, body begin, section name) in characters of the whole text."""
    out = []
    for sec in doc._.sections:
        if sec.category is not None:
            last = doc[sec.title_end - 1]
            name = _SECTION_NAME.get(sec.category, sec.category)
            out.append((offset + doc[sec.title_start].idx, offset + last.idx + len(last), name))
    return out


def _result(categories: set[str], category: str, section: str | None) -> ContextResult:
    traits = {_TRAIT_OF_CATEGORY[c] for c in categories if c in _TRAIT_OF_CATEGORY}
    if section in _SECTION_TRAIT:
        traits.add(_SECTION_TRAIT[section])
    if section == "allergies" and category == "MEDICATION":
        traits.add("NEGATION")
    if "PERTAINS_TO_FAMILY" in traits:
        traits.discard("PAST_HISTORY")  # "family history of X": the family's, not the patient's past
    return ContextResult(frozenset(traits), section)


def _pieces(text: str) -> list[tuple[int, int]]:
    """Consecutive character ranges of about CHUNK_CHARS, cut after a blank line, else after a sentence
    end, else at a space: where a sentence ends anyway, so ConText (its scope is one sentence) gives the
    same result as on the whole text, in linear time (it compares all modifier pairs of a Doc)."""
    out = []
    start = 0
    while len(text) - start > CHUNK_CHARS:
        low, high = start + CHUNK_CHARS // 4, start + CHUNK_CHARS
        cut = _last_end(_BLANK_LINE_RE, text, low, high) or _last_end(_SENTENCE_END_RE, text, low, high)
        if cut is None:
            space = text.rfind(" ", low, high)
            cut = space + 1 if space > 0 else high
        out.append((start, cut))
        start = cut
    out.append((start, len(text)))
    return out


def _last_end(pattern: re.Pattern[str], text: str, low: int, high: int) -> int | None:
    end = None
    for m in pattern.finditer(text, low, high):
        end = m.end()
    return end


@lru_cache(maxsize=1)
def annotator() -> ContextAnnotator:
    """The process-wide annotator (the pipeline takes about a second to build)."""
    return ContextAnnotator()
