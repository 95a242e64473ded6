"""glossary_tests_anatomy.json: lab tests, imaging, procedures, anatomy, specialties and chart words."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from healthchat.data_files import data_json, data_path

_PART = "glossary_tests_anatomy.json"
_CATEGORIES = {"test", "procedure", "anatomy", "general"}


def _entries(name: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = data_json(name)["entries"]
    return entries


def test_part_loads_with_about_review_and_enough_entries() -> None:
    data = data_json(_PART)
    assert data["_about"].strip() and "self-review" in data["reviewed"]
    assert len(data["entries"]) >= 300


def test_entries_have_the_shared_shape_and_this_parts_categories() -> None:
    for e in _entries(_PART):
        assert set(e) == {"term", "plain", "swap", "category"}, e
        assert isinstance(e["term"], str) and e["term"] == e["term"].strip() and e["term"], e
        assert isinstance(e["plain"], str) and e["plain"].strip(), e
        assert isinstance(e["swap"], bool), e
        assert e["category"] in _CATEGORIES, e


def test_plain_texts_are_short_and_hold_no_digits_or_drug_names() -> None:
    meds = data_json("medications.json")
    drugs = {d.lower() for d in [*meds["generic"], *meds["brand"]]} - {"insulin"}
    for e in _entries(_PART):
        plain = e["plain"].lower()
        assert not re.search(r"\d", plain), e
        assert len(plain.split()) < 25, e
        words = set(re.findall(r"[a-z][a-z-]+", plain))
        assert not words & drugs, e
        assert not [d for d in drugs if " " in d and re.search(rf"\b{re.escape(d)}\b", plain)], e


def test_lab_abbreviations_explain_rather_than_swap() -> None:
    abbreviations = [e for e in _entries(_PART) if e["category"] == "test" and e["term"].isupper()]
    expected = {"LDL", "HDL", "GGT", "TIBC", "MCV", "RDW", "ESR", "CRP", "BNP"}
    assert expected <= {e["term"] for e in abbreviations}
    assert not [e["term"] for e in abbreviations if e["swap"]]
    assert not [e for e in _entries(_PART) if e["category"] in {"drug", "drug_class"} and e["swap"]]


def test_no_term_is_repeated_here_or_in_another_glossary_file() -> None:
    mine = Counter(e["term"].lower() for e in _entries(_PART))
    assert [term for term, n in mine.items() if n > 1] == []
    for path in sorted(data_path("glossary.json").parent.glob("glossary*.json")):
        if path.name != _PART:
            theirs = {e["term"].lower() for e in json.loads(path.read_text(encoding="utf-8"))["entries"]}
            assert sorted(set(mine) & theirs) == [], path.name
