"""Cloud Simplifier: a LangChain runnable (prompt -> chat model -> pydantic parser) rewrites the summary
in plain language; the rewrite is used only if it passes the faithfulness check, else the deterministic one.

Why LangChain: one runnable works with any chat model (Bedrock Converse, a SageMaker endpoint, or the fake
models tests use), and its output parser turns the model's JSON into a validated pydantic object.
Both LangChain packages are imported on first use, not with this module: ``langchain_core`` 1.8 costs
~0.6-0.9 s cold here (it loads langsmith's run trees), ``langchain_aws`` ~1 s more, and only when a chat
model is built from settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from healthchat.domain.errors import ThrottlingError
from healthchat.domain.faithfulness import KINDS, check_faithfulness
from healthchat.domain.models import FaithfulnessReport, GlossaryEntry, PlainLanguage, Summary

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from healthchat.config import Settings
    from healthchat.ports import Simplifier

MAX_GRADE = 8.0  # NIH and AMA recommend grade 6-8

SYSTEM_PROMPT = """You rewrite a medical summary for a patient with no medical training.
Rules:
- Write at a 6th-grade reading level: short sentences, everyday words, second person ("your").
- Keep every number, unit, drug name and dose exactly as written in the summary.
- Keep every "no", "not" and "without": never turn an absent finding into a present one, or back.
- Add no facts, diagnoses, drugs, numbers or dates that are not in the summary.
- Give no advice, no dosing instructions, and never tell the patient to stop or change a medicine.
- Where a medical term stays, explain it with the plain words from the glossary below.
{format_instructions}"""

HUMAN_PROMPT = """Glossary (term: plain words):
{glossary}

Summary:
{summary}"""


class PlainRewrite(BaseModel):
    """What the chat model must return."""

    text: str = Field(description="the summary rewritten in plain language")
    glossary_terms: list[str] = Field(
        default_factory=list, description="the glossary terms from the summary that the rewrite explains"
    )


def build_chat_model(settings: Settings, client: Any = None) -> BaseChatModel:
    """The chat model ``settings`` names: Bedrock Converse (``llm_model_id`` = model id) or a SageMaker
    endpoint serving the Hugging Face Messages API (``llm_model_id`` = endpoint name).

    Parameters
    ----------
    settings
        ``llm_provider``, ``llm_model_id`` and ``region`` are read.
    client
        An optional boto3 ``bedrock-runtime`` / ``sagemaker-runtime`` client (tests, custom endpoints).
    """
    if not settings.llm_model_id:
        raise ValueError("HEALTHCHAT_LLM_MODEL_ID must name a Bedrock model or a SageMaker endpoint")
    if settings.llm_provider == "sagemaker":
        from langchain_aws.chat_models.sagemaker_endpoint import ChatSagemakerEndpoint

        return ChatSagemakerEndpoint(
            endpoint_name=settings.llm_model_id,
            region_name=settings.region,
            client=client,
            content_handler=_messages_api_handler(),
            model_kwargs={"max_tokens": 1024, "temperature": 0.0},
        )
    from langchain_aws import ChatBedrockConverse

    return ChatBedrockConverse(
        model=settings.llm_model_id,
        region_name=settings.region,
        client=client,
        temperature=0.0,
        max_tokens=1024,
    )


def _messages_api_handler() -> Any:
    """Content handler for an endpoint speaking the Messages API (TGI / the HF LLM container)."""
    from langchain_aws.chat_models.sagemaker_endpoint import ChatModelContentHandler
    from langchain_core.messages import AIMessage

    class MessagesApiHandler(ChatModelContentHandler):
        content_type = "application/json"
        accepts = "application/json"

        def transform_input(self, prompt: list[dict[str, Any]], model_kwargs: dict[str, Any]) -> bytes:
            return json.dumps({"messages": prompt, **model_kwargs}).encode("utf-8")

        def transform_output(self, output: Any) -> AIMessage:
            body = json.loads(output.read().decode("utf-8"))
            return AIMessage(content=body["choices"][0]["message"]["content"])

    return MessagesApiHandler()


def failure_reason(report: FaithfulnessReport) -> str:
    """A PHI-free reason naming the kinds of unsupported claims, never the claims themselves."""
    kinds = {c.kind for c in report.unsupported}
    parts = [f"unsupported {k}" for k in KINDS if k in kinds and k != "negation"]
    if "negation" in kinds:
        parts.append("flipped negation")
    return " and ".join(parts) + " in model output"


class LlmSimplifier:
    """Simplifier port backed by a chat model, guarded by the faithfulness check.

    Parameters
    ----------
    chat_model
        Any LangChain chat model; when None, one is built from ``settings`` on first use.
    settings
        Used only to build the chat model (default: ``Settings.from_env()``).
    fallback
        The deterministic Simplifier whose rewrite is returned when the model's cannot be used
        (default: the glossary simplifier). Its glossary entries, reviewed by us, are the result's
        glossary either way, and the phrases the faithfulness check accepts in place of a term.
    max_grade
        A rewrite above this Flesch-Kincaid grade (and above the fallback's) is not used; None: no limit.
    """

    name = "healthchat-llm-simplifier-0.1"

    def __init__(
        self,
        chat_model: BaseChatModel | None = None,
        *,
        settings: Settings | None = None,
        fallback: Simplifier | None = None,
        max_grade: float | None = MAX_GRADE,
    ) -> None:
        self._model = chat_model
        self._settings = settings
        self._fallback = fallback
        self._max_grade = max_grade
        self._chain: Runnable[dict[str, Any], PlainRewrite] | None = None

    def _runnable(self) -> Runnable[dict[str, Any], PlainRewrite]:
        if self._chain is None:
            from langchain_core.output_parsers import PydanticOutputParser
            from langchain_core.prompts import ChatPromptTemplate

            if self._model is None:
                from healthchat.config import Settings

                self._model = build_chat_model(self._settings or Settings.from_env())
            parser = PydanticOutputParser(pydantic_object=PlainRewrite)
            prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])
            prompt = prompt.partial(format_instructions=parser.get_format_instructions())
            self._chain = prompt | self._model | parser
        return self._chain

    def _deterministic(self) -> Simplifier:
        if self._fallback is None:
            from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier

            self._fallback = GlossarySimplifier()
        return self._fallback

    def simplify(
        self, summary: Summary, text: str, *, entities: Sequence[dict[str, Any]] | None = None
    ) -> PlainLanguage:
        """Plain-language rewrite of ``summary``; ``text`` is the document and ``entities`` its
        DetectEntitiesV2 entities (without them the check relies on the text alone)."""
        base = self._deterministic().simplify(summary, text)
        if not summary.text.strip():
            return base
        rewrite, reason = self._model_rewrite(summary, base.glossary)
        if rewrite is not None:
            report = check_faithfulness(rewrite, text, entities or (), base.glossary)
            grade = _reading_grade(rewrite)
            if not report.passed:
                reason = failure_reason(report)
            elif self._too_hard(grade, base.reading_grade):
                reason = f"model output above reading grade {self._max_grade:g}"
            else:
                return base.model_copy(update={"text": rewrite, "reading_grade": grade})
        return base.model_copy(update={"fallback_reason": reason})

    def _model_rewrite(self, summary: Summary, glossary: list[GlossaryEntry]) -> tuple[str | None, str]:
        from langchain_core.exceptions import OutputParserException

        listed = "\n".join(f"- {g.term}: {g.plain}" for g in glossary) or "(none)"
        try:
            out = self._runnable().invoke({"summary": summary.text, "glossary": listed})
        except OutputParserException:
            return None, "model output could not be parsed"
        except Exception as exc:  # noqa: BLE001 - any model failure falls back to the deterministic rewrite
            if _throttled(exc):  # except throttling: Step Functions retries the stage with backoff
                raise ThrottlingError("The language model is throttling requests.") from None
            return None, f"model unavailable ({type(exc).__name__})"
        if not out.text.strip():
            return None, "model returned an empty rewrite"
        return out.text.strip(), ""

    def _too_hard(self, grade: float | None, fallback_grade: float | None) -> bool:
        if self._max_grade is None or grade is None or grade <= self._max_grade:
            return False
        return fallback_grade is None or grade > fallback_grade


_THROTTLING_CODES = frozenset(("ThrottlingException", "TooManyRequestsException", "ModelNotReadyException"))


def _throttled(exc: BaseException | None) -> bool:
    """Whether a model error (or one it wraps) is AWS throttling: a ClientError with a throttling code."""
    seen = 0
    while exc is not None and seen < 5:
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code in _THROTTLING_CODES or type(exc).__name__ in _THROTTLING_CODES:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _reading_grade(text: str) -> float | None:
    from healthchat.adapters.local.glossary_simplifier import reading_grade

    return reading_grade(text)  # the grade the deterministic rewrite reports, so the two compare
