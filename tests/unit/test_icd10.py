"""Icd10Linker: condition mentions -> ICD-10-CM codes, checked against the simple-icd-10-cm library's API."""

from __future__ import annotations

import json
import re
import time
import warnings
from importlib import resources
from pathlib import Path

import pytest

with warnings.catch_warnings():  # the library reads its data with deprecated importlib.resources calls
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as cm

from healthchat.adapters.local import icd10
from healthchat.adapters.local.icd10 import Icd10Linker, linker

CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


@pytest.fixture(scope="module")
def icd() -> Icd10Linker:
    return linker()


def _code(icd: Icd10Linker, mention: str) -> str | None:
    concepts = icd.link(mention)
    return str(concepts[0]["Code"]) if concepts else None


@pytest.mark.parametrize(
    ("mention", "code"),
    [
        ("hypertension", "I10"),
        ("type 2 diabetes", "E11.9"),
        ("Type 2 diabetes mellitus", "E11.9"),
        ("type II diabetes", "E11.9"),
        ("CHF", "I50.9"),
        ("GERD", "K21.9"),
        ("atrial fibrillation", "I48.91"),
        ("community-acquired pneumonia", "J18.9"),
        ("MI", "I21.9"),
        ("high cholesterol", "E78.00"),
        ("UTI", "N39.0"),
        ("UTIs", "N39.0"),
        ("asthma", "J45.909"),
        ("chest pain", "R07.9"),
        ("shortness of breath", "R06.02"),
        ("breast cancer", "C50.919"),
        ("hypothyroidism", "E03.9"),
        ("Hypothyroidism, unspecified", "E03.9"),
        ("HYPERTENSION", "I10"),
        ("heart failures", "I50.9"),
        ("Crohn's disease", "K50.90"),
        ("COVID-19", "U07.1"),
    ],
)
def test_common_mentions_link_to_the_generic_billable_code(icd: Icd10Linker, mention: str, code: str) -> None:
    assert _code(icd, mention) == code


def test_title_match_scores_09_and_synonym_match_08(icd: Icd10Linker) -> None:
    assert icd.link("Essential (primary) hypertension") == [
        {"Description": "Essential (primary) hypertension", "Code": "I10", "Score": 0.9}
    ]
    assert icd.link("GERD") == [
        {"Description": "Gastro-esophageal reflux disease without esophagitis", "Code": "K21.9", "Score": 0.8}
    ]


@pytest.mark.parametrize(
    "mention",
    [
        "patient",
        "",
        "   ",
        "unspecified",
        "NOS",
        "disease",
        "chronic",
        "heart",
        "left",
        "metformin",
        "Dr. Patel",
        "123",
        "pain pain",
        "qwzxv blorft",
        "mi",  # an abbreviation only in capitals
        "pin",  # "PIN" is prostatic intraepithelial neoplasia; "pin" is not
        "arrest",  # Z65.3 legal circumstances: chapter 21 is not linked from text
        "murder",  # Y09: external causes are not conditions
        "hepatitis",  # "Hepatitis NOS" is an inclusion term of two codes: ambiguous
        "fracture",  # needs a site and a 7th character
        "hypertension " * 40,
    ],
)
def test_not_confident_gives_no_code(icd: Icd10Linker, mention: str) -> None:
    assert icd.link(mention) == []


def test_pain_alone_gets_only_the_exact_title_pain_unspecified(icd: Icd10Linker) -> None:
    assert icd.link("pain") == [{"Description": "Pain, unspecified", "Code": "R52", "Score": 0.9}]


def test_abbreviation_inclusion_terms_match_capitals_only(icd: Icd10Linker) -> None:
    assert _code(icd, "TIA") == "G45.9"
    assert _code(icd, "tia") is None


@pytest.mark.parametrize(
    "mention", ["hypertension", "CHF", "breast cancer", "pain", "COVID-19", "Type 2 diabetes mellitus"]
)
def test_concepts_have_the_comprehend_medical_shape(icd: Icd10Linker, mention: str) -> None:
    concepts = icd.link(mention)
    assert 1 <= len(concepts) <= icd10.MAX_CONCEPTS
    scores = [c["Score"] for c in concepts]
    assert scores == sorted(scores, reverse=True)
    for c in concepts:
        assert set(c) == {"Description", "Code", "Score"}
        assert CODE_RE.match(c["Code"])
        assert isinstance(c["Score"], float) and 0.0 < c["Score"] <= 1.0
        assert cm.is_valid_item(c["Code"]) and cm.is_leaf(c["Code"])
        assert c["Description"] == cm.get_description(c["Code"])


def _synonym_table() -> dict[str, str]:
    text = resources.files("healthchat").joinpath("data", "icd10_synonyms.json").read_text(encoding="utf-8")
    table: dict[str, str] = json.loads(text)["synonyms"]
    return table


@pytest.mark.parametrize(("mention", "code"), sorted(_synonym_table().items()))
def test_every_synonym_code_is_a_valid_billable_code_and_links(
    icd: Icd10Linker, mention: str, code: str
) -> None:
    assert cm.is_valid_item(code), code
    assert cm.is_leaf(code), f"{code} is a category, not a billable code"
    assert icd.title(code) == cm.get_description(code)
    # The table never contradicts an exact title match: the mention's best code is the table's code.
    assert _code(icd, mention) == code


def test_every_indexed_code_is_a_billable_leaf_with_the_library_title(icd: Icd10Linker) -> None:
    assert len(icd) > 20_000
    bad = [
        code
        for code in icd._titles
        if not (cm.is_valid_item(code) and cm.is_leaf(code) and cm.get_description(code) == icd.title(code))
    ]
    assert bad == []


def test_linker_is_built_once_and_lookups_are_fast(icd: Icd10Linker) -> None:
    assert linker() is icd
    mentions = ["hypertension", "CHF", "type 2 diabetes", "shortness of breath", "qwzxv"] * 200
    start = time.perf_counter()
    for m in mentions:
        icd.link(m)
    assert (time.perf_counter() - start) / len(mentions) < 0.002


TINY_TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <chapter><name>9</name><desc>Circulatory</desc><section id="I10-I16">
    <diag><name>I10</name><desc>Essential (primary) hypertension</desc>
      <includes><note>high blood pressure</note></includes></diag>
    <diag><name>I50</name><desc>Heart failure</desc>
      <diag><name>I50.9</name><desc>Heart failure, unspecified</desc>
        <inclusionTerm><note>Congestive heart failure NOS</note><note>Shared term</note></inclusionTerm>
      </diag>
      <diag><name>I50.8</name><desc>Other heart failure</desc>
        <inclusionTerm><note>Shared term</note></inclusionTerm></diag>
    </diag>
    <diag><name>I39</name><desc>Endocarditis in diseases classified elsewhere</desc></diag>
  </section></chapter>
  <chapter><name>19</name><desc>Injury</desc><section id="S72">
    <diag><name>S72</name><desc>Fracture of femur</desc>
      <sevenChrDef><extension char="A">initial encounter</extension></sevenChrDef>
      <diag><name>S72.9</name><desc>Unspecified fracture of femur</desc></diag>
    </diag>
  </section></chapter>
  <chapter><name>20</name><desc>External causes</desc><section id="Y09">
    <diag><name>Y09</name><desc>Assault by unspecified means</desc>
      <inclusionTerm><note>Homicide NOS</note></inclusionTerm></diag>
  </section></chapter>
</ICD10CM.tabular>
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Icd10Linker:
    path: Path = tmp_path_factory.mktemp("icd") / "tabular.xml"
    path.write_text(TINY_TABULAR, encoding="utf-8")
    return Icd10Linker(xml_path=path, synonyms={"CHF": "I50.9", "femur fracture": "S72.9"})


def test_index_rules_on_a_small_tabular_list(tiny: Icd10Linker) -> None:
    assert _code(tiny, "essential hypertension") == "I10"
    assert _code(tiny, "High blood pressure") == "I10"
    assert _code(tiny, "congestive heart failure") == "I50.9"
    assert _code(tiny, "CHF") == "I50.9"
    assert tiny.link("shared term") == []  # two codes, same wording
    assert tiny.link("heart failure") == [
        {"Description": "Heart failure, unspecified", "Code": "I50.9", "Score": 0.9}
    ]  # the category I50 is not billable: its leaf "unspecified" answers
    assert tiny.link("endocarditis") == []  # manifestation code
    assert tiny.link("fracture of femur") == []  # needs a 7th character
    assert tiny.link("femur fracture") == []  # a synonym to a code outside the index is dropped
    assert tiny.link("homicide") == []  # chapter 20


def test_missing_data_package_is_a_clear_error() -> None:
    with pytest.raises(icd10.Icd10DataMissing, match="simple-icd-10-cm"):
        icd10._tabular_xml("no_such_icd_package")
