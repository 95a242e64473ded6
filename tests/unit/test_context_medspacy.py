"""ContextAnnotator (medspaCy ConText + Sectionizer): Comprehend Medical traits and sections for spans."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from healthchat.adapters.local import context_medspacy
from healthchat.adapters.local.context_medspacy import ContextAnnotator, ContextResult, annotator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks" / "extraction"))
import make_samples  # noqa: E402

from note_gold import note_gold  # noqa: E402

CONDITION, MEDICATION = "MEDICAL_CONDITION", "MEDICATION"


@pytest.fixture(scope="module")
def ann() -> ContextAnnotator:
    return annotator()


def span(text: str, term: str, category: str = CONDITION, occurrence: int = 0) -> tuple[int, int, str]:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(term, at + 1)
    return (at, at + len(term), category)


def one(ann: ContextAnnotator, text: str, term: str, category: str = CONDITION) -> ContextResult:
    return ann.annotate(text, [span(text, term, category)])[0]


@pytest.mark.parametrize(
    ("text", "term", "category", "traits", "section"),
    [
        ("denies chest pain", "chest pain", CONDITION, {"NEGATION"}, None),
        ("no fever or chills", "fever", CONDITION, {"NEGATION"}, None),
        ("no fever or chills", "chills", CONDITION, {"NEGATION"}, None),
        ("rule out pneumonia", "pneumonia", CONDITION, {"HYPOTHETICAL"}, None),
        ("r/o pneumonia", "pneumonia", CONDITION, {"HYPOTHETICAL"}, None),
        ("mother had breast cancer", "breast cancer", CONDITION, {"PERTAINS_TO_FAMILY"}, None),
        ("history of MI", "MI", CONDITION, {"PAST_HISTORY"}, None),
        ("possible pneumonia", "pneumonia", CONDITION, {"LOW_CONFIDENCE"}, None),
        ("chest pain resolved", "chest pain", CONDITION, {"NEGATION"}, None),
        ("Allergies: penicillin", "penicillin", MEDICATION, {"NEGATION"}, "allergies"),
        ("Family History: diabetes", "diabetes", CONDITION, {"PERTAINS_TO_FAMILY"}, "family_history"),
        ("Past Medical History: asthma", "asthma", CONDITION, {"PAST_HISTORY"}, "past_history"),
        ("She is allergic to penicillin.", "penicillin", MEDICATION, {"NEGATION"}, None),
        ("Review of Systems: no fever", "fever", CONDITION, {"NEGATION"}, "ros"),
        ("Fever: no\nCough: yes", "Fever", CONDITION, {"NEGATION"}, None),
        ("Return if you develop a fever.", "fever", CONDITION, {"HYPOTHETICAL"}, None),
        ("Go to the emergency\ndepartment for chest pain.", "chest pain", CONDITION, {"HYPOTHETICAL"}, None),
        ("Go to the ER for trouble breathing.", "trouble breathing", CONDITION, {"HYPOTHETICAL"}, None),
        ("Call 911 for fainting or chest pain.", "chest pain", CONDITION, {"HYPOTHETICAL"}, None),
        ("Seek medical care for a high fever.", "fever", CONDITION, {"HYPOTHETICAL"}, None),
        ("Watch for bleeding.", "bleeding", CONDITION, {"HYPOTHETICAL"}, None),
        ("Seen in the emergency department for chest pain.", "chest pain", CONDITION, set(), None),
        ("She has a cough.", "cough", CONDITION, set(), None),
    ],
)
def test_single_cue(
    ann: ContextAnnotator, text: str, term: str, category: str, traits: set[str], section: str | None
) -> None:
    assert one(ann, text, term, category) == ContextResult(frozenset(traits), section)


def test_but_ends_the_negation(ann: ContextAnnotator) -> None:
    text = "no chest pain but has a cough"
    pain, cough = ann.annotate(text, [span(text, "chest pain"), span(text, "cough")])
    assert pain.traits == {"NEGATION"}
    assert cough.traits == frozenset()


def test_allergy_cue_negates_only_drugs_and_stops_at_taking(ann: ContextAnnotator) -> None:
    text = "Allergic to penicillin causing rash and takes aspirin daily."
    pen, rash, asa = ann.annotate(
        text, [span(text, "penicillin", MEDICATION), span(text, "rash"), span(text, "aspirin", MEDICATION)]
    )
    assert pen.traits == {"NEGATION"}
    assert rash.traits == frozenset()  # the reaction is not negated
    assert asa.traits == frozenset()


def test_allergies_section_negates_drugs_not_reactions(ann: ContextAnnotator) -> None:
    text = "ALLERGIES:\nPenicillin (hives).\n\nMEDICATIONS:\naspirin 81 mg daily"
    pen, hives, asa = ann.annotate(
        text, [span(text, "Penicillin", MEDICATION), span(text, "hives"), span(text, "aspirin", MEDICATION)]
    )
    assert pen == ContextResult(frozenset({"NEGATION"}), "allergies")
    assert hives == ContextResult(frozenset(), "allergies")
    assert asa == ContextResult(frozenset(), "medications")


NOTE = """HISTORY OF PRESENT ILLNESS:
Seen for cough. She denies chest pain, palpitations
or fainting. Possible pneumonia.

ROS:
- no fever
- wheezing present

FAMILY HISTORY:
Father had a stroke.

She reports headaches.

ASSESSMENT AND PLAN:
1. Pneumonia, rule out sepsis.
2. Start amoxicillin.

Plan:

1. Recheck asthma in 2 weeks.
"""


def test_multiline_note_sections_and_sentence_breaks(ann: ContextAnnotator) -> None:
    terms = [
        ("cough", CONDITION, 0, set(), "hpi"),
        ("chest pain", CONDITION, 0, {"NEGATION"}, "hpi"),
        ("fainting", CONDITION, 0, {"NEGATION"}, "hpi"),  # the sentence goes on over a wrapped line
        ("pneumonia", CONDITION, 0, {"LOW_CONFIDENCE"}, "hpi"),
        ("fever", CONDITION, 0, {"NEGATION"}, "ros"),
        ("wheezing", CONDITION, 0, set(), "ros"),  # a list item is a new sentence
        ("stroke", CONDITION, 0, {"PERTAINS_TO_FAMILY"}, "family_history"),
        ("headaches", CONDITION, 0, set(), None),  # the section ended at the blank line
        ("Pneumonia", CONDITION, 0, set(), "assessment"),
        ("sepsis", CONDITION, 0, {"HYPOTHETICAL"}, "assessment"),
        ("amoxicillin", MEDICATION, 0, set(), "assessment"),
        ("asthma", CONDITION, 0, set(), "plan"),  # "Plan:" then a blank line owns the block after it
    ]
    spans = [span(NOTE, t, c, k) for t, c, k, _, _ in terms]
    got = ann.annotate(NOTE, spans)
    expected = [ContextResult(frozenset(traits), sec) for _, _, _, traits, sec in terms]
    assert got == expected


def test_overlapping_and_repeated_spans_are_each_annotated(ann: ContextAnnotator) -> None:
    text = "No type 2 diabetes mellitus. Has diabetes insipidus."
    spans = [
        span(text, "type 2 diabetes mellitus"),
        span(text, "diabetes mellitus"),
        span(text, "type 2 diabetes mellitus"),
        span(text, "type 2 diabetes mellitus", MEDICATION),
        span(text, "diabetes insipidus"),
    ]
    got = ann.annotate(text, spans)
    assert [r.traits for r in got] == [frozenset({"NEGATION"})] * 4 + [frozenset()]


def test_offsets_inside_a_token_expand_to_it(ann: ContextAnnotator) -> None:
    text = "denies chest pain"
    assert ann.annotate(text, [(9, 12, CONDITION)])[0].traits == {"NEGATION"}


def test_results_follow_input_order(ann: ContextAnnotator) -> None:
    text = "Fever. No cough."
    cough, fever = ann.annotate(text, [span(text, "cough"), span(text, "Fever")])
    assert cough.traits == {"NEGATION"}
    assert fever.traits == frozenset()


def test_no_spans_and_bad_spans(ann: ContextAnnotator) -> None:
    assert ann.annotate("no fever", []) == []
    for bad in [(3, 3, CONDITION), (-1, 2, CONDITION), (0, 99, CONDITION), (5, 2, CONDITION)]:
        with pytest.raises(ValueError, match="outside the text"):
            ann.annotate("no fever", [bad])


def test_whitespace_only_span_gets_no_context_but_keeps_its_section(ann: ContextAnnotator) -> None:
    text = "No fever.\n\n\nAllergies:\n\n\npenicillin"
    gap, allergy_gap = ann.annotate(
        text, [(9, 12, CONDITION), (text.index(":") + 1, text.index("p"), MEDICATION)]
    )
    assert gap == ContextResult(frozenset(), None)
    assert allergy_gap == ContextResult(frozenset({"NEGATION"}), "allergies")


def test_sample_note_negation_matches_the_gold(ann: ContextAnnotator) -> None:
    text = make_samples.doctor_note()
    conditions, meds = note_gold(text)
    gold = [g for g in conditions + meds if g.negated is not None]
    got = ann.annotate(text, [(g.begin, g.end, g.category) for g in gold])
    wrong = [
        text[g.begin : g.end] for g, r in zip(gold, got, strict=True) if ("NEGATION" in r.traits) != g.negated
    ]
    assert len(gold) >= 40
    assert wrong == []


def test_sample_note_family_and_past_history(ann: ContextAnnotator) -> None:
    text = make_samples.doctor_note()
    got = ann.annotate(
        text, [span(text, "breast cancer"), span(text, "colon cancer"), span(text, "Iron deficiency anemia")]
    )
    assert got[0] == ContextResult(frozenset({"PERTAINS_TO_FAMILY"}), "family_history")
    assert got[1] == ContextResult(frozenset({"NEGATION", "PERTAINS_TO_FAMILY"}), "family_history")
    assert got[2] == ContextResult(frozenset({"PAST_HISTORY"}), "past_history")


def test_sample_note_instruction_is_hypothetical_and_the_denial_negated(ann: ContextAnnotator) -> None:
    text = make_samples.doctor_note()
    spans = [span(text, "chest pain"), span(text, "chest pain", occurrence=1)]
    denied, instructed = ann.annotate(text, spans)
    assert denied.traits == {"NEGATION"}
    assert instructed == ContextResult(frozenset({"HYPOTHETICAL"}), "follow_up")


def test_long_text_in_pieces_equals_each_note_alone(
    ann: ContextAnnotator, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = make_samples.doctor_note()
    terms = [
        "chest pain",
        "fainting",
        "breast cancer",
        "colon cancer",
        "Penicillin",
        "metformin",
        "fatty liver",
    ]
    alone = ann.annotate(note, [span(note, t) for t in terms])
    copies = 12
    text = "\n\n".join([note] * copies)
    step = len(note) + 2
    spans = [
        (b + i * step, e + i * step, c) for i in range(copies) for b, e, c in (span(note, t) for t in terms)
    ]
    assert len(context_medspacy._pieces(text)) > copies  # really cut into pieces
    assert ann.annotate(text, spans) == alone * copies
    monkeypatch.setattr(context_medspacy, "CHUNK_CHARS", 10**9)  # one Doc: the same answer
    assert ann.annotate(text, spans) == alone * copies


def test_pieces_cover_the_text_and_cut_at_sentence_ends() -> None:
    text = ("Short sentence number one. " * 200) + "\n\n" + ("word " * 1000)
    pieces = context_medspacy._pieces(text)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(e - b <= context_medspacy.CHUNK_CHARS for b, e in pieces)
    for _, end in pieces[:-1]:
        assert text[end - 1].isspace()  # never inside a word


def test_annotator_is_built_once() -> None:
    assert annotator() is annotator()


def test_loading_the_rules_does_not_import_torch_and_torch_stays_importable() -> None:
    import subprocess
    import sys

    code = (
        "import importlib.util, sys\n"
        "from healthchat.adapters.local.context_medspacy import _build_pipeline\n"
        "_build_pipeline()\n"
        "print('torch' in sys.modules)\n"
        "if importlib.util.find_spec('torch') is not None:\n"
        "    import torch\n"
        "    print(torch.tensor([1, 2]).sum().item())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = proc.stdout.split()
    assert lines[0] == "False"  # spaCy came up without torch
    assert lines[1:] in ([], ["3"])  # and torch, when installed, still imports and works afterwards
