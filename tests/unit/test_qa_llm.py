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
from healthchat.domain.models import DocRef
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
