"""The drug lexicon's filters on a small dictionary in the package's own file format, and on the real one."""

from __future__ import annotations

import bz2
import json
import pickle
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from healthchat.adapters.local import drug_lexicon as dl
from healthchat.adapters.local.drug_lexicon import DrugTerm, StopList

DRUGBANK = {"drugbank_id": "DB00001"}
MEDLINE = {"medline_plus_id": "a600001"}


def _write_dictionary(path: Path, canon: dict[str, dict[str, Any]], variants: dict[str, list[str]]) -> Path:
    raw = {
        "drug_canonical_to_data": canon,
        "drug_variant_to_canonical": variants,
        "drug_variant_to_variant_data": {"coumadin": {"is_brand": True}},
    }
    path.write_bytes(bz2.compress(pickle.dumps(raw)))
    return path


@pytest.fixture()
def terms(tmp_path: Path) -> dict[str, DrugTerm]:
    canon = {
        "warfarin": {**DRUGBANK, "mesh_tree": ["D03.383.663"]},
        "kinase x": {"mesh_tree": ["D08.811.913"]},  # an enzyme, MeSH only
        "growth factor y": {"mesh_tree": ["D12.644.276.1", "D12.776.467.1"]},  # protein filed as peptide too
        "glutamic acid": {"mesh_tree": ["D12.125.427"]},  # amino acid
        "epoetin alfa": {**MEDLINE, "mesh_tree": ["D12.776.467.2"]},  # a protein MedlinePlus lists as a drug
        "statins": {"mesh_tree": ["D27.505.519"]},  # drug class
        "combo": {},  # no source data at all: kept
        "ferritins": {"mesh_tree": ["D12.776.556"]},
        "dihydrotachysterol": DRUGBANK,
        "ragweed extract": DRUGBANK,
    }
    variants = {
        "warfarin": ["warfarin"],
        "coumadin": ["warfarin"],
        "kinase x": ["kinase x"],
        "growth factor y": ["growth factor y"],
        "glutamate": ["glutamic acid"],
        "epoetin alfa": ["epoetin alfa"],
        "statins": ["statins"],
        "lopinavir/ritonavir": ["combo"],
        "receptors, serotonin": ["warfarin"],  # inverted MeSH heading
        "at 10": ["dihydrotachysterol"],  # a code, not prose
        "ferritin": ["ferritins"],
        "giant ragweed pollen": ["ragweed extract"],
        "ambiguous name": ["warfarin", "combo"],
    }
    data = _write_dictionary(tmp_path / "dict.pkl.bz2", canon, variants)
    stop = StopList(frozenset({"ferritin"}), frozenset({"pollen"}))
    return {t.phrase: t for t in dl.load_drug_terms(data, stop)}


def test_keeps_drugs_and_types_brands_with_their_generic(terms: dict[str, DrugTerm]) -> None:
    assert terms["warfarin"] == DrugTerm("warfarin", "GENERIC_NAME", None)
    assert terms["coumadin"] == DrugTerm("coumadin", "BRAND_NAME", "warfarin")
    assert terms["glutamate"] == DrugTerm("glutamate", "GENERIC_NAME", "glutamic acid")
    assert "epoetin alfa" in terms
    assert terms["lopinavir/ritonavir"].generic == "combo"


def test_drops_proteins_enzymes_classes_and_odd_spellings(terms: dict[str, DrugTerm]) -> None:
    for phrase in (
        "kinase x",
        "growth factor y",
        "statins",
        "receptors, serotonin",
        "at 10",
        "ambiguous name",
    ):
        assert phrase not in terms


def test_drops_stop_phrases_and_names_containing_stop_words(terms: dict[str, DrugTerm]) -> None:
    assert "ferritin" not in terms
    assert "giant ragweed pollen" not in terms


def test_terms_are_sorted_by_phrase(terms: dict[str, DrugTerm]) -> None:
    assert list(terms) == sorted(terms)


def test_default_stoplist_has_lab_tests_and_hand_lists() -> None:
    stop = dl.default_stoplist()
    # lab analytes from drug_stoplist.json and every name/alias of lab_tests.json
    assert {"ferritin", "glucose", "potassium", "creatinine", "cholesterol"} <= stop.phrases
    labs = json.loads((Path(dl.__file__).parents[2] / "data" / "lab_tests.json").read_text(encoding="utf-8"))
    assert dl._norm(labs["tests"][0]["name"]) in stop.phrases
    assert "pollen" in stop.words
    assert stop.digest() == dl.default_stoplist().digest()


def test_tsv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "drug_names.tsv"
    terms = (DrugTerm("coumadin", "BRAND_NAME", "warfarin"), DrugTerm("warfarin", "GENERIC_NAME"))
    dl.write_tsv(terms, path)
    assert dl.read_tsv(path.read_text(encoding="utf-8")) == terms


def test_shipped_dictionary_has_drugs_but_no_lab_analytes_or_words() -> None:
    phrases = {t.phrase: t for t in dl.drug_terms()}
    assert len(phrases) > 30000
    for drug in ("warfarin", "cocaine", "cyclophosphamide", "doxorubicin", "lamivudine", "coumadin"):
        assert drug in phrases
    assert phrases["coumadin"].generic == "warfarin"
    for word in ("ferritin", "cortisol", "bilirubin", "luminal", "all clear", "eye drops", "mrna"):
        assert word not in phrases
    assert all(len(p.replace(" ", "")) > 3 and "," not in p for p in phrases)


@pytest.mark.skipif(find_spec("drug_named_entity_recognition") is None, reason="package not installed")
def test_shipped_list_is_what_the_package_builds() -> None:
    assert dl.build_from_package() == dl.drug_terms()
