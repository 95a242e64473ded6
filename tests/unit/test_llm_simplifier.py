"""LlmSimplifier: the chat model's rewrite is used only when it parses and passes the faithfulness check."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from healthchat.adapters.aws.llm_simplifier import LlmSimplifier, build_chat_model
from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier
from healthchat.config import Settings
from healthchat.domain.errors import ThrottlingError
from healthchat.domain.models import PlainLanguage, Summary

# A made-up discharge-style note (no real patient).
NOTE = """Follow-up visit
Results:
Hemoglobin A1c   8.1  H  %  4.0-5.6
LDL Cholesterol   171   mg/dL   <100
Imaging: chest X-ray shows no evidence of pneumonia.
Assessment and Plan:
1. Type 2 diabetes mellitus, not at goal. Increase metformin to 1000 mg PO BID.
2. Hypertension, controlled. Continue lisinopril 20 mg daily.
Follow up in 3 months with repeat A1c.
"""
FAITHFUL = (
    "Your A1c was 8.1%. That is higher than it should be. Your diabetes is not at goal, so your "
    "metformin goes up to 1000 mg by mouth twice a day. Your high blood pressure is under control. "
    "Keep taking lisinopril 20 mg each day. Your chest X-ray showed no pneumonia. Come back in 3 months."
)


@pytest.fixture(scope="module")
def document() -> tuple[Summary, list[dict[str, Any]]]:
    from healthchat.adapters.local.extractive_summarizer import ExtractiveSummarizer
    from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
    from healthchat.domain.clinical import labs_from

    entities = LocalMedicalExtractor().detect_entities(NOTE).entities
    labs = [lab.model_dump() for lab in labs_from(NOTE, entities)]
    return ExtractiveSummarizer().summarize(NOTE, entities, labs), entities


def _answer(text: str) -> str:
    return json.dumps({"text": text, "glossary_terms": ["hypertension"]})


def _simplify(model: Any, document: tuple[Summary, list[dict[str, Any]]]) -> PlainLanguage:
    summary, entities = document
    return LlmSimplifier(model).simplify(summary, NOTE, entities=entities)


def test_a_faithful_rewrite_is_used(document: tuple[Summary, list[dict[str, Any]]]) -> None:
    fenced = f"```json\n{_answer(FAITHFUL)}\n```"  # models often fence their JSON: the parser accepts it
    plain = _simplify(FakeListChatModel(responses=[fenced]), document)
    deterministic = GlossarySimplifier().simplify(document[0], NOTE)
    assert plain.text == FAITHFUL and plain.fallback_reason is None
    assert plain.reading_grade is not None and plain.reading_grade <= 8
    assert plain.source_reading_grade == deterministic.source_reading_grade
    assert plain.glossary == deterministic.glossary  # our reviewed entries, not the model's


def test_a_hallucinated_number_falls_back_with_a_phi_free_reason(
    document: tuple[Summary, list[dict[str, Any]]],
) -> None:
    plain = _simplify(FakeListChatModel(responses=[_answer(FAITHFUL.replace("8.1%", "6.4%"))]), document)
    assert plain.text == GlossarySimplifier().simplify(document[0], NOTE).text
    assert plain.fallback_reason == "unsupported number in model output"


def test_unparseable_output_falls_back(document: tuple[Summary, list[dict[str, Any]]]) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Sure! Your A1c is a bit high.")]))
    plain = _simplify(model, document)
    assert plain.fallback_reason == "model output could not be parsed"
    assert plain.text == GlossarySimplifier().simplify(document[0], NOTE).text


def test_a_dropped_negation_falls_back(document: tuple[Summary, list[dict[str, Any]]]) -> None:
    flipped = FAITHFUL.replace("showed no pneumonia", "showed pneumonia")
    plain = _simplify(FakeListChatModel(responses=[_answer(flipped)]), document)
    assert plain.fallback_reason == "flipped negation in model output"


def test_an_invented_drug_and_a_model_error_fall_back(document: tuple[Summary, list[dict[str, Any]]]) -> None:
    invented = FAITHFUL + " Start aspirin each day."
    plain = _simplify(FakeListChatModel(responses=[_answer(invented)]), document)
    assert plain.fallback_reason == "unsupported drug in model output"

    def failing() -> Iterator[AIMessage]:
        raise ConnectionError("endpoint down")
        yield  # pragma: no cover

    plain = _simplify(GenericFakeChatModel(messages=failing()), document)
    assert plain.fallback_reason == "model unavailable (ConnectionError)"


def test_throttling_is_raised_for_the_state_machine_to_retry(
    document: tuple[Summary, list[dict[str, Any]]],
) -> None:
    from botocore.exceptions import ClientError

    def throttled() -> Iterator[AIMessage]:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Converse")
        yield  # pragma: no cover

    with pytest.raises(ThrottlingError):
        _simplify(GenericFakeChatModel(messages=throttled()), document)


def test_the_prompt_carries_the_summary_the_glossary_and_the_rules(
    document: tuple[Summary, list[dict[str, Any]]],
) -> None:
    simplifier = LlmSimplifier(FakeListChatModel(responses=[_answer(FAITHFUL)]))
    prompt = simplifier._runnable().first  # type: ignore[attr-defined]
    messages = prompt.invoke({"summary": document[0].text, "glossary": "- hypertension: high blood pressure"})
    system, human = messages.to_messages()
    assert isinstance(system, SystemMessage) and isinstance(human, HumanMessage)
    assert "6th-grade" in str(system.content) and '"glossary_terms"' in str(system.content)
    assert document[0].text in str(human.content) and "hypertension: high blood pressure" in str(
        human.content
    )


def test_chat_models_are_built_from_settings() -> None:
    bedrock = build_chat_model(Settings(llm_provider="bedrock", llm_model_id="amazon.nova-lite-v1:0"))
    assert type(bedrock).__name__ == "ChatBedrockConverse"
    assert bedrock.model_id == "amazon.nova-lite-v1:0"  # type: ignore[attr-defined]
    endpoint = build_chat_model(Settings(llm_provider="sagemaker", llm_model_id="plain-language-llm"))
    assert endpoint.endpoint_name == "plain-language-llm"  # type: ignore[attr-defined]
    handler = endpoint.content_handler  # type: ignore[attr-defined]
    body = json.loads(handler.transform_input([{"role": "user", "content": "hi"}], {"max_tokens": 5}))
    assert body == {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    reply = io.BytesIO(json.dumps({"choices": [{"message": {"content": "hello"}}]}).encode())
    assert handler.transform_output(reply).content == "hello"
    with pytest.raises(ValueError, match="HEALTHCHAT_LLM_MODEL_ID"):
        build_chat_model(Settings(llm_model_id=""))


def test_langchain_is_imported_on_first_use_only() -> None:
    code = (
        "import sys, healthchat.adapters.aws.llm_simplifier as m; m.LlmSimplifier(); "
        "print(sorted({n.split('.')[0] for n in sys.modules if n.startswith('langchain')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
