"""glossary_abbreviations.json: shape, plain-text rules, senses, and no term defined twice across parts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from healthchat.adapters.local.glossary_data import glossary_files, load_glossary
from healthchat.data_files import data_json

CATEGORIES = {
    "condition",
    "symptom",
    "drug",
    "drug_class",
    "test",
    "procedure",
    "anatomy",
    "abbreviation",
    "dosing",
    "general",
}


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    data = data_json("glossary_abbreviations.json")
    assert data["_about"] and "self-review" in data["reviewed"]
    return list(data["entries"])


def _plains(entry: dict[str, Any]) -> list[str]:
    return [entry["plain"], *(s["plain"] for s in entry.get("senses", []))]


def test_count_keys_and_categories(entries: list[dict[str, Any]]) -> None:
    assert len(entries) >= 220
    for e in entries:
        assert {"term", "plain", "swap", "category"} <= e.keys(), e
        assert e["category"] in CATEGORIES and isinstance(e["swap"], bool), e
        assert e.get("context") in (None, "dose"), e
        assert e["category"] not in ("drug", "drug_class") or not e["swap"], e


def test_plain_texts_are_short_and_hold_no_digits_or_drug_names(entries: list[dict[str, Any]]) -> None:
    meds = data_json("medications.json")
    drugs = {g.lower() for g in meds["generic"]} | {b.lower() for b in meds["brand"]}
    for e in entries:
        for plain in _plains(e):
            assert plain and len(plain.split()) < 25, e["term"]
            assert not re.search(r"\d", plain), e["term"]
            assert not set(re.findall(r"[a-z][a-z-]+", plain.lower())) & (drugs - {"insulin"}), e["term"]


def test_ambiguous_terms_keep_a_generic_gloss_and_cued_senses(entries: list[dict[str, Any]]) -> None:
    ambiguous = {e["term"]: e for e in entries if "senses" in e}
    assert {"MS", "PT", "PE", "RA", "CA", "MR", "PD", "OD", "DC", "ED", "CP"} <= ambiguous.keys()
    for term, e in ambiguous.items():
        assert e["swap"] is False, term  # the generic gloss never replaces the term
        assert len(e["senses"]) >= 2, term
        for sense in e["senses"]:
            assert isinstance(sense["swap"], bool) and sense["cues"], term
            assert term not in sense["cues"], term


def test_no_term_is_defined_twice_across_glossary_files() -> None:
    names = glossary_files()
    assert names[0] == "glossary.json" and "glossary_abbreviations.json" in names
    load_glossary(strict=True)  # raises GlossaryError on a repeat
    # Case-insensitive repeats are allowed only between case-sensitive abbreviations ("PT" / "pt").
    owner: dict[str, tuple[str, str]] = {}
    for name in names:
        for e in data_json(name)["entries"]:
            key, term = e["term"].lower(), e["term"]
            if key in owner:
                other = owner[key][1]
                exact = all(re.fullmatch(r"[A-Za-z]{1,4}|[A-Z]+", t) for t in (term, other))
                assert exact and term != other, (term, name, owner[key])
            owner.setdefault(key, (name, term))
