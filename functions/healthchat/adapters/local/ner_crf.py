"""Statistical chemical/drug and disease mention tagger: a linear-chain CRF (CRFsuite) over word features.

Why a CRF: lexicons alone find what they list (about a fifth of the disease and chemical mentions of
PubMed text); a CRF learns the shape of mentions ("-itis", "-mab", "X syndrome", "acute renal failure")
from annotated text and tags names no list holds. CRFsuite (``python-crfsuite``) is the well-kept,
dependency-free C implementation used by most feature-based biomedical NER systems; it needs no GPU,
tags hundreds of thousands of characters a second on one core, and its model is a small file. Neural
taggers (scispaCy, transformers) score higher but cannot be installed or downloaded here.

The model ships in ``healthchat/data/ner_crf.crfsuite`` with its card ``ner_crf.json`` (training data,
features, scores); ``scripts/train_ner.py`` rebuilds both from the public corpora in ``../shared/data``.
Tokenisation and features are defined here only, so training and tagging cannot drift apart; the
lexicon ("gazetteer") spans that feed one feature are passed in by the caller, and the card records a
hash of the lexicon the model was trained with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycrfsuite

from healthchat.data_files import data_path

TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_")
LABELS = {"CHEM": "MEDICATION", "DIS": "MEDICAL_CONDITION"}
MODEL_FILE = "ner_crf.crfsuite"
CARD_FILE = "ner_crf.json"
_SHAPE = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "X" * 26 + "x" * 26 + "d" * 10,
)
_RUNS = re.compile(r"(.)\1+")
_SENTENCE_END = frozenset(".?!;\n")


@dataclass(frozen=True)
class Token:
    begin: int
    end: int
    text: str


@dataclass(frozen=True)
class TaggedSpan:
    begin: int
    end: int
    label: str  # CHEM or DIS
    score: float  # mean marginal probability of the span's labels


def tokenize(text: str) -> list[Token]:
    """Words, digit runs and single punctuation marks, with character offsets."""
    return [Token(m.start(), m.end(), m.group(0)) for m in TOKEN_RE.finditer(text)]


def sentences(text: str, tokens: Sequence[Token]) -> Iterator[tuple[int, int]]:
    """Token index ranges cut after sentence punctuation and at line breaks (CRF sequences)."""
    start = 0
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        newline = nxt is not None and "\n" in text[tok.end : nxt.begin]
        if tok.text in _SENTENCE_END or newline:
            if i + 1 > start:
                yield start, i + 1
            start = i + 1
    if start < len(tokens):
        yield start, len(tokens)


def gazetteer_tags(tokens: Sequence[Token], spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """Per token: ``B-<kind>``/``I-<kind>`` if it lies in a lexicon span of that kind, else ``O``."""
    tags = ["O"] * len(tokens)
    if not spans:
        return tags
    ordered = sorted(spans)
    j = 0
    for i, tok in enumerate(tokens):
        while j < len(ordered) and ordered[j][1] <= tok.begin:
            j += 1
        if j < len(ordered) and ordered[j][0] <= tok.begin and tok.end <= ordered[j][1]:
            tags[i] = ("B-" if tok.begin == ordered[j][0] else "I-") + ordered[j][2]
    return tags


def _word_features(w: str) -> list[str]:
    lw = w.lower()
    shape = w.translate(_SHAPE)
    feats = [
        "w=" + lw,
        "sh=" + _RUNS.sub(r"\1", shape),
        "p2=" + lw[:2],
        "p3=" + lw[:3],
        "x2=" + lw[-2:],
        "x3=" + lw[-3:],
        "x4=" + lw[-4:],
        "x5=" + lw[-5:],
        "len=" + str(min(len(w), 8)),
    ]
    if w.isupper() and len(w) > 1:
        feats.append("upper")
    elif w[:1].isupper():
        feats.append("title")
    return feats


def features(tokens: Sequence[Token], gaz: Sequence[str]) -> list[list[str]]:
    """CRFsuite attribute lists, one per token: the word, its shape and affixes, a +-2 window, the
    gazetteer tag; neighbours' attributes are prefixed with their offset."""
    words = [t.text for t in tokens]
    lower = [w.lower() for w in words]
    own = [_word_features(w) for w in words]
    short = [_RUNS.sub(r"\1", w.translate(_SHAPE)) for w in words]
    n = len(words)
    out = []
    for i in range(n):
        f = ["bias", *own[i], "g=" + gaz[i]]
        if i > 0 and tokens[i - 1].end == tokens[i].begin:
            f.append("glue-1")
        if i + 1 < n and tokens[i].end == tokens[i + 1].begin:
            f.append("glue+1")
        for k in (-2, -1, 1, 2):
            j = i + k
            if 0 <= j < n:
                f.append(f"{k}w={lower[j]}")
                f.append(f"{k}g={gaz[j]}")
                if abs(k) == 1:
                    f.append(f"{k}sh={short[j]}")
                    f.append(f"{k}x3={lower[j][-3:]}")
            else:
                f.append(f"{k}w=<edge>")
        if i > 0:
            f.append(f"-1|0={lower[i - 1]}|{lower[i]}")
        if i + 1 < n:
            f.append(f"0|1={lower[i]}|{lower[i + 1]}")
        out.append(f)
    return out


def spans_from_labels(
    tokens: Sequence[Token], labels: Sequence[str], probs: Sequence[float]
) -> list[TaggedSpan]:
    """BIO labels to character spans; an ``I-`` without its ``B-`` starts a span."""
    out: list[TaggedSpan] = []
    cur: list[int] = []
    kind = ""

    def close() -> None:
        if cur:
            score = sum(probs[k] for k in cur) / len(cur)
            out.append(TaggedSpan(tokens[cur[0]].begin, tokens[cur[-1]].end, kind, round(score, 4)))

    for i, lab in enumerate(labels):
        if lab == "O":
            close()
            cur, kind = [], ""
        elif lab.startswith("B-") or lab[2:] != kind:
            close()
            cur, kind = [i], lab[2:]
        else:
            cur.append(i)
    close()
    return out


_ABBREV_RE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*\)")


def propagate(text: str, spans: list[TaggedSpan]) -> list[TaggedSpan]:
    """One sense per document: a name tagged once is tagged wherever else it occurs in the text, and an
    abbreviation defined right after a tagged name ("acute renal failure (ARF)") takes its label.

    Occurrences must sit on word boundaries; names of fewer than 3 characters, and lower-case names
    tagged with low confidence, are not spread.
    """
    taken = bytearray(len(text))
    for sp in spans:
        taken[sp.begin : sp.end] = b"\x01" * (sp.end - sp.begin)
    names: dict[str, TaggedSpan] = {}
    for sp in spans:
        m = _ABBREV_RE.match(text, sp.end + (1 if text[sp.end : sp.end + 1] == " " else 0))
        if m and taken.find(1, m.start(1), m.end(1)) == -1 and m.group(1)[0].isupper():
            names.setdefault(m.group(1), TaggedSpan(m.start(1), m.end(1), sp.label, sp.score))
        name = text[sp.begin : sp.end]
        if len(name) >= 3 and sp.score >= 0.7:
            names.setdefault(name, sp)
    extra: list[TaggedSpan] = []
    for name, sp in names.items():
        for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text):
            if taken.find(1, m.start(), m.end()) == -1:
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
                extra.append(TaggedSpan(m.start(), m.end(), sp.label, round(sp.score * 0.9, 4)))
    return sorted(spans + extra, key=lambda s: s.begin) if extra else spans


class CrfTagger:
    """Tags CHEM and DIS mentions with a trained CRFsuite model.

    Parameters
    ----------
    model_path:
        A ``.crfsuite`` file; by default the one shipped in ``healthchat/data``.
    """

    def __init__(self, model_path: Path | None = None) -> None:
        path = model_path or data_path(MODEL_FILE)
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(path))
        card = path.with_suffix(".json")
        self.card: dict[str, Any] = json.loads(card.read_text(encoding="utf-8")) if card.exists() else {}

    def tag(self, text: str, gazetteer: Sequence[tuple[int, int, str]] = ()) -> list[TaggedSpan]:
        """Mentions in ``text``; ``gazetteer`` holds lexicon spans (begin, end, kind) as at training."""
        tokens = tokenize(text)
        gaz = gazetteer_tags(tokens, gazetteer)
        out: list[TaggedSpan] = []
        for a, b in sentences(text, tokens):
            toks = tokens[a:b]
            self._tagger.set(features(toks, gaz[a:b]))
            labels = self._tagger.tag()
            if all(lab == "O" for lab in labels):
                continue
            probs = [self._tagger.marginal(lab, k) if lab != "O" else 0.0 for k, lab in enumerate(labels)]
            out.extend(spans_from_labels(toks, labels, probs))
        return propagate(text, out)


@lru_cache(maxsize=1)
def default_tagger() -> CrfTagger:
    """The shipped model, loaded once per process."""
    return CrfTagger()
