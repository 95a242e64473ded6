"""Q&A with a chat model (HEALTHCHAT_QA=llm): the model's answer is kept only when the passages it cites
support its numbers, drugs and diagnoses; otherwise the extractive answer comes back with a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from test_qa_service import DOC_ID, NOTE, _result

from healthchat.config import Settings
from healthchat.domain.errors import ThrottlingError
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
from healthchat.qa.models import Answer
from healthchat.qa.service import answer_document_question
from healthchat.stages.artifacts import write_artifact
from healthchat.wiring import Services


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    services = Services(Settings(storage="memory", home=tmp_path, embeddings="none", qa_engine="llm"))
    doc = DocRef(owner_id="local-user", document_id=DOC_ID, upload_key="uploads/local-user/x/note.txt")
    write_artifact(
        services.data, doc, "extract_text", "plain-text", 0.0, {"text": NOTE, "method": "plain-text"}
    )
    return services


def _reply(answer: str, citations: list[int]) -> str:
    return json.dumps({"answer": answer, "citations": citations})


def test_model_answer_from_the_cited_passages_is_used(svc: Services) -> None:
    model = FakeListChatModel(
        responses=[_reply("Yes. Your total cholesterol was 232 mg/dL, above the range of <200.", [1])]
    )
    answer = answer_document_question(svc, _result(), "Was my cholesterol high?", chat_model=model)
    assert answer.engine == "FakeListChatModel" and answer.fallback_reason is None
    assert answer.answer.startswith("Yes. Your total cholesterol was 232 mg/dL")
    assert [c.text for c in answer.citations] == ["Total Cholesterol  232  H  mg/dL  <200"]


def test_model_that_ignores_the_context_and_invents_a_number_is_rejected(svc: Services) -> None:
    model = GenericFakeChatModel(
        messages=iter(
            [AIMessage(content=_reply("Your cholesterol was 310 mg/dL, which is very high.", [1, 2]))]
        )
    )
    answer = answer_document_question(svc, _result(), "Was my cholesterol high?", chat_model=model)
    assert answer.engine == "extractive" and answer.grounded
    assert answer.fallback_reason == "unsupported number in the model's answer"
    assert "310" not in answer.answer
    assert "Total Cholesterol: 232 mg/dL, high" in answer.answer


def test_number_from_an_uncited_passage_is_rejected(svc: Services) -> None:
    # 155 is in the document (passage 2) but the model cites only passage 1
    model = FakeListChatModel(responses=[_reply("Your LDL cholesterol was 155 mg/dL.", [1])])
    answer = answer_document_question(svc, _result(), "Was my cholesterol high?", chat_model=model)
    assert answer.engine == "extractive"
    assert answer.fallback_reason == "unsupported number in the model's answer"


def test_invented_drug_is_rejected(svc: Services) -> None:
    model = FakeListChatModel(responses=[_reply("Metformin is for sugar; you also take insulin.", [1])])
    answer = answer_document_question(svc, _result(), "What is metformin for?", chat_model=model)
    assert answer.engine == "extractive"
    assert "drug" in (answer.fallback_reason or "")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I think it is fine.", "model output could not be parsed"),
        (_reply("Your cholesterol was high.", []), "model cited no passage"),
    ],
)
def test_unusable_model_output_falls_back(svc: Services, reply: str, reason: str) -> None:
    answer = answer_document_question(
        svc, _result(), "Was my cholesterol high?", chat_model=FakeListChatModel(responses=[reply])
    )
    assert answer.engine == "extractive" and answer.fallback_reason == reason


def test_throttling_is_raised_for_the_caller_to_retry(svc: Services) -> None:
    from botocore.exceptions import ClientError

    def throttled() -> Iterator[AIMessage]:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Converse")
        yield AIMessage(content="")  # pragma: no cover

    with pytest.raises(ThrottlingError):
        answer_document_question(
            svc, _result(), "Was my cholesterol high?", chat_model=GenericFakeChatModel(messages=throttled())
        )


def test_emergency_never_reaches_the_model(svc: Services) -> None:
    model = FakeListChatModel(responses=[_reply("Take two aspirin.", [1])])
    answer = answer_document_question(svc, _result(), "I have crushing chest pain", chat_model=model)
    assert answer.kind == "emergency" and model.i == 0


# ---- the answer guard (reviewer findings 2026-11-29, item 3) --------------------------------------------

# Made-up lines in the layout of samples/doctor_note.txt (no real patient).
FAMILY_NOTE = """CLINIC NOTE
MEDICATIONS:
1. metformin 500 mg PO BID with meals
2. aspirin 81 mg PO daily
RESULTS:
LDL Cholesterol  155  H  mg/dL  <100
eGFR  78  mL/min/1.73m2  >= 60
FAMILY HISTORY:
Mother had breast cancer at age 61. Father had a myocardial infarction at 58.
ASSESSMENT AND PLAN:
1. Type 2 diabetes mellitus, not at goal. Increase metformin to 1000 mg PO BID.
"""
FAMILY_DOC = "01J0000000000000000000QA02"


def _family_result() -> DocumentResult:
    def line(start: str) -> tuple[int, int]:
        b = FAMILY_NOTE.index(start)
        return b, FAMILY_NOTE.index("\n", b)

    def lab(name: str, value: str, unit: str, rng: str, flag: str) -> LabResult:
        b, e = line(f"{name}  {value}")
        ref = ReferenceRange(text=rng, source="report")
        return LabResult(
            name=name, value=value, unit=unit, reference_range=ref, flag=flag, begin_offset=b, end_offset=e
        )

    met, asa = line("metformin 500"), line("aspirin")
    bc = FAMILY_NOTE.index("breast cancer")
    return DocumentResult(
        document_id=FAMILY_DOC,
        owner_id="local-user",
        status=Status.SUCCEEDED,
        source=SourceInfo(filename="note.txt"),
        labs=[
            lab("LDL Cholesterol", "155", "mg/dL", "<100", "high"),
            lab("eGFR", "78", "mL/min/1.73m2", ">= 60", "normal"),
        ],
        medications=[
            Medication(name="metformin", strength="500 mg", begin_offset=met[0], end_offset=met[1]),
            Medication(name="aspirin", strength="81 mg", begin_offset=asa[0], end_offset=asa[1]),
        ],
        conditions=[Condition(name="breast cancer", begin_offset=bc, end_offset=bc + 13)],
    )


@pytest.fixture
def family_svc(svc: Services) -> Services:
    doc = DocRef(owner_id="local-user", document_id=FAMILY_DOC, upload_key="uploads/local-user/y/note.txt")
    write_artifact(
        svc.data, doc, "extract_text", "plain-text", 0.0, {"text": FAMILY_NOTE, "method": "plain-text"}
    )
    return svc


def _ask_with(svc: Services, question: str, reply: str) -> Answer:
    unparsable = FakeListChatModel(responses=["no JSON"])  # gives back the extractive answer's passages
    extractive = answer_document_question(svc, _family_result(), question, chat_model=unparsable)
    every = list(range(1, len(extractive.citations) + 1))
    model = GenericFakeChatModel(messages=iter([AIMessage(content=_reply(reply, every))]))
    return answer_document_question(svc, _family_result(), question, chat_model=model)


ADVICE = "the model's answer advises a medication change"


@pytest.mark.parametrize(
    ("question", "reply", "reason"),
    [
        # the reviewer's examples
        ("What medicines am I on?", "You should stop taking metformin and aspirin.", ADVICE),
        ("What is metformin for?", "Double your metformin dose tonight.", ADVICE),
        ("What is metformin for?", "You take metformin five thousand mg.", "unsupported number"),
        ("Was my LDL high?", "Your LDL is normal, nothing to worry about.", "contradicts a lab flag"),
        ("Do I have breast cancer?", "Yes, you have breast cancer.", "family member's finding"),
        # more phrasings of each
        ("What is aspirin for?", "It is fine to skip your aspirin on busy days.", ADVICE),
        ("What medicines am I on?", "Switch from metformin to a different pill if it upsets you.", ADVICE),
        ("What is metformin for?", "You can decrease the metformin dose if you feel tired.", ADVICE),
        (
            "What is metformin for?",
            "You take metformin five hundred mg twice a day, for twenty years.",
            "number",
        ),
        ("Was my LDL high?", "No, your LDL cholesterol was not high.", "contradicts a lab flag"),
        ("What does eGFR mean?", "Your eGFR of 78 is abnormal.", "contradicts a lab flag"),
        ("Do I have breast cancer?", "Your breast cancer was found at age 61.", "family member's finding"),
        ("What medicines am I on?", "The plan says to stop aspirin.", ADVICE),
        ("What is metformin for?", "Take an extra metformin tablet if your sugar is high.", ADVICE),
        ("Was my LDL high?", "Your LDL cholesterol is fine.", "contradicts a lab flag"),
    ],
)
def test_guard_rejects_unsafe_model_answers(
    family_svc: Services, question: str, reply: str, reason: str
) -> None:
    answer = _ask_with(family_svc, question, reply)
    assert answer.engine == "extractive" and answer.grounded
    assert reason in (answer.fallback_reason or ""), answer.fallback_reason
    assert reply not in answer.answer


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        ("Was my LDL high?", "Yes. Your LDL cholesterol was 155 mg/dL, which is high (the range is <100)."),
        ("What does eGFR mean?", "Your eGFR was 78, within the range; it shows how well the kidneys filter."),
        ("Do I have breast cancer?", "Your note says your mother had breast cancer at age 61."),
        ("What is metformin for?", "Your doctor plans to increase metformin to 1000 mg twice a day."),
        ("What is metformin for?", "You take metformin 500 mg two times a day with meals."),
    ],
)
def test_guard_keeps_faithful_model_answers(family_svc: Services, question: str, reply: str) -> None:
    answer = _ask_with(family_svc, question, reply)
    assert answer.fallback_reason is None, answer.fallback_reason
    assert answer.engine == "GenericFakeChatModel" and answer.answer == reply
