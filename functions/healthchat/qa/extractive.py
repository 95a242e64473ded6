"""The answer HealthChat gives with no language model: the matching structured facts, then the best passages
quoted word for word, every line carrying the numbers of the citations it rests on.

Nothing is paraphrased, so every number, drug and diagnosis in the answer is in a cited text; the only
words added are fixed connecting phrases and the lab flag words computed by the pipeline.
"""

from __future__ import annotations

import re

from healthchat.domain.models import LabResult
from healthchat.qa.facts import Fact
from healthchat.qa.models import Answer, Citation

NO_MODEL_NOTICE = (
    "No language model is configured, so this answer is not written by AI: it lists the facts HealthChat "
    "extracted and quotes the most relevant passages, each with its source."
)
NO_ANSWER_DOCUMENT = "I could not find anything about that in this document."
NO_ANSWER_GENERAL = (
    "I could not find an answer to that in HealthChat's health library (NIH question-and-answer pages). "
    "Try naming the condition, test or medicine you are asking about."
)
_ASKED_FLAG_RE = re.compile(r"\b(high|elevated|raised|low|normal|abnormal|ok|okay|fine)\b", re.IGNORECASE)
_FLAG_OF = {"elevated": "high", "raised": "high", "ok": "normal", "okay": "normal", "fine": "normal"}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _key(c: Citation) -> tuple[object, ...]:
    return (c.source, c.document_id, c.source_url, c.begin_offset, c.end_offset, c.text)


class _Cited:
    """Citations in the order they are first used; the same passage keeps one number."""

    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._numbers: dict[tuple[object, ...], int] = {}

    def mark(self, cites: list[Citation]) -> str:
        marks = []
        for c in cites:
            key = _key(c)
            if key not in self._numbers:
                self.items.append(c)
                self._numbers[key] = len(self.items)
            marks.append(f"[{self._numbers[key]}]")
        return "".join(marks)


def lab_verdict(question: str, labs: list[LabResult]) -> str | None:
    """ "Yes"/"No" lead for "was my X high?" from the computed flags (no value is repeated here)."""
    m = _ASKED_FLAG_RE.search(question)
    if m is None or not labs:
        return None
    asked = _FLAG_OF.get(m.group(1).lower(), m.group(1).lower())
    if asked == "normal":
        return _normal_verdict(labs)
    if asked == "abnormal":
        hits = [lab.name for lab in labs if lab.flag in ("high", "low", "abnormal")]
    else:
        hits = [lab.name for lab in labs if lab.flag == asked]
    if hits:
        return f"Yes: {_join(hits)} {'is' if len(hits) == 1 else 'are'} {asked} in this document."
    known = [lab for lab in labs if lab.flag != "unknown"]
    if not known:
        return None
    return f"No: {_join([lab.name for lab in known])} {'is' if len(known) == 1 else 'are'} not {asked}."


def _normal_verdict(labs: list[LabResult]) -> str | None:
    """ "Is my thyroid normal?" looks at every matched lab: one out of range makes the answer "No"."""
    off = [lab for lab in labs if lab.flag in ("high", "low", "abnormal")]
    if off:
        parts = [f"{lab.name} is {'marked abnormal' if lab.flag == 'abnormal' else lab.flag}" for lab in off]
        return f"No: {_join(parts)} in this document."
    known = [lab for lab in labs if lab.flag == "normal"]
    if not known:
        return None
    unknown = [lab.name for lab in labs if lab.flag == "unknown"]
    verb = "is" if len(known) == 1 else "are"
    lead = f"Yes: {_join([lab.name for lab in known])} {verb} normal in this document."
    if unknown:
        lead += f" {_join(unknown)} could not be compared with a range."
    return lead


# a break after a sentence, or before a "- " list item (which keeps its bullet)
_PIECE_BREAK_RE = re.compile(r"(?<=[.!?:])\s+|\s+(?=-\s)")


def _pieces(text: str) -> list[str]:
    """The sentences and list items of a passage, each as printed."""
    return [p for p in _PIECE_BREAK_RE.split(text) if p.strip()]


def _bare(piece: str) -> str:
    return " ".join(piece.lstrip("-").split()).rstrip(" .;:").lower()


def dedupe_passage(text: str) -> str:
    """The passage without exact repeats: MedQuAD answers often print a list twice, once as bullets and
    once run together; a sentence or item equal to an earlier one (or to a run of earlier items joined)
    is dropped, every kept word is quoted as it is."""
    pieces = _pieces(_flat(text))
    bare = [_bare(p) for p in pieces]
    kept: list[int] = []
    for i, b in enumerate(bare):
        if not b or _repeats(b, [bare[j] for j in kept]):
            continue
        kept.append(i)
    return " ".join(pieces[i] for i in kept)


def _repeats(piece: str, earlier: list[str]) -> bool:
    if piece in earlier:
        return True
    for start in range(len(earlier)):
        joined = ""
        for item in earlier[start:]:
            joined = f"{joined} {item}".strip()
            if joined == piece:
                return True
            if len(joined) >= len(piece):
                break
    return False


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def compose(
    facts: list[Fact],
    document: list[Citation],
    knowledge: list[Citation],
    *,
    lead: str | None = None,
    about_document: bool = True,
) -> Answer:
    """The extractive answer: ``lead``, fact lines, then quoted document and knowledge-base passages."""
    cited = _Cited()
    lines = [lead] if lead else []
    lines += [f"{f.line} {cited.mark(f.citations)}".rstrip() for f in facts]
    if document:
        lines.append("Your document says:")
        lines += [f'- "{_flat(c.text)}" {cited.mark([c])}' for c in document]
    if knowledge:
        lines.append("From NIH health information:")
        lines += [f'- "{dedupe_passage(c.text)}" {cited.mark([c])}' for c in knowledge]
    if not cited.items:
        text = NO_ANSWER_DOCUMENT if about_document else NO_ANSWER_GENERAL
        return Answer(answer=text, grounded=True, kind="no_answer", notice=NO_MODEL_NOTICE)
    return Answer(answer="\n".join(lines), citations=cited.items, grounded=True, notice=NO_MODEL_NOTICE)
