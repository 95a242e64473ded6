"""The glossary: its JSON files (``data/glossary*.json``) read into entries with their match patterns and
abbreviation senses, longest terms first.

Split from ``glossary_simplifier`` so that code which only looks terms up (the API's ``GET /glossary/{term}``,
the Q&A engine) imports neither textstat nor the rewrite rules. Hand-written matching for the reasons
``glossary_simplifier`` gives.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from healthchat.data_files import data_json

logger = logging.getLogger(__name__)


class GlossaryError(ValueError):
    """A glossary file defines a term that an earlier file (or entry) already defines."""


@dataclass(frozen=True)
class Sense:
    plain: str
    swap: bool
    cues: re.Pattern[str] | None
    dose: bool  # the "@dose" cue: a dose, route or drug name right next to the term


@dataclass(frozen=True)
class Entry:
    term: str
    plain: str
    swap: bool
    exact: bool
    dose_context: bool
    senses: tuple[Sense, ...]
    key: str  # the term in lower case: a cheap test before the pattern is compiled and run

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.term, self.exact)


def _is_exact(term: str) -> bool:
    """Short or all-capital letter-only terms are case-sensitive ("MS" is not "ms", "PT" is not "pt")."""
    if re.search(r"[^A-Za-z]", term):
        return False
    return len(term) <= 4 or term.isupper()


@cache
def _pattern(term: str, exact: bool) -> re.Pattern[str]:
    """Compiled on first need: most of the ~3,000 terms never occur in a given document (compiling all
    of them up front cost 2.5 s per process)."""
    body = re.escape(term)
    if exact and term.islower():
        body = f"(?:{body}|{re.escape(term.capitalize())})"  # "Pt was seen", "Hx of"
    if exact and term.isupper() and len(term) > 1:
        body += "(?P<plural>s)?"
    # Not inside a word or a hyphenated compound ("salpingo-oophorectomy", "CA-125", "DC'd");
    # a lowercase term may follow a digit ("44y/o", "500mcg").
    left = ("(?<![A-Za-z])" if term[:1].islower() else "(?<![A-Za-z0-9])") + "(?<![A-Za-z0-9]-)"
    right = r"(?![A-Za-z0-9])(?!['’][A-Za-z])(?!-[A-Za-z0-9])"
    return re.compile(left + body + right, 0 if exact else re.IGNORECASE)


def _cue_pattern(cues: list[str]) -> re.Pattern[str] | None:
    words = [c for c in cues if not c.startswith("@")]
    if not words:
        return None
    caps = "|".join(re.escape(c) for c in words if c.isupper())  # abbreviations: case as written
    other = "|".join(re.escape(c) for c in words if not c.isupper())
    alts = [f"(?-i:{caps})"] if caps else []
    if other:
        alts.append(f"(?:{other})(?:s|es)?")
    return re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(alts)})(?![A-Za-z0-9])", re.IGNORECASE)


def _entry(raw: dict[str, Any]) -> Entry:
    term = raw["term"]
    exact = _is_exact(term)
    senses = tuple(
        Sense(s["plain"], bool(s.get("swap", True)), _cue_pattern(s["cues"]), "@dose" in s["cues"])
        for s in raw.get("senses", [])
    )
    return Entry(
        term,
        raw["plain"],
        bool(raw["swap"]),
        exact,
        raw.get("context") == "dose",
        senses,
        term.lower(),
    )


def _forms(entry: Entry) -> set[str]:
    """Written forms that identify a term: two entries sharing one define the same term twice."""
    if not entry.exact:
        return {"ci:" + entry.term.lower()}
    forms = {entry.term, entry.term.capitalize()} if entry.term.islower() else {entry.term}
    return {"cs:" + f for f in forms} | ({"ci:" + entry.term.lower()} if len(entry.term) > 4 else set())


def glossary_files() -> list[str]:
    """``glossary.json`` first, then the other ``glossary*.json`` parts in name order."""
    names = [p.name for p in resources.files("healthchat").joinpath("data").iterdir()]
    parts = sorted(n for n in names if fnmatch(n, "glossary*.json") and n != "glossary.json")
    return ["glossary.json", *parts]


def load_glossary(strict: bool = False) -> tuple[Entry, ...]:
    """All glossary files merged, longest terms first. A term defined twice raises ``GlossaryError``
    when ``strict`` (tests); otherwise the first definition wins and the repeat is logged."""
    seen: dict[str, str] = {}
    entries = []
    for name in glossary_files():
        for raw in data_json(name)["entries"]:
            entry = _entry(raw)
            clash = next((seen[f] for f in _forms(entry) if f in seen), None)
            if clash is not None:
                if strict:
                    raise GlossaryError(f"{entry.term!r} in {name} is already defined in {clash}")
                logger.warning("glossary term %r in %s is already defined in %s", entry.term, name, clash)
                continue
            seen.update(dict.fromkeys(_forms(entry), name))
            entries.append(entry)
    return tuple(sorted(entries, key=lambda e: -len(e.term)))


@lru_cache(maxsize=1)
def glossary() -> tuple[Entry, ...]:
    return load_glossary()
