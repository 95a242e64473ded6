"""The Analyze branches: Summarize -> Simplify and InterpretLabs -> SuggestTips."""

from __future__ import annotations

import time
from typing import Any

from healthchat.adapters.local.extractive_summarizer import MAX_WORDS, ExtractiveSummarizer
from healthchat.domain.clinical import conditions_from, medications_from
from healthchat.domain.errors import ThrottlingError, TransientError
from healthchat.domain.faithfulness import check_faithfulness
from healthchat.domain.labs import interpret_labs
from healthchat.domain.models import DocRef, FaithfulnessReport, LabResult, StageOutput, Summary
from healthchat.domain.tips import suggest_tips
from healthchat.stages.artifacts import read_artifact, write_artifact
from healthchat.wiring import Services

LABS_ENGINE = "healthchat-labs-0.1"
TIPS_ENGINE = "healthchat-tips-0.1"


def _text_and_entities(doc: DocRef, svc: Services) -> tuple[str, list[dict[str, Any]]]:
    text = str(read_artifact(svc.data, doc, "extract_text").data["text"])
    entities: list[dict[str, Any]] = read_artifact(svc.data, doc, "extract_medical").data["entities"]
    return text, entities


def _model_summary(
    svc: Services, text: str, entities: list[dict[str, Any]], labs: list[dict[str, Any]]
) -> tuple[Summary, FaithfulnessReport] | str:
    """A configured model's summary and its faithfulness report, or a PHI-free reason it cannot be used."""
    try:
        summary = svc.summarizer.summarize(text, entities, labs)
    except (ThrottlingError, TransientError):
        raise  # Step Functions retries these with backoff
    except Exception as exc:  # noqa: BLE001 - any model failure falls back to the extractive summary
        return f"summary model unavailable ({type(exc).__name__})"
    report = check_faithfulness(summary.text, text, entities)
    if not report.passed:
        kinds = sorted({claim.kind for claim in report.unsupported})
        return f"summary model output failed the faithfulness check (unsupported {', '.join(kinds)})"
    if sum(len(s.text.split()) for s in summary.sentences) > MAX_WORDS:
        return f"summary model output longer than {MAX_WORDS} words"
    return summary, report


def run_summarize(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text, entities = _text_and_entities(doc, svc)
    # The labs branch runs in parallel, so the summary interprets labs itself (pure and cheap).
    labs = [lab.model_dump() for lab in interpret_labs(text, entities)]
    engine = svc.summarizer.name
    extractive_only = isinstance(svc.summarizer, ExtractiveSummarizer)
    model = None if extractive_only else _model_summary(svc, text, entities, labs)
    if isinstance(model, tuple):
        summary, report = model  # already checked
    else:
        extractive = svc.summarizer if model is None else ExtractiveSummarizer()
        summary = extractive.summarize(text, entities, labs)
        if model is not None:  # the model's reason for falling back
            summary = summary.model_copy(update={"fallback_reason": model})
            engine = f"{extractive.name} (fallback from {engine})"
        report = check_faithfulness(summary.text, text, entities)
    return write_artifact(
        svc.data,
        doc,
        "summarize",
        engine,
        started,
        {**summary.model_dump(), "faithfulness": report.model_dump()},
        counts={"sentences": len(summary.sentences), "unsupported": len(report.unsupported)},
    )


def run_simplify(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text, entities = _text_and_entities(doc, svc)
    summary = Summary.model_validate(read_artifact(svc.data, doc, "summarize").data)
    plain = svc.simplifier.simplify(summary, text, entities=entities)
    report = check_faithfulness(plain.text, text, entities, plain.glossary)
    return write_artifact(
        svc.data,
        doc,
        "simplify",
        svc.simplifier.name,
        started,
        {**plain.model_dump(), "faithfulness": report.model_dump()},
        counts={"glossary": len(plain.glossary), "unsupported": len(report.unsupported)},
    )


def run_interpret_labs(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text, entities = _text_and_entities(doc, svc)
    labs = interpret_labs(text, entities)
    return write_artifact(
        svc.data,
        doc,
        "interpret_labs",
        LABS_ENGINE,
        started,
        {"labs": [lab.model_dump() for lab in labs]},
        counts={"labs": len(labs)},
    )


def run_suggest_tips(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text, entities = _text_and_entities(doc, svc)
    labs = [LabResult.model_validate(x) for x in read_artifact(svc.data, doc, "interpret_labs").data["labs"]]
    tips = suggest_tips(labs, conditions_from(entities, text), medications_from(entities), text, entities)
    return write_artifact(
        svc.data,
        doc,
        "suggest_tips",
        TIPS_ENGINE,
        started,
        {"tips": [t.model_dump() for t in tips]},
        counts={"tips": len(tips)},
    )
