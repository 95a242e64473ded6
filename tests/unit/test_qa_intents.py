"""Question kinds found in the new-user walkthrough (2026-11-29): medication changes, plan and follow-up,
flagged results, organ lab groups, KB entries only about the question's focus, typical ranges, questions
the library cannot answer, repeated list items in NIH passages, and the empty question of `healthchat ask`.

The note and the knowledge base are made up here (no real patient; the MedQuAD-style XML is written by
the test), so every expectation is visible in this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_qa_service import qa_services
from typer.testing import CliRunner

from healthchat.domain.lab_ranges import typical_table
from healthchat.domain.models import (
    DocumentResult,
    LabResult,
    Medication,
    ReferenceRange,
    SourceInfo,
    Status,
)
from healthchat.qa.extractive import compose, dedupe_passage, lab_verdict
from healthchat.qa.intents import (
    DONT_CHANGE_MEDICINE_LINE,
    NO_LIBRARY_ANSWER,
    asks_flagged_results,
    asks_medication_change,
    group_labs,
    routed_sections,
)
from healthchat.qa.kb import build_kb, load_kb
from healthchat.qa.models import Answer, Citation
from healthchat.qa.passages import kb_citations
from healthchat.qa.service import answer_document_question, answer_general_question
from healthchat.wiring import Services

DOC_ID = "01J0000000000000000000QA02"
NOTE = """CLINIC NOTE
MEDICATIONS:
1. metformin 500 mg PO BID with meals
2. lisinopril 10 mg daily
3. aspirin 81 mg PO daily
RESULTS:
TSH  6.8  H  uIU/mL  0.4-4.0
Free T4  0.9  ng/dL  0.8-1.8
Creatinine  0.9  mg/dL  0.6-1.1
LDL Cholesterol  155  H  mg/dL  <100
ASSESSMENT AND PLAN:
1. Type 2 diabetes, not at goal. Increase metformin to 1000 mg PO BID.
2. Hypertension. Increase lisinopril to 20 mg daily. Recheck potassium in one week.
FOLLOW-UP:
Return in 4 weeks for a blood pressure check. Repeat lipid panel in 3 months.
"""

# Made-up MedQuAD-style entries: (file, focus, url, [(qtype, question, answer)])
KB_DOCS = [
    (
        "isaacs.xml",
        "Isaacs' Syndrome",
        "https://www.ninds.nih.gov/isaacs",
        [
            (
                "causes",
                "What causes Isaacs' Syndrome?",
                "Isaacs' syndrome is caused by antibodies that bind to potassium channels on nerves.",
            )
        ],
    ),
    (
        "glioma.xml",
        "Childhood Brain Stem Glioma",
        "https://www.cancer.gov/glioma",
        [
            (
                "information",
                "What is (are) Childhood Brain Stem Glioma?",
                "Brain tumors may be benign or malignant. Brain stem glioma is a brain tumor of children.",
            )
        ],
    ),
    (
        "tumors.xml",
        "Brain and Spinal Tumors",
        "https://www.ninds.nih.gov/tumors",
        [
            (
                "treatment",
                "What are the treatments for Brain and Spinal Tumors?",
                "The three most common treatments for brain tumors are surgery, radiation and chemotherapy.",
            )
        ],
    ),
    (
        "parkinson.xml",
        "Parkinson's Disease",
        "https://nihseniorhealth.gov/parkinson",
        [
            (
                "symptoms",
                "What are the symptoms of Parkinson's Disease?",
                "The main symptoms of Parkinson's disease are: - tremor, or trembling in hands - rigidity, "
                "or stiffness of the limbs. tremor, or trembling in hands rigidity, "
                "or stiffness of the limbs. Other symptoms include depression.",
            )
        ],
    ),
    (
        "colorectal.xml",
        "Colorectal Cancer",
        "https://www.cancer.gov/colorectal",
        [
            (
                "prevention",
                "How to prevent Colorectal Cancer?",
                "Studies have shown that taking aspirin lowers the risk of colorectal cancer.",
            )
        ],
    ),
]


def _write_medquad(folder: Path) -> Path:
    for name, focus, url, pairs in KB_DOCS:
        qa = "".join(
            f'<QAPair pid="{n}"><Question qid="{name}-{n}" qtype="{qtype}">{q}</Question>'
            f"<Answer>{a}</Answer></QAPair>"
            for n, (qtype, q, a) in enumerate(pairs, 1)
        )
        xml = (
            f'<?xml version="1.0"?><Document id="{name}" source="NINDS" url="{url}">'
            f"<Focus>{focus}</Focus><QAPairs>{qa}</QAPairs></Document>"
        )
        (folder / name).write_text(xml.replace("'", "&apos;"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = _write_medquad(tmp_path_factory.mktemp("medquad"))
    out = tmp_path_factory.mktemp("kb")
    build_kb(src, out, embeddings=None)
    return out


@pytest.fixture
def svc(tmp_path: Path, kb_dir: Path) -> Services:
    return qa_services(tmp_path, kb_dir, NOTE, DOC_ID)


def _line(start: str) -> tuple[int, int]:
    begin = NOTE.index(start)
    return begin, NOTE.index("\n", begin)


def _lab(name: str, value: str, unit: str, rng: str, flag: str) -> LabResult:
    b, e = _line(f"{name}  {value}")
    return LabResult(
        name=name,
        value=value,
        unit=unit,
        reference_range=ReferenceRange(text=rng, source="report"),
        flag=flag,
        begin_offset=b,
        end_offset=e,
    )


def _result() -> DocumentResult:
    meds = [
        Medication(name=n, begin_offset=_line(f"{i}. {n}")[0], end_offset=_line(f"{i}. {n}")[1])
        for i, n in enumerate(("metformin", "lisinopril", "aspirin"), 1)
    ]
    return DocumentResult(
        document_id=DOC_ID,
        owner_id="local-user",
        status=Status.SUCCEEDED,
        source=SourceInfo(filename="note.txt"),
        labs=[
            _lab("TSH", "6.8", "uIU/mL", "0.4-4.0", "high"),
            _lab("Free T4", "0.9", "ng/dL", "0.8-1.8", "normal"),
            _lab("Creatinine", "0.9", "mg/dL", "0.6-1.1", "normal"),
            _lab("LDL Cholesterol", "155", "mg/dL", "<100", "high"),
        ],
        medications=meds,
    )


def _doc_quotes(answer: Answer) -> list[str]:
    for c in answer.citations:
        if c.document_id:
            assert NOTE[c.begin_offset : c.end_offset] == c.text
    return [c.text for c in answer.citations if c.document_id]


# ---- item 1: medication changes ------------------------------------------------------------------------


def test_medication_change_question_cites_each_change_sentence(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Did the doctor change any of my medication doses?")
    quotes = _doc_quotes(answer)
    assert "Increase metformin to 1000 mg PO BID." in quotes
    assert "Increase lisinopril to 20 mg daily." in quotes
    # the changes lead the answer, before the list of current doses
    assert answer.answer.index("1000 mg") < answer.answer.index("500 mg")


def test_a_change_question_needs_a_medicine_or_a_change_word() -> None:
    meds = _result().medications
    assert asks_medication_change("Was my metformin increased?", meds)
    assert not asks_medication_change("What is metformin?", meds)
    assert not asks_medication_change("Did my cholesterol change?", meds)


# ---- item 2: plan, follow-up, flagged results ------------------------------------------------------------


def test_what_should_i_do_next_quotes_the_plan_and_follow_up(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What should I do next?")
    quotes = _doc_quotes(answer)
    assert answer.kind == "answered"
    assert "Increase metformin to 1000 mg PO BID." in quotes
    assert "Return in 4 weeks for a blood pressure check." in quotes


def test_next_appointment_quotes_the_follow_up_section_first(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "When is my next appointment?")
    assert _doc_quotes(answer)[0] == "Return in 4 weeks for a blood pressure check."


def test_routing_uses_the_section_headers_of_the_document() -> None:
    sections = ["MEDICATIONS", "ASSESSMENT AND PLAN", "FOLLOW-UP"]
    assert routed_sections("What are the next steps?", sections) == ["ASSESSMENT AND PLAN", "FOLLOW-UP"]
    assert routed_sections("When is my follow-up?", sections) == ["FOLLOW-UP"]
    assert routed_sections("What is my TSH?", sections) == []


def test_abnormal_results_question_lists_every_flagged_lab_only(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Which of my results are abnormal?")
    assert answer.answer.startswith("These results are flagged outside the range")
    assert "TSH: 6.8" in answer.answer and "LDL Cholesterol: 155" in answer.answer
    assert "Free T4" not in answer.answer and "Creatinine" not in answer.answer
    assert asks_flagged_results("Are any of my labs out of range?")
    assert not asks_flagged_results("What is an abnormal heart rhythm?")


# ---- item 3: organ words and the yes/no verdict ----------------------------------------------------------


def test_thyroid_question_looks_at_every_thyroid_lab(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Is my thyroid normal?")
    assert answer.answer.startswith("No: TSH is high")
    assert "Free T4: 0.9" in answer.answer


def test_organ_words_map_to_lab_groups() -> None:
    labs = _result().labs
    assert [lab.name for lab in group_labs("Is my thyroid ok?", labs)] == ["TSH", "Free T4"]
    assert [lab.name for lab in group_labs("How are my kidneys?", labs)] == ["Creatinine"]
    assert [lab.name for lab in group_labs("What about my lipids?", labs)] == ["LDL Cholesterol"]
    assert group_labs("How is my liver?", labs) == []


def test_normal_verdict_is_yes_only_when_every_lab_is_normal() -> None:
    labs = _result().labs
    assert (
        lab_verdict("Is it normal?", labs[1:3]) == "Yes: Free T4 and Creatinine are normal in this document."
    )
    assert (
        lab_verdict("Is it normal?", labs) == "No: TSH is high and LDL Cholesterol is high in this document."
    )


# ---- item 4: KB entries about the question's focus; the medicine caution line -----------------------------


def test_kb_entry_that_only_mentions_the_focus_is_not_cited(kb_dir: Path) -> None:
    kb = load_kb(str(kb_dir), None)
    # the Isaacs' syndrome passage names potassium channels but is not about potassium
    assert kb_citations(kb, "What causes high potassium?") == []
    # the colorectal passage names aspirin but is about colorectal cancer
    assert kb_citations(kb, "Should I stop taking aspirin?") == []


def test_topic_words_pick_the_entry_about_the_topic(kb_dir: Path) -> None:
    kb = load_kb(str(kb_dir), None)
    urls = [c.source_url for c in kb_citations(kb, "How is a brain tumor treated?")]
    assert urls == ["https://www.ninds.nih.gov/tumors"]


def test_should_i_stop_a_medicine_adds_the_caution_line(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Should I stop taking aspirin?")
    assert answer.answer.endswith(DONT_CHANGE_MEDICINE_LINE)
    assert all(c.source != "knowledge_base" for c in answer.citations)
    general = answer_general_question(svc, "Can I stop my lisinopril?")
    assert general.answer.endswith(DONT_CHANGE_MEDICINE_LINE)
    assert DONT_CHANGE_MEDICINE_LINE not in answer_document_question(svc, _result(), "What is my TSH?").answer


# ---- item 5: typical ranges; questions the library cannot answer -------------------------------------------


def test_normal_a1c_gives_the_typical_range_with_its_source(svc: Services) -> None:
    answer = answer_general_question(svc, "What is a normal A1c?")
    entry = typical_table()["Hemoglobin A1c"][0]
    assert answer.kind == "answered"
    assert f"{entry.ranges['any']} {entry.unit}" in answer.answer.splitlines()[0]
    cite = answer.citations[0]
    assert entry.source in (cite.title or "") and entry.ranges["any"] in cite.text


def test_side_effects_question_says_the_library_has_no_answer(svc: Services) -> None:
    answer = answer_general_question(svc, "What are the side effects of lisinopril?")
    assert answer.kind == "no_answer"
    assert answer.answer == NO_LIBRARY_ANSWER
    assert answer.citations == []


# ---- item 11: repeated list items in NIH passages ----------------------------------------------------------


def test_repeated_list_items_are_quoted_once() -> None:
    text = (
        "The main symptoms are: - tremor, or trembling - rigidity, or stiffness. tremor, or trembling "
        "rigidity, or stiffness. Other symptoms include depression."
    )
    assert dedupe_passage(text) == (
        "The main symptoms are: - tremor, or trembling - rigidity, or stiffness. "
        "Other symptoms include depression."
    )
    twice = "You can control - what you eat. Fats raise it. what you eat. Fats raise it. - your weight."
    assert dedupe_passage(twice) == "You can control - what you eat. Fats raise it. - your weight."
    plain = "No repeats here. Each sentence is new."
    assert dedupe_passage(plain) == plain


def test_general_answer_quotes_the_kb_passage_without_repeats(svc: Services) -> None:
    answer = answer_general_question(svc, "What are the symptoms of Parkinson's disease?")
    assert answer.answer.count("tremor, or trembling in hands") == 1
    kb_cite = next(c for c in answer.citations if c.source == "knowledge_base")
    assert kb_cite.text.count("tremor, or trembling in hands") == 2  # the citation stays the exact span


def test_compose_keeps_every_word_of_a_passage_without_repeats() -> None:
    cite = Citation(text="A b. A b. C d.", begin_offset=0, end_offset=14, source="knowledge_base")
    answer = compose([], [], [cite], about_document=False)
    assert '"A b. C d."' in answer.answer


# ---- item 10: the empty question ---------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   "])
def test_cli_rejects_an_empty_question(question: str) -> None:
    from healthchat.cli import app

    result = CliRunner().invoke(app, ["ask", question])
    assert result.exit_code == 2
    assert re.search(r"question is empty", result.output + (result.stderr or ""))
