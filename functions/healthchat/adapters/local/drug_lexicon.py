"""Drug names (generics, brands, synonyms) from the dictionary bundled in ``drug-named-entity-recognition``.

Why that package: its MIT-licensed dictionary (DrugBank, MeSH, MedlinePlus and NHS names; ~107k name
variants of ~20k substances) covers far more drugs than the hand-written ``medications.json``, and it
ships inside the wheel, so nothing is downloaded at run time.

Why its data file is read directly instead of calling ``find_drugs``: importing the package takes ~2.6 s
(at import it builds a trigram index over every variant for fuzzy matching, imports ``requests`` and reads
``~/.omop_cache.pkl``), and its matcher only looks at one- and two-token windows of pre-split tokens. We
need the names only, matched by the extractor's own longest-match pass, so this module decompresses the
package's ``drug_ner_dictionary.pkl.bz2`` itself and keeps a filtered list: ~0.8 s cold on a 2-core
machine, of which bz2 and unpickling take ~0.3-0.5 s.
The pickle is the installed package's own file, trusted exactly as far as its code is.

The filtered list is written once, by ``scripts/build_lexicons.py``, to ``healthchat/data/drug_names.tsv``
and shipped: the extractor then loads it in tens of milliseconds and needs neither the package nor its
build time at run time (the CRF tagger's gazetteer must also be the exact list it was trained with).

What is dropped, and why:

* substances whose every MeSH branch is a protein, enzyme, nucleic acid, biological factor or drug class
  ("kinases", "mRNA", "antibiotics", "cholinergic"), unless MedlinePlus or the NHS lists them as medicines;
* names with a comma (MeSH inverted headings, "receptors, gaba-b"), names mapped to two substances, and
  multi-word names that start or end with a function word (codes such as "AT 10");
* names of three letters or fewer (the package already drops them; clinical abbreviations such as ASA live,
  case-sensitive, in ``medications.json``);
* every name and alias of a lab test in ``lab_tests.json``, the lab analytes, English words, foods and
  dosage forms listed in ``drug_stoplist.json``, and names containing one of its ``non_drug_words``
  ("pollen", "dander"): in our documents "ferritin" is a lab test and "luminal" a word, not drugs.
"""

from __future__ import annotations

import bz2
import hashlib
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

from healthchat.data_files import data_json, data_text

DrugType = Literal["GENERIC_NAME", "BRAND_NAME"]

_PACKAGE = "drug_named_entity_recognition"
_DATA_FILE = "drug_ner_dictionary.pkl.bz2"
# MeSH tree branches that are not medications: macromolecules, enzymes, glycoproteins, proteins (amino
# acids and peptides stay), nucleic acids, biological factors (antigens, toxins) and chemical actions and
# uses, i.e. drug classes and effects ("antibiotics", "cholinergic"): a class is not a drug name, and many
# are adjectives in prose. A substance with another branch too is kept, and so is any substance MedlinePlus
# or the NHS lists as a medicine.
_NON_DRUG_MESH = ("D05", "D08", "D09.400", "D12.776", "D13", "D23", "D27")
_PROTEIN_MESH = ("D12.776", "D23")
_PEPTIDE_MESH = "D12.644"
# A multi-word name that starts or ends with one of these is a code or a fragment ("AT 10"), not prose.
_EDGE_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "per", "the", "to"}
    | {"with"}
)
_NORM_RE = re.compile(r"[^a-z0-9]+")
_PLAIN_RE = re.compile(r"[a-z0-9][a-z0-9 ./+()\-]*")
TSV_FILE = "drug_names.tsv"
_TSV_HEADER = (
    "# drug names filtered from drug-named-entity-recognition (MIT; DrugBank, MeSH, MedlinePlus, NHS names)"
    " by scripts/build_lexicons.py\n"
)


@dataclass(frozen=True, slots=True)
class DrugTerm:
    """One drug name as written in text (lower case).

    ``generic`` is the generic name the phrase stands for, or None when the phrase is itself the
    package's canonical name.
    """

    phrase: str
    type: DrugType
    generic: str | None = None


def _norm(text: str) -> str:
    return _NORM_RE.sub(" ", text.lower()).strip()


def _data_path() -> Path | None:
    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _DATA_FILE
    return path if path.is_file() else None


@dataclass(frozen=True)
class StopList:
    """Normalised names (``phrases``) and words (``words``: any name containing one) never taken as drugs."""

    phrases: frozenset[str]
    words: frozenset[str]

    def digest(self) -> str:
        text = "\n".join(sorted(self.phrases)) + "\0" + "\n".join(sorted(self.words))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_stoplist() -> StopList:
    """``drug_stoplist.json`` plus every lab test name and alias in ``lab_tests.json``."""
    stop = data_json("drug_stoplist.json")
    labs = data_json("lab_tests.json")
    phrases: set[str] = set()
    for key, values in stop.items():
        if not key.startswith("_") and key != "non_drug_words":
            phrases.update(_norm(v) for v in values)
    for test in labs["tests"]:
        phrases.update(_norm(a) for a in (test["name"], *test["aliases"]))
    phrases.discard("")
    return StopList(frozenset(phrases), frozenset(_norm(w) for w in stop["non_drug_words"]))


def _is_drug(data: dict[str, Any]) -> bool:
    if "medline_plus_id" in data or "nhs_url" in data:
        return True
    branches: list[str] = data.get("mesh_tree") or []
    if not branches:
        return True
    if any(b.startswith(_PROTEIN_MESH) for b in branches):
        # proteins and growth factors are filed under peptides too: that branch is no evidence of a drug
        branches = [b for b in branches if not b.startswith(_PEPTIDE_MESH)]
    return any(not b.startswith(_NON_DRUG_MESH) for b in branches)


def _keep_phrase(phrase: str, stop: StopList) -> bool:
    if "," in phrase or ";" in phrase or "=" in phrase or not _PLAIN_RE.fullmatch(phrase):
        return False  # inverted headings, scraped "tradename = x" rows, quotes and control characters
    key = _norm(phrase)
    words = key.split()
    if len(words) > 1 and (words[0] in _EDGE_WORDS or words[-1] in _EDGE_WORDS):
        return False
    if stop.words.intersection(words):
        return False
    return len(key) - key.count(" ") > 3 and key not in stop.phrases


def _build(raw: dict[str, Any], stop: StopList) -> tuple[DrugTerm, ...]:
    canon_data: dict[str, dict[str, Any]] = raw["drug_canonical_to_data"]
    variant_data: dict[str, dict[str, Any]] = raw["drug_variant_to_variant_data"]
    terms: list[DrugTerm] = []
    for phrase, canonicals in raw["drug_variant_to_canonical"].items():
        if len(canonicals) != 1 or not _keep_phrase(phrase, stop):
            continue
        canonical = canonicals[0]
        if not _is_drug(canon_data.get(canonical) or {}):
            continue
        brand = bool(variant_data.get(phrase, {}).get("is_brand"))
        generic = None if phrase == canonical else canonical
        terms.append(DrugTerm(phrase, "BRAND_NAME" if brand else "GENERIC_NAME", generic))
    terms.sort(key=lambda t: t.phrase)
    return tuple(terms)


def load_drug_terms(data: Path, stop: StopList) -> tuple[DrugTerm, ...]:
    """Filtered terms from a dictionary file in the package's format (uncached; tests use small files)."""
    with bz2.open(data, "rb") as fh:
        raw = pickle.load(fh)  # noqa: S301 - the installed package's own data file
    return _build(raw, stop)


def write_tsv(terms: tuple[DrugTerm, ...], path: Path) -> None:
    """The shipped list: ``phrase<TAB>type<TAB>generic`` a line (generic empty when the phrase is it)."""
    lines = [f"{t.phrase}\t{t.type}\t{t.generic or ''}" for t in terms]
    path.write_text(_TSV_HEADER + "\n".join(lines) + "\n", encoding="utf-8")


def read_tsv(text: str) -> tuple[DrugTerm, ...]:
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            phrase, kind, generic = line.split("\t")
            out.append(
                DrugTerm(phrase, "BRAND_NAME" if kind == "BRAND_NAME" else "GENERIC_NAME", generic or None)
            )
    return tuple(out)


def build_from_package() -> tuple[DrugTerm, ...]:
    """Filter the installed package's dictionary (scripts/build_lexicons.py); () if it is not installed."""
    data = _data_path()
    return load_drug_terms(data, default_stoplist()) if data is not None else ()


@lru_cache(maxsize=1)
def drug_terms() -> tuple[DrugTerm, ...]:
    """Drug names to add to the medication lexicon, sorted by phrase, from the shipped ``drug_names.tsv``.

    Add ``medications.json`` entries first: the lexicon keeps the first of two equal phrases, so the
    curated brand/generic typing wins over this dictionary's (which marks only ~140 names as brands).
    """
    return read_tsv(data_text(TSV_FILE))
