"""Grounded Q&A over a document (memory storage) and the MedQuAD knowledge base (3 files, BM25): facts and
passages are cited with exact offsets, emergencies and off-topic questions get the fixed answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from healthchat.config import Settings
from healthchat.domain.models import (
    Condition,
    DocRef,
    DocumentResult,
    LabResult,
    Medication,
    ReferenceRange,
    SourceInfo,
    Status,
)
from healthchat.qa import kb as kb_module
from healthchat.qa.kb import KnowledgeBase, build_index, build_kb
from healthchat.qa.medquad import KbEntry
from healthchat.qa.models import Answer
from healthchat.qa.passages import kb_citations, question_focus
from healthchat.qa.service import answer_document_question, answer_general_question
from healthchat.stages.artifacts import write_artifact
from healthchat.wiring import Services

KB_FILES = ("7_SeniorHealth_QA/0000015.xml", "7_SeniorHealth_QA/0000052.xml", "7_SeniorHealth_QA/0000062.xml")
DOC_ID = "01J0000000000000000000QA01"
# A made-up clinic note (no real patient).
NOTE = """CLINIC NOTE
HISTORY:
She denies chest pain or shortness of breath. Type 2 diabetes mellitus, on treatment.
MEDICATIONS:
1. metformin 500 mg PO BID with meals
2. lisinopril 10 mg daily
RESULTS:
Total Cholesterol  232  H  mg/dL  <200
LDL Cholesterol  155  H  mg/dL  <100
eGFR  78  mL/min/1.73m2  >= 60
FOLLOW-UP:
Return in 4 weeks for a blood pressure check. Repeat lipid panel in 3 months.
"""


def _span(text: str, start: int = 0) -> tuple[int, int]:
    """Offsets of the line of NOTE that starts with ``text``."""
    begin = NOTE.index(text, start)
    return begin, NOTE.index("\n", begin)


def _lab(
    name: str, value: str, unit: str, low: float | None, high: float | None, rng: str, flag: str
) -> LabResult:
    b, e = _span(f"{name}  {value}")
    ref = ReferenceRange(low=low, high=high, text=rng, source="report")
    return LabResult(
        name=name,
        value=value,
        unit=unit,
        reference_range=ref,
        flag=flag,
        begin_offset=b,
        end_offset=e,
        explanation="eGFR estimates how well your kidneys filter blood." if name == "eGFR" else None,
    )


def _result() -> DocumentResult:
    met, lis = _span("metformin"), _span("lisinopril")
    chest = NOTE.index("chest pain")
    return DocumentResult(
        document_id=DOC_ID,
        owner_id="local-user",
        status=Status.SUCCEEDED,
        source=SourceInfo(filename="note.txt"),
        labs=[
            _lab("Total Cholesterol", "232", "mg/dL", None, 200, "<200", "high"),
            _lab("LDL Cholesterol", "155", "mg/dL", None, 100, "<100", "high"),
            _lab("eGFR", "78", "mL/min/1.73m2", 60, None, ">= 60", "normal"),
        ],
        medications=[
            Medication(name="metformin", strength="500 mg", begin_offset=met[0], end_offset=met[1]),
            Medication(name="lisinopril", strength="10 mg", begin_offset=lis[0], end_offset=lis[1]),
        ],
        conditions=[Condition(name="chest pain", negated=True, begin_offset=chest, end_offset=chest + 10)],
    )


@pytest.fixture(scope="module")
def kb_dir(
    tmp_path_factory: pytest.TempPathFactory, medquad_subset: Callable[[tuple[str, ...]], Path]
) -> Path:
    src = medquad_subset(KB_FILES)
    out = tmp_path_factory.mktemp("kb")
    build_kb(src, out, embeddings=None)
    return out


def qa_services(home: Path, kb_dir: Path, note: str, document_id: str) -> Services:
    """In-memory Services over a built KB, with ``note`` stored as the document's extracted text."""
    kb_module.clear_cache()
    services = Services(Settings(storage="memory", home=home, embeddings="none", kb_location=str(kb_dir)))
    doc = DocRef(owner_id="local-user", document_id=document_id, upload_key="uploads/local-user/x/note.txt")
    write_artifact(
        services.data, doc, "extract_text", "plain-text", 0.0, {"text": note, "method": "plain-text"}
    )
    return services


@pytest.fixture
def svc(tmp_path: Path, kb_dir: Path) -> Services:
    return qa_services(tmp_path, kb_dir, NOTE, DOC_ID)


def _assert_cited_exactly(answer: Answer) -> None:
    """Document citations quote NOTE at their offsets, and every number in the answer is in a citation."""
    for c in answer.citations:
        if c.document_id:
            assert NOTE[c.begin_offset : c.end_offset] == c.text
    cited = " ".join(c.text for c in answer.citations)
    for number in re.findall(r"\d+(?:\.\d+)?", re.sub(r"\[\d+\]", "", answer.answer)):
        assert number in cited, number


def test_lab_question_gives_value_flag_range_with_cited_offsets(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Was my cholesterol high?")
    assert answer.kind == "answered" and answer.grounded and answer.engine == "extractive"
    assert answer.answer.startswith("Yes: Total Cholesterol and LDL Cholesterol are high")
    assert "Total Cholesterol: 232 mg/dL, high" in answer.answer and "<200" in answer.answer
    assert "No language model is configured" in (answer.notice or "")
    structured = [c for c in answer.citations if c.source == "structured"]
    assert [c.text for c in structured] == [
        "Total Cholesterol  232  H  mg/dL  <200",
        "LDL Cholesterol  155  H  mg/dL  <100",
    ]
    _assert_cited_exactly(answer)


def test_medication_question_cites_the_document_and_the_glossary_and_nih(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What is metformin for?")
    sources = {c.source for c in answer.citations}
    assert {"structured", "glossary"} <= sources
    assert "metformin 500 mg PO BID with meals" in answer.answer
    assert "Metformin is a medicine that lowers blood sugar." in answer.answer
    for c in answer.citations:
        if c.source == "knowledge_base":
            assert c.source_url and c.source_url.startswith("http://nihseniorhealth.gov/")
            assert "metformin" in c.text.lower()
    _assert_cited_exactly(answer)


def test_definition_question_uses_lab_guide_and_glossary(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What does eGFR mean?")
    assert "eGFR: 78 mL/min/1.73m2, within the range" in answer.answer
    assert "kidneys filter blood" in answer.answer
    _assert_cited_exactly(answer)


def test_section_question_quotes_the_follow_up_section(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What did the doctor say about follow-up?")
    texts = [c.text for c in answer.citations]
    assert texts[:2] == ["Return in 4 weeks for a blood pressure check.", "Repeat lipid panel in 3 months."]
    assert all(c.title == "Follow-Up" for c in answer.citations[:2])
    _assert_cited_exactly(answer)


def test_a_general_condition_word_finds_the_specific_diagnosis(svc: Services) -> None:
    result = _result()
    dm = NOTE.index("Type 2 diabetes mellitus")
    result.conditions.append(
        Condition(name="type 2 diabetes mellitus", negated=False, begin_offset=dm, end_offset=dm + 24)
    )
    answer = answer_document_question(svc, result, "Do I have diabetes?")
    assert answer.answer.startswith("Your document mentions type 2 diabetes mellitus:")
    assert "Type 2 diabetes mellitus, on treatment." in [c.text for c in answer.citations]


def test_negated_condition_is_reported_as_absent(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "Did the note mention chest pain?")
    assert "records no chest pain" in answer.answer
    assert "She denies chest pain or shortness of breath." in [c.text for c in answer.citations]


def test_question_with_nothing_in_the_document_has_no_answer(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What was my TSH?")
    assert answer.kind == "no_answer" and answer.citations == []


@pytest.mark.parametrize(
    "question",
    [
        "I have crushing chest pain",
        "I've been having suicidal thoughts",
        "I can't breathe",
        "My husband's face is drooping and his speech is slurred",
    ],
)
def test_emergencies_get_the_fixed_answer_without_retrieval(svc: Services, question: str) -> None:
    for answer in (
        answer_document_question(svc, _result(), question),
        answer_general_question(svc, question),
    ):
        assert answer.kind == "emergency" and answer.citations == []
        assert "911" in answer.answer


@pytest.mark.parametrize("question", ["Write me a poem about spring", "What's the weather like today?"])
def test_off_topic_requests_get_the_out_of_scope_answer(svc: Services, question: str) -> None:
    assert answer_document_question(svc, _result(), question).kind == "out_of_scope"
    assert answer_general_question(svc, question).kind == "out_of_scope"


def test_general_question_is_answered_from_medquad_with_the_nih_url(svc: Services) -> None:
    answer = answer_general_question(svc, "What are the symptoms of Parkinson's disease?")
    assert answer.kind == "answered" and answer.citations
    top = answer.citations[0]
    assert top.source == "knowledge_base"
    assert top.source_url == "http://nihseniorhealth.gov/parkinsonsdisease/toc.html"
    assert "Parkinson" in top.text
    assert f'"{" ".join(top.text.split())}"' in answer.answer


def test_general_question_without_a_health_word_is_out_of_scope(svc: Services) -> None:
    assert answer_general_question(svc, "What is the best pizza in town?").kind == "out_of_scope"


def test_general_question_without_a_built_kb_says_so(tmp_path: Path) -> None:
    kb_module.clear_cache()
    svc = Services(Settings(storage="memory", home=tmp_path, embeddings="none"))
    answer = answer_general_question(svc, "What are the symptoms of shingles?")
    assert answer.kind == "no_answer"
    assert "healthchat kb build" in (answer.notice or "")


# ---- vitals and knowledge-base focus (reviewer findings 2026-11-29, item 10) ---------------------------

VITALS_NOTE = """PHYSICAL EXAM:
BP 142/88, HR 78, Temp 98.4 F, Wt 182 lb.
FOLLOW-UP:
Return in 4 weeks for a blood pressure check. Go to the emergency department for blood sugar above 400 mg/dL.
"""
VITALS_DOC = "01J0000000000000000000QA03"
BP_QUESTIONS = ["What is my blood pressure?", "What was my BP?", "What were my vitals?"]


def _vitals_result(svc: Services) -> DocumentResult:
    doc = DocRef(owner_id="local-user", document_id=VITALS_DOC, upload_key="uploads/local-user/v/note.txt")
    write_artifact(
        svc.data, doc, "extract_text", "plain-text", 0.0, {"text": VITALS_NOTE, "method": "plain-text"}
    )
    return DocumentResult(
        document_id=VITALS_DOC,
        owner_id="local-user",
        status=Status.SUCCEEDED,
        source=SourceInfo(filename="v.txt"),
    )


@pytest.mark.parametrize(
    "question", ["What is my blood pressure?", "What was my BP?", "What were my vitals?"]
)
def test_blood_pressure_question_cites_the_reading(svc: Services, question: str) -> None:
    answer = answer_document_question(svc, _vitals_result(svc), question)
    assert answer.kind == "answered"
    assert "blood pressure of 142/88" in answer.answer
    texts = [c.text for c in answer.citations]
    assert "BP 142/88, HR 78, Temp 98.4 F, Wt 182 lb." in texts
    assert not any("blood sugar" in t for t in texts)
    for c in answer.citations:
        if c.document_id:
            assert VITALS_NOTE[c.begin_offset : c.end_offset] == c.text


def _small_kb() -> KnowledgeBase:
    """Made-up entries: chemotherapy doses, sleep, and two fillers (BM25 needs words absent from most)."""
    entries = [
        KbEntry(
            "1",
            "a.xml",
            "CancerGov",
            "https://www.cancer.gov/x",
            "Childhood Cancer",
            "treatment",
            "What are the treatments for Childhood Cancer?",
            "The dose of chemotherapy for a child depends on the child's body size and the type of cancer.",
        ),
        KbEntry(
            "2",
            "b.xml",
            "NIHSeniorHealth",
            "http://nihseniorhealth.gov/sleep/toc.html",
            "Sleep",
            "information",
            "How much sleep does a child need?",
            "A school-age child needs 9 to 12 hours of sleep a night.",
        ),
        *(
            KbEntry(str(n), f"{n}.xml", "NINDS", f"http://www.ninds.nih.gov/{n}", topic, "information", q, a)
            for n, topic, q, a in (
                (3, "Tremor", "What is tremor?", "Tremor is shaking of the hands, arms or legs."),
                (4, "Shingles", "What is shingles?", "Shingles is a painful rash caused by a virus."),
            )
        ),
    ]
    windows, index = build_index(entries, None)
    return KnowledgeBase(entries, windows, index, None)


def test_kb_hit_must_be_about_the_drug_the_question_names() -> None:
    kb = _small_kb()
    # shares "dose" and "child" with the chemotherapy passage, but asks about metformin
    assert kb_citations(kb, "What is the dose of metformin for a child?") == []
    assert [c.source_url for c in kb_citations(kb, "What is the dose of chemotherapy for a child?")] == [
        "https://www.cancer.gov/x"
    ]
    # no drug, condition or test named: the word overlap alone decides, as before
    assert [c.source_url for c in kb_citations(kb, "How much sleep does a child need?", k=1)] == [
        "http://nihseniorhealth.gov/sleep/toc.html"
    ]


def test_question_focus_names_drugs_conditions_and_tests() -> None:
    assert question_focus("What is the dose of metformin for a child?") == ["metformin"]
    assert question_focus("What is Lipitor?") == ["Lipitor", "atorvastatin"]
    assert question_focus("What does eGFR mean?") == ["eGFR"]
    assert question_focus("Is it safe to play football after a concussion?") == ["concussion"]
    assert question_focus("How much sleep does a child need?") == []


def test_document_question_does_not_cite_an_unrelated_kb_passage(svc: Services) -> None:
    answer = answer_document_question(svc, _result(), "What is the dose of metformin for a child?")
    assert "metformin 500 mg PO BID with meals" in answer.answer
    for c in answer.citations:
        if c.source == "knowledge_base":
            assert "metformin" in c.text.lower()
