"""clinical_terms.json: the extractor's curated lexicons are well-formed, big enough, and each phrase is
typed once (the extractor keys phrases by their lower-cased tokens, so a phrase in two lists would get
whichever list happened to load first)."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from healthchat.adapters.local.drug_lexicon import drug_terms

_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")  # the extractor's tokenizer
_TRAITS = {"DIAGNOSIS", "SYMPTOM", "SIGN"}


def _load(name: str) -> Any:
    return json.loads(resources.files("healthchat").joinpath("data", name).read_text(encoding="utf-8"))


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in _TOKEN_RE.findall(phrase))


@pytest.fixture(scope="module")
def terms() -> dict[str, Any]:
    data: dict[str, Any] = _load("clinical_terms.json")
    return data


@pytest.fixture(scope="module")
def lists(terms: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "conditions": [c["term"] for c in terms["conditions"]],
        "procedures": terms["procedures"],
        "treatments": terms["treatments"],
        "anatomy": terms["anatomy"],
    }


def test_keys_and_minimum_sizes(terms: dict[str, Any]) -> None:
    assert set(terms) == {"_about", "conditions", "procedures", "treatments", "anatomy"}
    assert len(terms["procedures"]) >= 150
    assert len(terms["treatments"]) >= 60
    assert len(terms["conditions"]) >= 200
    assert len(terms["anatomy"]) >= 50


def test_every_entry_is_a_clean_non_empty_string(lists: dict[str, list[str]], terms: dict[str, Any]) -> None:
    for name, entries in lists.items():
        for e in entries:
            assert isinstance(e, str), (name, e)
            assert e == e.strip() and "  " not in e and _key(e), (name, e)
    assert all(set(c) == {"term", "trait"} and c["trait"] in _TRAITS for c in terms["conditions"])


def test_no_phrase_is_listed_twice_within_or_across_lists(lists: dict[str, list[str]]) -> None:
    owner: dict[tuple[str, ...], str] = {}
    clashes = []
    for name, entries in lists.items():
        for e in entries:
            k = _key(e)
            if k in owner:
                clashes.append((owner[k], name, e))
            owner[k] = name
    assert clashes == []


def test_procedures_and_treatments_do_not_overlap_conditions(lists: dict[str, list[str]]) -> None:
    conditions = {_key(c) for c in lists["conditions"]}
    assert [p for p in lists["procedures"] + lists["treatments"] if _key(p) in conditions] == []


def test_procedures_and_treatments_are_not_medication_names(lists: dict[str, list[str]]) -> None:
    # a phrase the drug lexicons also hold is typed MEDICATION by the extractor: listing it here does nothing
    meds = _load("medications.json")
    names = {_key(m) for kind in ("generic", "brand", "abbreviation") for m in meds[kind]}
    names |= {_key(d.phrase) for d in drug_terms()}
    assert [p for p in lists["procedures"] + lists["treatments"] if _key(p) in names] == []


def test_common_interventions_are_listed_in_the_right_list(lists: dict[str, list[str]]) -> None:
    procedures, treatments = set(lists["procedures"]), set(lists["treatments"])
    assert {
        "colonoscopy",
        "echocardiogram",
        "MRI",
        "CT scan",
        "chest x-ray",
        "EKG",
        "ECG",
        "biopsy",
    } <= procedures
    assert {"appendectomy", "CABG", "PCI", "cardiac catheterization", "mammogram", "Pap smear"} <= procedures
    assert {
        "physical therapy",
        "dialysis",
        "chemotherapy",
        "radiation therapy",
        "oxygen therapy",
    } <= treatments
    assert {
        "CPAP",
        "cognitive behavioral therapy",
        "insulin therapy",
        "blood transfusion",
        "IV fluids",
    } <= treatments
    assert "wound care" in treatments


def test_abbreviations_are_all_caps_and_unambiguous(lists: dict[str, list[str]]) -> None:
    # the extractor matches an all-caps entry only as written ("PET" never fires on "pet"); abbreviations
    # that mean something else in notes stay out: PT (patient, prothrombin time), HD (hospital day),
    # OT, IVF (IV fluids or in vitro fertilisation), ART, ICD (defibrillator or the code set)
    entries = set(lists["procedures"] + lists["treatments"])
    caps = {p for p in entries if p.isupper()}
    assert {"PCI", "PET", "ECT", "CBT", "TPN", "EEG", "CPAP", "CABG", "EGD"} <= caps
    assert not {"PT", "HD", "OT", "IVF", "ART", "ICD"} & entries
