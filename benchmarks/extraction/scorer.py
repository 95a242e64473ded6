"""Extraction scoring, pure functions: span P/R/F1 (exact and overlap), negation, attribute and lab-tuple
accuracy. Hand-written because the rules below (one-to-one overlap pairing, lab rows matched through the
interpreter's canonical names) are the benchmark's definition and must be readable in one place.

Matching rules
--------------
* Spans match only within the same document and category. Exact: same begin and end. Overlap: at least
  one shared character; pairing is one-to-one (each gold span pairs with at most one prediction and vice
  versa), greedy in text order, so overlap TP is the same number for precision and recall.
* Per type: recall per gold type (gold spans of that type vs every prediction of the category) and
  precision per predicted type (predictions of that type vs every gold span of the category).
* Negation and attributes are judged on gold items whose entity was found (overlap pairing); the items
  whose entity was missed are counted in ``missed`` and not in the accuracy.
* Attributes compare text after collapsing whitespace and lower-casing; a gold ``dose`` is right if any
  predicted DOSAGE or STRENGTH attribute of the paired entity equals it (see ``ATTRIBUTE_KINDS``).
* Lab rows: a gold row pairs with the first unused predicted lab (in text order) whose canonical name
  equals the row's; failing that, with the first unused prediction after the previous pairing whose
  value equals the row's value (OCR may garble a name the interpreter then cannot normalise). A tuple is
  right when canonical name, value, canonical unit and range text agree. Range texts compare with all
  whitespace removed: "1.7 - 2.2" and "1.7-2.2" are the same printed range, and OCR drops such spaces.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

ATTRIBUTE_KINDS: dict[str, frozenset[str]] = {
    "dose": frozenset({"DOSAGE", "STRENGTH"}),
    "frequency": frozenset({"FREQUENCY"}),
    "route": frozenset({"ROUTE_OR_MODE"}),
}


@dataclass(frozen=True)
class Span:
    """A gold or predicted entity: ``[begin, end)`` in document ``doc``; ``negated`` None = not judged."""

    doc: str
    begin: int
    end: int
    category: str
    type: str = ""
    negated: bool | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (kind, text); gold uses ATTRIBUTE_KINDS keys


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class SpanScore:
    """Exact and overlap counts of one category (or type); ``gold``/``predicted`` are the totals."""

    exact: Counts = field(default_factory=Counts)
    overlap: Counts = field(default_factory=Counts)

    @property
    def gold(self) -> int:
        return self.exact.tp + self.exact.fn

    @property
    def predicted(self) -> int:
        return self.exact.tp + self.exact.fp


@dataclass
class Accuracy:
    correct: int = 0
    total: int = 0
    missed: int = 0

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else 0.0


def _groups(spans: Iterable[Span]) -> dict[tuple[str, str], list[Span]]:
    out: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for s in spans:
        out[(s.doc, s.category)].append(s)
    return out


def pair_overlapping(gold: Sequence[Span], pred: Sequence[Span]) -> dict[int, int]:
    """One-to-one pairing of overlapping spans (same doc and category), greedy in text order.

    Returns gold index -> prediction index. An exact twin is preferred over a merely overlapping one.
    """
    pairs: dict[int, int] = {}
    used: set[int] = set()
    by_group: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, p in enumerate(pred):
        by_group[(p.doc, p.category)].append(j)
    for i in sorted(range(len(gold)), key=lambda k: (gold[k].doc, gold[k].begin, gold[k].end)):
        g = gold[i]
        cands = [
            j
            for j in by_group.get((g.doc, g.category), ())
            if j not in used and pred[j].begin < g.end and g.begin < pred[j].end
        ]
        if cands:
            exact = [j for j in cands if (pred[j].begin, pred[j].end) == (g.begin, g.end)]
            j = exact[0] if exact else min(cands, key=lambda k: (pred[k].begin, pred[k].end))
            pairs[i] = j
            used.add(j)
    return pairs


def _unique(spans: Sequence[Span]) -> list[Span]:
    """One span per (doc, category, begin, end): corpora repeat a few annotations."""
    return list({(s.doc, s.category, s.begin, s.end): s for s in spans}.values())


def _score(gold: Sequence[Span], pred: Sequence[Span]) -> SpanScore:
    gold, pred = _unique(gold), _unique(pred)
    score = SpanScore()
    gold_keys = {(s.doc, s.category, s.begin, s.end) for s in gold}
    pred_keys = {(s.doc, s.category, s.begin, s.end) for s in pred}
    score.exact = Counts(len(gold_keys & pred_keys), len(pred_keys - gold_keys), len(gold_keys - pred_keys))
    n = len(pair_overlapping(gold, pred))
    score.overlap = Counts(n, len(pred) - n, len(gold) - n)
    return score


def score_spans(gold: Iterable[Span], pred: Iterable[Span]) -> dict[str, SpanScore]:
    """Per category P/R/F1, exact and overlap, plus ``"ALL"`` (micro over categories)."""
    gold_l, pred_l = list(gold), list(pred)
    cats = sorted({s.category for s in gold_l} | {s.category for s in pred_l})
    out = {
        c: _score([g for g in gold_l if g.category == c], [p for p in pred_l if p.category == c])
        for c in cats
    }
    out["ALL"] = _score(gold_l, pred_l)
    return out


def score_by_type(gold: Iterable[Span], pred: Iterable[Span]) -> dict[str, SpanScore]:
    """Keys ``"gold:<type>"`` (only recall is meaningful) and ``"pred:<type>"`` (only precision is)."""
    gold_l, pred_l = list(gold), list(pred)
    out: dict[str, SpanScore] = {}
    for t in sorted({g.type for g in gold_l}):
        cats = {g.category for g in gold_l if g.type == t}
        s = _score([g for g in gold_l if g.type == t], [p for p in pred_l if p.category in cats])
        out[f"gold:{t}"] = SpanScore(Counts(s.exact.tp, 0, s.exact.fn), Counts(s.overlap.tp, 0, s.overlap.fn))
    for t in sorted({p.type for p in pred_l}):
        cats = {p.category for p in pred_l if p.type == t}
        s = _score([g for g in gold_l if g.category in cats], [p for p in pred_l if p.type == t])
        out[f"pred:{t}"] = SpanScore(Counts(s.exact.tp, s.exact.fp, 0), Counts(s.overlap.tp, s.overlap.fp, 0))
    return out


def negation_accuracy(gold: Sequence[Span], pred: Sequence[Span]) -> Accuracy:
    """Share of found gold items (those with ``negated`` set) whose prediction has the same flag."""
    judged = [g for g in gold if g.negated is not None]
    pairs = pair_overlapping(judged, pred)
    acc = Accuracy(missed=len(judged) - len(pairs))
    for i, j in pairs.items():
        acc.total += 1
        acc.correct += bool(pred[j].negated) == judged[i].negated
    return acc


def normalize_text(text: str | None) -> str:
    """Lower case, whitespace runs collapsed to one space, trimmed."""
    return re.sub(r"\s+", " ", text or "").strip().lower()


def normalize_range(text: str | None) -> str:
    """A printed reference range without any whitespace, lower case ("3.5 - 5.1" -> "3.5-5.1")."""
    return re.sub(r"\s+", "", text or "").lower()


def attribute_accuracy(gold: Sequence[Span], pred: Sequence[Span]) -> dict[str, Accuracy]:
    """Per gold attribute kind (dose, frequency, route): right when the paired prediction carries an
    attribute of a matching kind with equal normalised text."""
    pairs = pair_overlapping(gold, pred)
    out: dict[str, Accuracy] = {}
    for i, g in enumerate(gold):
        for kind, text in g.attributes:
            acc = out.setdefault(kind, Accuracy())
            if i not in pairs:
                acc.missed += 1
                continue
            allowed = ATTRIBUTE_KINDS.get(kind, frozenset({kind}))
            got = {normalize_text(t) for k, t in pred[pairs[i]].attributes if k in allowed}
            acc.total += 1
            acc.correct += normalize_text(text) in got
    return out


@dataclass(frozen=True)
class LabRow:
    """A lab tuple, gold or predicted; ``position`` orders predictions (begin offset), gold rows use 0."""

    name: str
    value: str
    unit: str | None
    range_text: str | None
    flag: str = "unknown"
    position: int = 0


LAB_FIELDS = ("name", "value", "unit", "range", "flag")


@dataclass
class LabScore:
    rows: int = 0
    paired: int = 0
    tuples_correct: int = 0
    unpaired_predictions: int = 0
    fields: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAB_FIELDS, 0))

    @property
    def tuple_accuracy(self) -> float:
        return self.tuples_correct / self.rows if self.rows else 0.0


def pair_labs(gold: Sequence[LabRow], pred: Sequence[LabRow], canon: Callable[[str], str]) -> dict[int, int]:
    """Gold index -> prediction index: the first unused prediction (text order) with the row's canonical
    name; failing that, the first unused one after the previous pairing with the row's value."""
    order = sorted(range(len(pred)), key=lambda k: pred[k].position)
    used: set[int] = set()
    pairs: dict[int, int] = {}
    last = -1
    for i, g in enumerate(gold):
        by_name = [j for j in order if j not in used and canon(pred[j].name) == canon(g.name)]
        by_value = [
            j for j in order if j not in used and pred[j].position > last and pred[j].value.strip() == g.value
        ]
        pick = by_name[0] if by_name else (by_value[0] if by_value else None)
        if pick is not None:
            pairs[i] = pick
            used.add(pick)
            last = pred[pick].position
    return pairs


def lab_field_checks(
    g: LabRow,
    p: LabRow,
    canonical_name: Callable[[str], str] = normalize_text,
    canonical_unit: Callable[[str | None], str] = normalize_text,
) -> Mapping[str, bool]:
    """Whether each field of a paired prediction matches its gold row."""
    return {
        "name": canonical_name(g.name) == canonical_name(p.name),
        "value": g.value.strip() == p.value.strip(),
        "unit": canonical_unit(g.unit) == canonical_unit(p.unit),
        "range": normalize_range(g.range_text) == normalize_range(p.range_text),
        "flag": g.flag == p.flag,
    }


def lab_tuple_accuracy(
    gold: Sequence[LabRow],
    pred: Sequence[LabRow],
    canonical_name: Callable[[str], str] = normalize_text,
    canonical_unit: Callable[[str | None], str] = normalize_text,
) -> LabScore:
    """Tuple accuracy over gold rows (a row with no pairing is wrong), plus per-field right counts."""
    pairs = pair_labs(gold, pred, canonical_name)
    score = LabScore(rows=len(gold), paired=len(pairs), unpaired_predictions=len(pred) - len(pairs))
    for i, j in pairs.items():
        right = lab_field_checks(gold[i], pred[j], canonical_name, canonical_unit)
        for k, ok in right.items():
            score.fields[k] += ok
        score.tuples_correct += all(right[k] for k in ("name", "value", "unit", "range"))
    return score
