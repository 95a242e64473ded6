"""The extraction benchmark's scorer and PubTator reader (benchmarks/extraction/), on hand-computed cases."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "extraction"


def _load(name: str) -> ModuleType:
    """benchmarks/ is not a package: load its modules by path, under a private name."""
    spec = importlib.util.spec_from_file_location(f"_extraction_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


scorer = _load("scorer")
pubtator = _load("pubtator")
Span, LabRow = scorer.Span, scorer.LabRow


def test_exact_and_overlap_counts_per_category() -> None:
    # GIVEN 3 gold conditions and 1 gold drug
    # AND predictions: one exact, one overlapping, one false condition and the exact drug
    gold = [
        Span("d1", 0, 10, "COND"),
        Span("d1", 20, 30, "COND"),
        Span("d1", 40, 50, "COND"),
        Span("d1", 60, 65, "DRUG"),
    ]
    pred = [
        Span("d1", 0, 10, "COND"),
        Span("d1", 22, 35, "COND"),
        Span("d1", 70, 80, "COND"),
        Span("d1", 60, 65, "DRUG"),
    ]
    # WHEN scored
    scores = scorer.score_spans(gold, pred)
    # THEN COND exact: tp 1, fp 2, fn 2 -> P 1/3, R 1/3; overlap: tp 2, fp 1, fn 1 -> P = R = F1 = 2/3
    cond = scores["COND"]
    assert (cond.exact.tp, cond.exact.fp, cond.exact.fn) == (1, 2, 2)
    assert cond.exact.f1 == pytest.approx(1 / 3)
    assert (cond.overlap.tp, cond.overlap.fp, cond.overlap.fn) == (2, 1, 1)
    assert cond.overlap.f1 == pytest.approx(2 / 3)
    assert scores["DRUG"].exact.f1 == 1.0
    # AND ALL is the micro sum: exact tp 2, fp 2, fn 2 -> 0.5
    assert scores["ALL"].exact.precision == pytest.approx(0.5)
    assert (cond.gold, cond.predicted) == (3, 3)


def test_spans_match_only_within_the_same_document_and_category() -> None:
    # GIVEN identical offsets in another document, and in another category
    gold = [Span("d1", 0, 5, "COND")]
    pred = [Span("d2", 0, 5, "COND"), Span("d1", 0, 5, "DRUG")]
    # WHEN scored
    scores = scorer.score_spans(gold, pred)
    # THEN nothing matches
    assert scores["COND"].exact.tp == 0 and scores["COND"].overlap.tp == 0
    assert scores["ALL"].overlap.f1 == 0.0


def test_overlap_pairing_is_one_to_one() -> None:
    # GIVEN one long prediction covering two gold mentions ("lung and breast cancer" style)
    gold = [Span("d", 0, 4, "C"), Span("d", 9, 15, "C")]
    pred = [Span("d", 0, 15, "C")]
    # WHEN scored
    s = scorer.score_spans(gold, pred)["C"]
    # THEN one gold is found and one is missed: P 1/1, R 1/2
    assert (s.overlap.tp, s.overlap.fp, s.overlap.fn) == (1, 0, 1)
    assert s.overlap.recall == 0.5 and s.overlap.precision == 1.0


def test_empty_inputs_give_zero_not_an_error() -> None:
    assert scorer.Counts().f1 == 0.0
    assert scorer.score_spans([], [])["ALL"].exact.precision == 0.0


def test_per_type_recall_for_gold_types_and_precision_for_predicted_types() -> None:
    # GIVEN two gold types of one category and two predicted types
    gold = [Span("d", 0, 5, "C", "Specific"), Span("d", 10, 15, "C", "Modifier")]
    pred = [Span("d", 0, 5, "C", "DX_NAME"), Span("d", 20, 25, "C", "SYMPTOM")]
    # WHEN scored per type
    by_type = scorer.score_by_type(gold, pred)
    # THEN Specific recall 1, Modifier recall 0; DX_NAME precision 1, SYMPTOM precision 0
    assert by_type["gold:Specific"].exact.recall == 1.0
    assert by_type["gold:Modifier"].exact.recall == 0.0
    assert by_type["pred:DX_NAME"].exact.precision == 1.0
    assert by_type["pred:SYMPTOM"].exact.precision == 0.0


def test_negation_accuracy_counts_found_items_and_reports_missed_ones() -> None:
    # GIVEN 4 judged gold items (3 negated), one unjudged; predictions find 3 judged, 1 with the wrong flag
    gold = [
        Span("d", 0, 5, "C", negated=True),
        Span("d", 10, 15, "C", negated=True),
        Span("d", 20, 25, "C", negated=False),
        Span("d", 30, 35, "C", negated=True),
        Span("d", 40, 45, "C"),
    ]
    pred = [
        Span("d", 0, 5, "C", negated=True),
        Span("d", 11, 15, "C", negated=False),
        Span("d", 20, 25, "C", negated=False),
        Span("d", 40, 45, "C", negated=True),
    ]
    # WHEN scored
    acc = scorer.negation_accuracy(gold, pred)
    # THEN 2 of 3 found are right, 1 missed; the unjudged item is ignored
    assert (acc.correct, acc.total, acc.missed) == (2, 3, 1)
    assert acc.value == pytest.approx(2 / 3)


def test_attribute_accuracy_normalises_whitespace_and_case_and_maps_kinds() -> None:
    # GIVEN two gold meds with dose and frequency, one missed by the extractor
    gold = [
        Span("d", 0, 9, "MED", attributes=(("dose", "500 mg"), ("frequency", "BID"))),
        Span("d", 30, 40, "MED", attributes=(("dose", "10 mg"),)),
    ]
    pred = [Span("d", 0, 9, "MED", attributes=(("STRENGTH", "500  MG"), ("FREQUENCY", "daily")))]
    # WHEN scored
    out = scorer.attribute_accuracy(gold, pred)
    # THEN dose: STRENGTH "500  MG" equals "500 mg" (1/1, 1 missed); frequency "daily" != "BID" (0/1)
    assert (out["dose"].correct, out["dose"].total, out["dose"].missed) == (1, 1, 1)
    assert (out["frequency"].correct, out["frequency"].total) == (0, 1)


def _canon(name: str) -> str:
    return {"wbc": "white blood cell count"}.get(name.lower(), name.lower())


def test_lab_tuples_pair_by_canonical_name_and_score_all_four_fields() -> None:
    # GIVEN gold rows as printed and predictions with the interpreter's canonical names
    gold = [
        LabRow("WBC", "6.8", "K/uL", "4.0-11.0", "normal"),
        LabRow("Potassium", "5.4", "mmol/L", "3.5 - 5.1", "high"),
        LabRow("Glucose", "142", "mg/dL", "70-99", "high"),
    ]
    pred = [
        LabRow("White Blood Cell Count", "6.8", "K/uL", "4.0-11.0", "normal", 10),
        LabRow("Potassium", "5.4", "mmol/L", "3.5-5.1", "high", 50),
        LabRow("Glucose", "142", "mg/L", "70-99", "high", 90),
        LabRow("Sodium", "139", "mmol/L", "136-145", "normal", 120),
    ]
    # WHEN scored
    s = scorer.lab_tuple_accuracy(gold, pred, canonical_name=_canon)
    # THEN WBC pairs through the alias; the range "3.5-5.1" equals "3.5 - 5.1"; glucose's unit is wrong
    assert (s.rows, s.paired, s.unpaired_predictions) == (3, 3, 1)
    assert s.tuples_correct == 2 and s.tuple_accuracy == pytest.approx(2 / 3)
    assert s.fields == {"name": 3, "value": 3, "unit": 2, "range": 3, "flag": 3}


def test_lab_rows_with_an_unknown_name_pair_by_value_after_the_previous_pairing() -> None:
    # GIVEN an OCR-garbled name ("T5H") the interpreter could not normalise, and a 6.8 printed before
    # the previous paired row
    gold = [
        LabRow("Iron", "45", "ug/dL", "60-170"),
        LabRow("TSH", "6.8", "uIU/mL", "0.4-4.0"),
    ]
    pred = [
        LabRow("WBC", "6.8", "K/uL", "4.0-11.0", position=1),
        LabRow("Iron", "45", "ug/dL", "60-170", position=20),
        LabRow("T5H", "6.8", "uIU/mL", "0.4-4.0", position=40),
    ]
    # WHEN scored
    s = scorer.lab_tuple_accuracy(gold, pred)
    # THEN TSH pairs by value with T5H (the 6.8 after Iron), not with WBC; its name is wrong: 1 of 2 tuples
    assert (s.paired, s.unpaired_predictions, s.tuples_correct) == (2, 1, 1)
    assert s.fields["name"] == 1 and s.fields["value"] == 2 and s.fields["unit"] == 2


def test_a_missing_lab_row_counts_against_tuple_accuracy() -> None:
    gold = [LabRow("Iron", "45", "ug/dL", "60-170")]
    s = scorer.lab_tuple_accuracy(gold, [])
    assert (s.rows, s.paired, s.tuple_accuracy) == (1, 0, 0.0)


PUBTATOR = (
    "123|t|Aspirin and asthma.\n"
    "123|a|No  pain.\n"
    "123\t0\t7\tAspirin\tChemical\tD001241\n"
    "123\t12\t18\tasthma\tDisease\tD001249\n"
    "123\t20\t22\tNo  \tModifier\tD0\n"
    "123\tCID\tD001241\tD001249\n"
    "\n"
    "456|t|Gout.\n"
    "456|a|\n"
    "456\t0\t4\tGout\tSpecificDisease\tD006073\n"
)


def test_pubtator_reader_builds_text_and_spans_and_skips_relations() -> None:
    # GIVEN two documents, a CID relation line and a mention padded with spaces (an NCBI quirk)
    # WHEN parsed
    docs = pubtator.parse_pubtator(PUBTATOR.splitlines(keepends=True))
    # THEN offsets index title + " " + abstract and the relation line is not a mention
    assert [d.pmid for d in docs] == ["123", "456"]
    first = docs[0]
    assert first.text == "Aspirin and asthma. No  pain."
    assert [(m.begin, m.end, m.type) for m in first.mentions] == [
        (0, 7, "Chemical"),
        (12, 18, "Disease"),
        (20, 22, "Modifier"),
    ]
    assert [first.text[m.begin : m.end] for m in first.mentions] == ["Aspirin", "asthma", "No"]
    assert docs[1].text == "Gout. " and docs[1].mentions[0].type == "SpecificDisease"


def test_pubtator_reader_rejects_offsets_that_do_not_point_at_the_mention() -> None:
    bad = ["1|t|Aspirin.\n", "1|a|x\n", "1\t1\t7\tAspirin\tChemical\tD1\n"]
    with pytest.raises(ValueError, match="do not match"):
        pubtator.parse_pubtator(bad)


MTS = BENCH.parents[1].parent / "shared" / "data" / "mts_dialog" / "MTS-Dialog-ValidationSet.csv"


@pytest.mark.skipif(not MTS.exists(), reason="../shared/data is not beside the checkout")
def test_mts_negation_gold_points_at_its_mentions() -> None:
    # every labelled span still slices to its mention in the shared notes, and both labels occur
    import csv
    import json

    gold = json.loads((BENCH / "mts_negation_gold.json").read_text(encoding="utf-8"))
    with MTS.open(encoding="utf-8", newline="") as fh:
        notes = {row["ID"]: row["section_text"] for row in csv.DictReader(fh)}
    items = gold["items"]
    assert len(items) >= 80
    assert all(notes[g["id"]][g["begin"] : g["end"]] == g["mention"] for g in items)
    assert 0 < sum(g["negated"] for g in items) < len(items)
