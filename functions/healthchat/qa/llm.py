"""Answers written by a chat model (``HEALTHCHAT_QA=llm``): a LangChain runnable (prompt with numbered
passages -> chat model -> pydantic parser) returns an answer and the passage numbers it rests on; the answer
is used only if the faithfulness check finds every number (also those written in words), drug and diagnosis
in those cited passages and the checks of ``qa.guard`` pass (no advice to change a medicine, no lab status
against the computed flag, no family member's finding given to the patient). Otherwise the extractive
answer is returned with ``fallback_reason``.

LangChain lets one chain run on Bedrock Converse, a SageMaker endpoint or the fake chat models of the
tests; the chat model factory and the throttling test are the plain-language simplifier's, reused.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from healthchat.adapters.aws.llm_simplifier import _throttled, build_chat_model, failure_reason
from healthchat.domain.errors import ThrottlingError
from healthchat.domain.faithfulness import check_faithfulness
from healthchat.domain.models import GlossaryEntry, LabResult
from healthchat.qa.facts import GLOSSARY_TITLE
from healthchat.qa.guard import guard_reason, words_to_digits
from healthchat.qa.models import Answer, Citation

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from healthchat.config import Settings

SYSTEM_PROMPT = """You answer a patient's question using ONLY the numbered passages below: passages from
the patient's own medical document, facts HealthChat extracted from it, glossary definitions and NIH health
pages. Rules:
- Use only what the passages say. Never add a number, unit, drug, dose or diagnosis that is not in a cited
  passage. If the passages do not answer the question, say so.
- Keep every "no", "not" and "denies" as written.
- Write short, plain sentences for a reader with no medical training.
- Give no dosing advice; never tell the patient to start, stop or change a medicine.
- List the numbers of the passages your answer uses.
{format_instructions}"""

HUMAN_PROMPT = """Passages:
{passages}

Question: {question}"""


FALLBACK_NOTICE = (
    "The AI model's answer could not be checked against the passages it cites, so this answer lists the "
    "extracted facts and quotes the passages instead."
)


class ModelAnswer(BaseModel):
    """What the chat model must return."""

    answer: str = Field(description="the answer, in plain language")
    citations: list[int] = Field(description="numbers of the passages the answer uses, e.g. [1, 3]")


_models: dict[tuple[str, str, str], BaseChatModel] = {}
_models_lock = threading.Lock()


def chat_model_for(settings: Settings) -> BaseChatModel:
    """The configured chat model, built once per process."""
    key = (settings.llm_provider, settings.llm_model_id, settings.region)
    with _models_lock:
        if key not in _models:
            _models[key] = build_chat_model(settings)
        return _models[key]


def _model_name(model: BaseChatModel) -> str:
    for attr in ("model_id", "model", "endpoint_name"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _numbered(passages: Sequence[Citation]) -> str:
    lines = []
    for n, c in enumerate(passages, 1):
        where = {"document": "document", "structured": "document fact", "glossary": "glossary"}.get(
            c.source, "NIH"
        )
        lines.append(f"[{n}] ({where}) {' '.join(c.text.split())}")
    return "\n".join(lines)


def _ask(model: BaseChatModel, question: str, passages: Sequence[Citation]) -> tuple[ModelAnswer | None, str]:
    from langchain_core.exceptions import OutputParserException
    from langchain_core.output_parsers import PydanticOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    parser = PydanticOutputParser(pydantic_object=ModelAnswer)
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])
    chain = prompt.partial(format_instructions=parser.get_format_instructions()) | model | parser
    try:
        return chain.invoke({"passages": _numbered(passages), "question": question}), ""
    except OutputParserException:
        return None, "model output could not be parsed"
    except Exception as exc:  # noqa: BLE001 - any model failure falls back to the extractive answer
        if _throttled(exc):
            raise ThrottlingError("The language model is throttling requests.") from None
        return None, f"model unavailable ({type(exc).__name__})"


def _cited_source(
    cited: Sequence[Citation], entities: Sequence[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], list[GlossaryEntry]]:
    """The cited passages joined, the document's entities inside them (offsets moved into the joined
    text), and the glossary pairs among them: the only support a model's answer may rely on."""
    parts: list[str] = []
    moved: list[dict[str, Any]] = []
    glossary: list[GlossaryEntry] = []
    pos = 0
    for c in cited:
        if c.source in ("document", "structured") and c.document_id:
            for e in entities:
                b, end = int(e["BeginOffset"]), int(e["EndOffset"])
                if c.begin_offset <= b and end <= c.end_offset:
                    shift = pos - c.begin_offset
                    moved.append({**e, "BeginOffset": b + shift, "EndOffset": end + shift})
        if c.source == "glossary" and c.title == GLOSSARY_TITLE and ": " in c.text:
            term, plain = c.text.split(": ", 1)
            glossary.append(GlossaryEntry(term=term, plain=plain))
        parts.append(c.text)
        pos += len(c.text) + 2
    return "\n\n".join(parts), moved, glossary


def llm_answer(
    model: BaseChatModel,
    question: str,
    extractive: Answer,
    entities: Sequence[dict[str, Any]] = (),
    labs: Sequence[LabResult] = (),
) -> Answer:
    """The model's answer over the extractive answer's passages, if it passes the checks (``labs`` carry the
    computed flags its status words must agree with); else ``extractive`` with ``fallback_reason`` (a
    PHI-free reason). Throttling raises :class:`ThrottlingError`."""
    passages = extractive.citations
    if extractive.kind != "answered" or not passages:
        return extractive  # nothing to ground a model's answer on
    out, reason = _ask(model, question, passages)
    if out is not None:
        numbers = sorted({n for n in out.citations if 1 <= n <= len(passages)})
        if not out.answer.strip():
            reason = "model returned an empty answer"
        elif not numbers:
            reason = "model cited no passage"
        else:
            cited = [passages[n - 1] for n in numbers]
            source, ents, glossary = _cited_source(cited, entities)
            report = check_faithfulness(words_to_digits(out.answer), source, ents, glossary)
            guarded = guard_reason(out.answer, source, labs) if report.passed else None
            if report.passed and guarded is None:
                return Answer(
                    answer=out.answer.strip(),
                    citations=cited,
                    grounded=True,
                    engine=_model_name(model),
                    notice="Written by an AI model from the cited passages and checked against them.",
                )
            reason = guarded or failure_reason(report).replace("model output", "the model's answer")
    return extractive.model_copy(update={"fallback_reason": reason, "notice": FALLBACK_NOTICE})
