"""Reader for PubTator files (BC5CDR, NCBI-disease): documents as title + " " + abstract with gold spans.

Hand-written because the format is three line kinds and no maintained package reads it without pulling
in a whole NLP stack; the reader checks every gold offset against the text it points into.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GoldMention:
    """One annotated mention: ``text[begin:end] == mention``; ``type`` as the corpus spells it
    (Chemical, Disease; or NCBI's SpecificDisease, Modifier, DiseaseClass, CompositeMention)."""

    begin: int
    end: int
    mention: str
    type: str
    concept: str = ""


@dataclass
class PubTatorDocument:
    """One abstract: ``text`` is the title, one space, then the abstract (the offsets' basis)."""

    pmid: str
    title: str = ""
    abstract: str = ""
    mentions: list[GoldMention] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}"


def _mention(doc: PubTatorDocument, cols: list[str]) -> GoldMention:
    begin, end = int(cols[1]), int(cols[2])
    # NCBI-disease has a few mentions padded with spaces the text does not have: compare stripped
    if doc.text[begin:end].strip() != cols[3].strip():
        raise ValueError(f"PubTator offsets {begin}-{end} of document {doc.pmid} do not match the mention")
    return GoldMention(begin, end, doc.text[begin:end], cols[4], cols[5] if len(cols) > 5 else "")


def parse_pubtator(lines: Iterable[str]) -> list[PubTatorDocument]:
    """Documents in file order. Relation lines (``pmid<TAB>CID<TAB>...``) and blank lines are skipped."""
    docs: list[PubTatorDocument] = []
    current: PubTatorDocument | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        head = line.split("|", 2)
        if len(head) == 3 and head[1] in ("t", "a") and "\t" not in head[0]:
            if current is None or current.pmid != head[0]:
                current = PubTatorDocument(head[0])
                docs.append(current)
            if head[1] == "t":
                current.title = head[2]
            else:
                current.abstract = head[2]
            continue
        cols = line.split("\t")
        if len(cols) < 5 or cols[1] == "CID" or not cols[1].isdigit():
            continue  # relation lines: pmid, CID, chemical id, disease id
        if current is None or cols[0] != current.pmid:
            raise ValueError(f"PubTator mention line for document {cols[0]} outside its document")
        current.mentions.append(_mention(current, cols))
    return docs


def read_pubtator(path: Path) -> list[PubTatorDocument]:
    """Parse a PubTator file (UTF-8)."""
    with path.open(encoding="utf-8") as fh:
        return parse_pubtator(fh)
