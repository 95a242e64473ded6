"""ICD-10-CM linking for the local extractor: a condition mention -> Comprehend Medical ``ICD10CMConcepts``.

Why a library: ``simple-icd-10-cm`` ships the CMS ICD-10-CM tabular list (April 2026, 98,505 codes) as
package data, so codes, titles and inclusion terms come from the official release, not a hand list. Its
API builds a tree of every code when imported (~2 s), and we only need billable leaves with their titles
and inclusion terms, so the index parses the same bundled tabular XML directly (under 1 s); the tests check
every indexed code against the library's own ``is_valid_item`` / ``is_leaf`` / ``get_description``.

Why hand-written matching: InferICD10CM is a trained model; offline we only claim a code when the mention
*is* a code title or inclusion term up to wording (case, punctuation, word order, plurals, the
"unspecified" / "NOS" / "uncomplicated" qualifiers) or is in a small reviewed synonym table
(``data/icd10_synonyms.json``, abbreviations and lay terms). Anything else links to nothing: a wrong code
is worse than none.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from healthchat.data_files import data_json

EXACT_SCORE = 0.9
SYNONYM_SCORE = 0.8
MAX_CONCEPTS = 3
MAX_MENTION_CHARS = 200  # a condition mention is a few words; longer text is not a mention

# Tier of a key's source: a code title beats an inclusion term ("Asthma NOS") beats an includes note.
_TITLE, _INCLUSION, _INCLUDES = 0, 1, 2

# Qualifiers that name the generic ("unspecified") member of a family; dropping them makes
# "Hypothyroidism, unspecified" and "Unspecified asthma, uncomplicated" answer "hypothyroidism", "asthma".
_GENERIC_RE = re.compile(
    r"\b(?:unspecified (?:site|type|organism|part|cause|laterality|side|ear|eye)"
    r"|(?:site|type|organism|cause) not specified"
    r"|not elsewhere classified|without complications?|uncomplicated|unspecified|nos|nec)\b",
    re.IGNORECASE,
)
_PAREN_RE = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")
_ROMAN_TYPE_RE = re.compile(r"\btype (ii|i)\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
# An all-capitals short token is an abbreviation ("TIA", "PIN", "CHF"): it only matches the same capitals,
# so the inclusion term "PIN" (prostatic intraepithelial neoplasia) never links the word "pin".
_ABBREVIATION_RE = re.compile(r"[A-Z][A-Z0-9]{1,5}")
_HAS_ABBREVIATION_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
# Chapters whose codes are not conditions: external causes (V00-Y99), health-status factors (Z00-Z99).
_NOT_CONDITIONS = frozenset({"20", "21"})
_STOP = frozenset({"of", "in", "the", "a", "an"})
_STEM_KEEP = ("ss", "us", "is", "os")


class Icd10DataMissing(RuntimeError):
    """The ICD-10-CM tabular list (package ``simple-icd-10-cm``) is not installed."""


def _stem(token: str) -> str:
    if len(token) <= 3 or token.endswith(_STEM_KEEP):
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    return token[:-1] if token.endswith("s") else token


def _paren_variants(text: str) -> set[str]:
    """Ways of reading a title with nonessential modifiers: none, all, and each one alone (in place or first).

    ICD-10-CM puts optional words in parentheses ("Essential (primary) hypertension") and alternative names
    in brackets ("Giardiasis [lambliasis]").
    """
    parts = _PAREN_RE.split(text)  # text, modifier, text, modifier, ..., text
    if len(parts) == 1:
        return {text}
    groups = range(1, len(parts), 2)

    def kept(keep: set[int]) -> str:
        return " ".join(p for i, p in enumerate(parts) if i % 2 == 0 or i in keep)

    bare = kept(set())
    out = {bare, kept(set(groups))}
    for i in groups:
        out.add(kept({i}))
        out.add(f"{parts[i]} {bare}")
    return out


@lru_cache(maxsize=65536)  # the titles share a vocabulary of ~20k words: stem each once
def _token(token: str, keep_case: bool) -> str:
    if keep_case and _ABBREVIATION_RE.fullmatch(token.removesuffix("s")):
        return token.removesuffix("s")  # "UTIs"
    return _stem(token.lower())


def _key(text: str, keep_case: bool) -> str:
    """Order-free key: no punctuation or fillers; singular tokens; abbreviations kept if ``keep_case``."""
    tokens = [_token(t, keep_case) for t in _TOKEN_RE.findall(text)]
    return " ".join(sorted(t for t in tokens if t not in _STOP))


def mention_keys(text: str, lower_abbreviations: bool = True) -> list[str]:
    """Every index key a mention or title can be read as (deduplicated, most literal first).

    Keys that keep abbreviations in capitals come first, then all-lower-case keys: for a mention they let
    capitals ("GOUT") match a word; a title or inclusion term that is only abbreviations ("PIN") gets no
    lower-case key (``lower_abbreviations=False``).
    """
    text = _GENERIC_RE.sub(" ", text.replace("\u2019", "'").replace("'s", "s").replace("'", ""))
    text = _ROMAN_TYPE_RE.sub(lambda m: "type " + ("2" if m.group(1).lower() == "ii" else "1"), text)
    variants = sorted(_paren_variants(text), key=len, reverse=True)
    forms = [f for v in variants for f in ((v, v.replace("-", "")) if "-" in v else (v,))]
    if not _HAS_ABBREVIATION_RE.search(text):
        keys = dict.fromkeys(_key(form, keep_case=False) for form in forms)
    else:
        cased = [_key(form, keep_case=True) for form in forms]
        lower = [
            _key(form, keep_case=False)
            for form, key in zip(forms, cased, strict=True)
            if lower_abbreviations or not all(_ABBREVIATION_RE.fullmatch(t) for t in key.split())
        ]
        keys = dict.fromkeys([*cased, *lower])
    keys.pop("", None)
    return list(keys)


@dataclass
class _Index:
    titles: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, code: str, text: str, tier: int) -> None:
        for key in mention_keys(text, lower_abbreviations=False):
            codes = self.by_key.setdefault(key, {})
            if tier < codes.get(code, 99):
                codes[code] = tier

    def walk(self, diag: ET.Element, needs_7th: bool, searchable: bool) -> None:
        # Codes under a seventh-character definition are billable only with the extension (injuries).
        needs_7th = needs_7th or diag.find("sevenChrDef") is not None
        children = diag.findall("diag")
        for child in children:
            self.walk(child, needs_7th, searchable)
        if children or needs_7th:
            return
        code, title = diag.findtext("name", ""), diag.findtext("desc", "")
        self.titles[code] = title
        # A manifestation code ("... in diseases classified elsewhere") is never the code of a bare mention.
        if not searchable or "classified elsewhere" in title:
            return
        self.add(code, title, _TITLE)
        for note in diag.iterfind("inclusionTerm/note"):
            self.add(code, note.text or "", _INCLUSION)
        for note in diag.iterfind("includes/note"):
            self.add(code, note.text or "", _INCLUDES)


def _tabular_xml(package: str = "simple_icd_10_cm") -> Path:
    spec = importlib.util.find_spec(package)
    # find_spec does not run the package: importing it would build the library's whole tree.
    locations = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for loc in locations for p in (Path(loc) / "data").glob("icd10c-tabular-*.xml"))
    if not found:
        raise Icd10DataMissing("ICD-10-CM data not found: install simple-icd-10-cm==1.5.0")
    return found[-1]


def _synonyms() -> dict[str, str]:
    table: dict[str, str] = data_json("icd10_synonyms.json")["synonyms"]
    return table


class Icd10Linker:
    """Links a condition mention to ICD-10-CM billable codes, or to nothing when not confident.

    Parameters
    ----------
    xml_path : Path or None
        The ICD-10-CM tabular XML; default: the one bundled with ``simple-icd-10-cm``.
    synonyms : dict or None
        Mention -> code; default: ``data/icd10_synonyms.json``. An abbreviation in capitals ("MI") only
        matches the same capitals.
    """

    def __init__(self, xml_path: Path | None = None, synonyms: dict[str, str] | None = None) -> None:
        index = _Index()
        root = ET.parse(xml_path or _tabular_xml()).getroot()
        for chapter in root.iterfind("chapter"):
            searchable = chapter.findtext("name") not in _NOT_CONDITIONS
            for diag in chapter.iterfind("section/diag"):
                index.walk(diag, needs_7th=False, searchable=searchable)
        self._titles = index.titles
        self._by_key = index.by_key
        self._synonyms: dict[str, str] = {}
        for mention, code in (_synonyms() if synonyms is None else synonyms).items():
            for key in mention_keys(mention, lower_abbreviations=False):
                self._synonyms.setdefault(key, code)

    def __len__(self) -> int:
        """Number of billable codes indexed."""
        return len(self._titles)

    def title(self, code: str) -> str | None:
        """The official title of an indexed code (``None`` if the code is not an indexed leaf)."""
        return self._titles.get(code)

    def _exact(self, keys: list[str]) -> str | None:
        for key in keys:
            codes = self._by_key.get(key)
            if not codes:
                continue
            best = min(codes.values())
            top = [c for c, tier in codes.items() if tier == best]
            # Two codes share this wording: we cannot tell which one is meant.
            return top[0] if len(top) == 1 else None
        return None

    def _synonym(self, keys: list[str]) -> str | None:
        return next((self._synonyms[k] for k in keys if k in self._synonyms), None)

    def link(self, mention: str) -> list[dict[str, Any]]:
        """ICD10CMConcepts for one condition mention, best first (at most three); ``[]`` if not confident.

        Parameters
        ----------
        mention : str
            The condition as written ("type 2 diabetes", "CHF", "Hypothyroidism, unspecified").

        Returns
        -------
        list of dict
            ``{"Description", "Code", "Score"}`` as InferICD10CM returns them; ``Code`` is dotted (E11.9).
        """
        if len(mention) > MAX_MENTION_CHARS:
            return []
        keys = mention_keys(mention)
        concepts: list[dict[str, Any]] = []
        for code, score in ((self._exact(keys), EXACT_SCORE), (self._synonym(keys), SYNONYM_SCORE)):
            if code is None or code not in self._titles or any(c["Code"] == code for c in concepts):
                continue
            concepts.append({"Description": self._titles[code], "Code": code, "Score": score})
        return concepts[:MAX_CONCEPTS]


@lru_cache(maxsize=1)
def linker() -> Icd10Linker:
    """The process-wide linker, built on first use (under a second: parse the XML, index ~23k codes)."""
    return Icd10Linker()
