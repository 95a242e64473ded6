"""Q&A request and answer models (DESIGN.md section 4): shared by the API, the CLI and the Q&A engine.

Kept free of heavy imports (pydantic only) so the query API can validate requests without loading
the retrieval stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QuestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000, description="A question in plain words.")


class Citation(BaseModel):
    """An exact passage the answer rests on.

    For a document passage, ``begin_offset``/``end_offset`` are character offsets into that document's
    extracted text and ``document_id`` names it. For a knowledge-base passage (MedQuAD, NIH), the
    offsets are into that entry's answer text and ``source_url`` is the NIH page to cite.
    """

    text: str
    begin_offset: int
    end_offset: int
    document_id: str | None = None
    source: Literal["document", "structured", "knowledge_base", "glossary"] = "document"
    source_url: str | None = None
    title: str | None = None


class Answer(BaseModel):
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    grounded: bool
    # "answered" | "no_answer" (nothing relevant found) | "emergency" | "out_of_scope"
    kind: Literal["answered", "no_answer", "emergency", "out_of_scope"] = "answered"
    # which engine wrote the answer: "extractive" (no language model configured) or the chat model's name
    engine: str = "extractive"
    # why a model's answer was not used (e.g. its numbers were not in the cited passages); never PHI
    fallback_reason: str | None = None
    notice: str | None = None
