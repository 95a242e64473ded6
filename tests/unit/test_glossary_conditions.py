"""glossary_conditions.json: shape, plain-text rules, no drug names, no term shared with another part."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from healthchat.adapters.local.drug_lexicon import drug_terms
from healthchat.adapters.local.glossary_data import glossary_files
from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier
from healthchat.data_files import data_json
from healthchat.domain.models import Summary, SummarySentence


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    data = data_json("glossary_conditions.json")
    assert data["_about"] and "self-review" in data["reviewed"]
    return list(data["entries"])


@pytest.fixture(scope="module")
def drug_names() -> frozenset[str]:
    meds = data_json("medications.json")
    names = {t.phrase.lower() for t in drug_terms()} | {g.lower() for g in meds["generic"]}
    return frozenset(names | {b.lower() for b in meds["brand"]})


def test_entries_have_the_shared_shape_and_plain_rules(entries: list[dict[str, Any]]) -> None:
    assert len(entries) >= 320
    for e in entries:
        assert set(e) == {"term", "plain", "swap", "category"}, e
        assert e["category"] in {"condition", "symptom"} and isinstance(e["swap"], bool), e
        assert e["plain"] and not re.search(r"\d", e["plain"]), e
        assert len(e["plain"].split()) < 25, e
        assert e["term"] == e["term"].strip() and e["term"].lower() != e["plain"].lower(), e


def test_no_term_is_in_two_glossary_files(entries: list[dict[str, Any]]) -> None:
    # glossary.json keeps case variants of one abbreviation ("PRN", "prn"), so only our terms are counted
    terms = Counter(e["term"].lower() for name in glossary_files() for e in data_json(name)["entries"])
    assert [e["term"] for e in entries if terms[e["term"].lower()] != 1] == []


def test_plain_texts_name_no_drug(entries: list[dict[str, Any]], drug_names: frozenset[str]) -> None:
    assert {"metformin", "insulin glargine", "heparin"} <= drug_names  # the check below can fire
    found = []
    for e in entries:
        words = re.findall(r"[a-z][a-z'-]*", e["plain"].lower())
        grams = {" ".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)}
        found += [(e["term"], g) for g in grams & drug_names]
    assert found == []


def test_swaps_read_inline_in_a_report_sentence() -> None:
    text = "Chest X-ray shows a small pleural effusion and no pneumothorax; she reports palpitations."
    summary = Summary(text=text, sentences=[SummarySentence(text=text)])
    plain = GlossarySimplifier().simplify(summary, text)
    assert "a small fluid buildup around the lung and no collapsed lung" in plain.text
    assert "reports racing or pounding heartbeat" in plain.text
    assert {"pleural effusion", "pneumothorax", "palpitations"} <= {g.term for g in plain.glossary}
