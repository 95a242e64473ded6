"""The drugs part of the plain-language glossary: shape, plain-text rules and drug-name checks."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from healthchat.adapters.local.drug_lexicon import drug_terms
from healthchat.data_files import data_json, data_path

CATEGORIES = frozenset(
    {"condition", "symptom", "drug", "drug_class", "test", "procedure", "anatomy", "abbreviation"}
    | {"dosing", "general"}
)
DATA_DIR = data_path("glossary.json").parent


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    data = data_json("glossary_drugs.json")
    assert data["_about"] and data["reviewed"]
    return list(data["entries"])


@pytest.fixture(scope="module")
def drug_names() -> frozenset[str]:
    meds = data_json("medications.json")
    names = {t.phrase.lower() for t in drug_terms()}
    return frozenset(names | {g.lower() for g in meds["generic"]} | {b.lower() for b in meds["brand"]})


def test_entries_have_the_shared_shape(entries: list[dict[str, Any]]) -> None:
    assert len(entries) >= 300
    for e in entries:
        assert set(e) == {"term", "plain", "swap", "category"}, e
        assert e["category"] in CATEGORIES and e["category"] in {"drug", "drug_class"}, e
        assert e["swap"] is False, e
        assert not re.search(r"\d", e["plain"]), e
        assert len(e["plain"].split()) < 25, e


def test_no_term_is_in_two_glossary_files(entries: list[dict[str, Any]]) -> None:
    # glossary.json keeps case variants of one abbreviation ("PRN", "prn"), so only our terms are counted
    terms = Counter(
        e["term"].lower()
        for path in DATA_DIR.glob("glossary*.json")
        for e in json.loads(path.read_text(encoding="utf-8"))["entries"]
    )
    assert [e["term"] for e in entries if terms[e["term"].lower()] != 1] == []


def test_every_drug_term_is_a_known_drug_name(
    entries: list[dict[str, Any]], drug_names: frozenset[str]
) -> None:
    unknown = [e["term"] for e in entries if e["category"] == "drug" and e["term"].lower() not in drug_names]
    assert unknown == []


def test_plain_texts_name_no_drug(entries: list[dict[str, Any]], drug_names: frozenset[str]) -> None:
    found = []
    for e in entries:
        words = re.findall(r"[a-z][a-z'-]*", e["plain"].lower())
        grams = {" ".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)}
        found += [(e["term"], g) for g in grams & drug_names]
    assert found == []


def test_the_name_check_would_catch_a_drug(drug_names: frozenset[str]) -> None:
    # guards the two checks above against an empty or mis-cased name list
    assert {"metformin", "insulin glargine", "lisinopril"} <= drug_names
    assert "blood" not in drug_names and "water" not in drug_names
