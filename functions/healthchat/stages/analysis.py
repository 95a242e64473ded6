"""The Analyze branches: Summarize -> Simplify and InterpretLabs -> SuggestTips."""

from __future__ import annotations

import time
from typing import Any

from healthchat.domain.clinical import conditions_from, medications_from
from healthchat.domain.labs import interpret_labs
from healthchat.domain.models import DocRef, LabResult, StageOutput, Summary
from healthchat.domain.tips import suggest_tips
from healthchat.stages.artifacts import read_artifact, write_artifact
from healthchat.wiring import Services

LABS_ENGINE = "healthchat-labs-0.1"
TIPS_ENGINE = "healthchat-tips-0.1"


def _text_and_entities(doc: DocRef, svc: Services) -> tuple[str, list[dict[str, Any]]]:
    text = str(read_artifact(svc.data, doc, "extract_text").data["text"])
    entities: list[dict[str, Any]] = read_artifact(svc.data, doc, "extract_medical").data["entities"]
    return text, entities


def run_summarize(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text, entities = _text_and_entities(doc, svc)
    # The labs branch runs in parallel, so the summary interprets labs itself (pure and cheap).
    labs = [lab.model_dump() for lab in interpret_labs(text, entities)]
    summary = svc.summarizer.summarize(text, entities, labs)
    return write_artifact(
        svc.data,
        doc,
        "summarize",
        svc.summarizer.name,
        started,
        summary.model_dump(),
        counts={"sentences": len(summary.sentences)},
    )


def run_simplify(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text = str(read_artifact(svc.data, doc, "extract_text").data["text"])
    summary = Summary.model_validate(read_artifact(svc.data, doc, "summarize").data)
    plain = svc.simplifier.simplify(summary, text)
    return write_artifact(
        svc.data,
        doc,
        "simplify",
        svc.simplifier.name,
        started,
        plain.model_dump(),
        counts={"glossary": len(plain.glossary)},
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
    entities: list[dict[str, Any]] = read_artifact(svc.data, doc, "extract_medical").data["entities"]
    labs = [LabResult.model_validate(x) for x in read_artifact(svc.data, doc, "interpret_labs").data["labs"]]
    tips = suggest_tips(labs, conditions_from(entities), medications_from(entities))
    return write_artifact(
        svc.data,
        doc,
        "suggest_tips",
        TIPS_ENGINE,
        started,
        {"tips": [t.model_dump() for t in tips]},
        counts={"tips": len(tips)},
    )
