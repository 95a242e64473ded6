"""Reads MedQuAD (NIH consumer health question-answer pairs, CC BY 4.0; Ben Abacha & Demner-Fushman,
BMC Bioinformatics 2019) into entries: question, answer, focus and the NIH source URL to cite.

The XML is read with the standard library's ElementTree: the files are small, trusted (they ship in
../shared/data, not from users) and flat, so no extra parser is needed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class KbEntry:
    """One question-answer pair. ``answer`` is the answer with runs of white space made single spaces:
    citation offsets are into this text."""

    entry_id: str  # the MedQuAD qid, e.g. "0000001_1-1"
    file: str  # "1_CancerGov_QA/0000001_1.xml": the benchmark splits by file
    source: str  # "CancerGov" | "NINDS" | "NIHSeniorHealth"
    url: str
    focus: str
    qtype: str
    question: str
    answer: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def read_file(path: Path, root: Path) -> list[KbEntry]:
    """The entries of one MedQuAD XML file that have an answer and a source URL."""
    doc = ET.parse(path).getroot()
    url = doc.get("url", "").strip()
    focus = _clean(doc.findtext("Focus"))
    out = []
    for pair in doc.iter("QAPair"):
        q = pair.find("Question")
        answer = _clean(pair.findtext("Answer"))
        if q is None or not answer or not url:
            continue
        out.append(
            KbEntry(
                entry_id=q.get("qid", ""),
                file=path.relative_to(root).as_posix(),
                source=doc.get("source", ""),
                url=url,
                focus=focus,
                qtype=q.get("qtype", ""),
                question=_clean(q.text),
                answer=answer,
            )
        )
    return out


def read_medquad(root: Path) -> list[KbEntry]:
    """Every entry under ``root`` (the MedQuAD folder, or a folder of its XML files), in file order."""
    files = sorted(root.rglob("*.xml"))
    if not files:
        raise FileNotFoundError("no MedQuAD XML files under the given folder")
    return [entry for path in files for entry in read_file(path, root)]
