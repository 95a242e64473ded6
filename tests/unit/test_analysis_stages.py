"""Summarize and Simplify stages: the faithfulness report is stored, and a model summary that fails it,
errors, or is throttled is handled as the issue asks (fallback with a reason; throttling re-raised)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.config import Settings
from healthchat.domain.errors import ThrottlingError
from healthchat.domain.models import DocRef, LabResult, SourceSpan, Summary, SummarySentence
from healthchat.stages.analysis import run_simplify, run_summarize
from healthchat.stages.artifacts import read_artifact, write_artifact
from healthchat.wiring import Services

NOTE = """Assessment: Type 2 diabetes mellitus. No evidence of cancer on the biopsy.
Hemoglobin A1c   7.2   H   %   4.0-5.6
Plan: Increase metformin to 1000 mg PO BID. Follow up in 3 months.
"""
DOC = DocRef(owner_id="u1", document_id="01JC0000000000000000000003", upload_key="uploads/u1/x/note.txt")


class ModelSummarizer:
    """Stands in for a seq2seq endpoint: returns a fixed text, or raises."""

    name = "fake-model"

    def __init__(self, text: str = "", error: Exception | None = None) -> None:
        self.text, self.error = text, error

    def summarize(
        self, text: str, entities: Sequence[dict[str, Any]], labs: Sequence[LabResult | dict[str, Any]]
    ) -> Summary:
        if self.error is not None:
            raise self.error
        span = [SourceSpan(begin_offset=0, end_offset=len(text))]
        return Summary(text=self.text, sentences=[SummarySentence(text=self.text, source_spans=span)])


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    return LocalMedicalExtractor().detect_entities(NOTE).entities


@pytest.fixture
def svc(tmp_path: Path, entities: list[dict[str, Any]]) -> Services:
    svc = Services(Settings(home=tmp_path, storage="memory"))
    started = time.perf_counter()
    write_artifact(svc.data, DOC, "extract_text", "t", started, {"text": NOTE, "method": "plain-text"})
    write_artifact(svc.data, DOC, "extract_medical", "m", started, {"entities": entities})
    return svc


def _use(svc: Services, summarizer: ModelSummarizer) -> None:
    svc.__dict__["summarizer"] = summarizer  # what wiring would build for HEALTHCHAT_SUMMARIZER=sagemaker


def test_extractive_summary_and_plain_text_store_a_passing_faithfulness_report(svc: Services) -> None:
    run_summarize(DOC, svc)
    run_simplify(DOC, svc)
    for stage in ("summarize", "simplify"):
        art = read_artifact(svc.data, DOC, stage)
        assert art.data["faithfulness"]["passed"] is True, stage
        assert art.data["faithfulness"]["checked"]["number"] >= 1
    assert "7.2%" in read_artifact(svc.data, DOC, "summarize").data["text"]


def test_a_faithful_model_summary_is_used(svc: Services) -> None:
    _use(svc, ModelSummarizer("Type 2 diabetes. Metformin goes up to 1000 mg. Follow up in 3 months."))
    out = run_summarize(DOC, svc)
    art = read_artifact(svc.data, DOC, "summarize")
    assert out.engine == "fake-model" and art.data["fallback_reason"] is None
    assert art.data["text"].startswith("Type 2 diabetes.")


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (ModelSummarizer("A1c 9.1% is high. Metformin goes up to 1000 mg."), "unsupported number"),
        (ModelSummarizer("The biopsy shows cancer."), "unsupported negation"),
        (
            ModelSummarizer(error=ConnectionError("endpoint down")),
            "summary model unavailable (ConnectionError)",
        ),
    ],
)
def test_a_model_summary_that_fails_falls_back_to_the_extractive_one(
    svc: Services, model: ModelSummarizer, reason: str
) -> None:
    _use(svc, model)
    out = run_summarize(DOC, svc)
    art = read_artifact(svc.data, DOC, "summarize")
    assert out.engine.startswith("healthchat-extractive") and "fallback from fake-model" in out.engine
    assert reason in art.data["fallback_reason"]
    assert art.data["faithfulness"]["passed"] is True  # the summary kept is the checked extractive one
    assert "9.1" not in art.data["fallback_reason"]  # the reason never quotes the model's claim


def test_throttling_of_the_model_is_raised_for_a_retry(svc: Services) -> None:
    _use(svc, ModelSummarizer(error=ThrottlingError("slow down")))
    with pytest.raises(ThrottlingError):
        run_summarize(DOC, svc)
