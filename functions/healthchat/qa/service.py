"""Grounded Q&A (DESIGN.md section 4, issue 5): answers about one of the user's documents and general health
questions, always with citations to the exact passages; emergencies and off-topic requests get fixed answers.

Flow: safety screen -> structured facts (labs, medications, conditions, glossary) -> hybrid passage search
over the document and the MedQuAD knowledge base -> the extractive answer; with ``HEALTHCHAT_QA=llm`` a chat
model may reword it, and its answer is kept only if the cited passages support it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from healthchat.domain.models import DocRef, DocumentResult, LabResult
from healthchat.qa.embeddings import EmbeddingsUnavailable, build_embeddings
from healthchat.qa.extractive import compose, lab_verdict
from healthchat.qa.facts import (
    BP_TERMS_RE,
    Fact,
    asks_blood_pressure,
    blood_pressure_facts,
    condition_fact,
    glossary_facts,
    is_definition_question,
    lab_fact,
    lab_guide_fact,
    match_conditions,
    match_labs,
    match_medications,
    medication_fact,
)
from healthchat.qa.kb import KnowledgeBase, KnowledgeBaseMissing, cached_kb
from healthchat.qa.models import Answer, Citation
from healthchat.qa.passages import document_citations, document_index, kb_citations
from healthchat.qa.safety import is_health_question, out_of_scope_answer, screen
from healthchat.stages.artifacts import read_artifact

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from healthchat.wiring import Services

logger = logging.getLogger(__name__)

_MEDICATIONS_RE = re.compile(r"\b(?:medications?|medicines?|meds|drugs|pills|prescriptions?)\b", re.I)
KB_MISSING_NOTICE = (
    "The health library (MedQuAD knowledge base) is not built here; run `healthchat kb build`."
)


def _embeddings(svc: Services) -> tuple[Embeddings | None, str | None]:
    try:
        return build_embeddings(svc.settings)
    except Exception as exc:  # noqa: BLE001 - search still works with keywords alone
        logger.warning("embeddings unavailable: %s", type(exc).__name__)
        return None, "Passage embeddings are unavailable: keyword search (BM25) only."


def _knowledge_base(svc: Services, embeddings: Embeddings | None) -> tuple[KnowledgeBase | None, str | None]:
    try:
        kb = cached_kb(svc.settings.kb_dir, embeddings)
    except KnowledgeBaseMissing:
        return None, KB_MISSING_NOTICE
    return kb, kb.notice


def _document_text(svc: Services, result: DocumentResult) -> str:
    # the record's upload key is not needed to find an artifact: only owner and document id name it
    doc = DocRef.model_construct(owner_id=result.owner_id, document_id=result.document_id, upload_key="")
    return str(read_artifact(svc.data, doc, "extract_text").data["text"])


def _facts(result: DocumentResult, text: str, question: str) -> tuple[list[Fact], bool]:
    """Facts the question names, and whether it names a term worth looking up in the health library."""
    definition = is_definition_question(question)
    labs = match_labs(question, result.labs)
    facts = [lab_fact(result, text, lab) for lab in labs]
    if definition:
        guides = {lab.name: lab_guide_fact(lab) for lab in labs}
        facts += [g for g in guides.values() if g is not None]
    meds = match_medications(question, result.medications)
    if not meds and _MEDICATIONS_RE.search(question):
        meds = list(result.medications)  # "what medicines am I on?": all of them
    facts += [medication_fact(result, text, m) for m in meds]
    conditions = match_conditions(question, result.conditions)
    facts += [condition_fact(result, text, c) for c in conditions]
    if asks_blood_pressure(question):
        facts += blood_pressure_facts(result, text)
    if definition or meds:
        facts += glossary_facts(" ".join([question, *(m.name for m in meds)]))
    return facts, definition or bool(meds or conditions)


def _notice(answer: Answer, *extra: str | None) -> Answer:
    notes = [n for n in (answer.notice, *extra) if n]
    return answer.model_copy(update={"notice": " ".join(notes) or None})


def _with_model(
    svc: Services,
    question: str,
    answer: Answer,
    entities: list[dict[str, Any]],
    chat_model: BaseChatModel | None,
    labs: Sequence[LabResult] = (),
) -> Answer:
    if chat_model is None and svc.settings.qa_engine != "llm":
        return answer
    from healthchat.qa.llm import chat_model_for, llm_answer

    return llm_answer(chat_model or chat_model_for(svc.settings), question, answer, entities, labs)


def answer_document_question(
    svc: Services, result: DocumentResult, question: str, *, chat_model: BaseChatModel | None = None
) -> Answer:
    """Answer ``question`` about ``result`` (a SUCCEEDED DocumentResult) from its facts, its text and the
    knowledge base. ``chat_model`` overrides the configured one (tests); with none and ``qa_engine``
    "extractive", no model is used."""
    fixed = screen(question)
    if fixed is not None:
        return fixed
    text = _document_text(svc, result)
    facts, look_up = _facts(result, text, question)
    embeddings, notice = _embeddings(svc)
    try:
        index = document_index(result, text, embeddings)
    except EmbeddingsUnavailable:
        index, notice = (
            document_index(result, text, None),
            "Local embeddings are unavailable: keyword search only.",
        )
    skip = [c for f in facts for c in f.citations if c.document_id]
    passages = document_citations(result, index, question, k=3, skip=skip, semantic=not facts)
    if any(f.kind == "vital" for f in facts):  # "blood pressure", not every line about blood sugar
        passages = [p for p in passages if BP_TERMS_RE.search(p.text)]
    knowledge: list[Citation] = []
    if look_up:
        kb, kb_notice = _knowledge_base(svc, embeddings)
        terms = sorted({f.term for f in facts if f.term})
        knowledge = kb_citations(kb, question, k=1, terms=terms) if kb is not None and terms else []
        notice = notice or kb_notice
    lead = lab_verdict(question, match_labs(question, result.labs))
    answer = compose(facts, passages, knowledge, lead=lead, about_document=True)
    entities = [e.model_dump() for e in result.entities]
    return _notice(_with_model(svc, question, answer, entities, chat_model, result.labs), notice)


def answer_general_question(
    svc: Services, question: str, *, chat_model: BaseChatModel | None = None
) -> Answer:
    """Answer a general health question from the MedQuAD knowledge base (and the glossary), citing NIH."""
    fixed = screen(question)
    if fixed is not None:
        return fixed
    embeddings, notice = _embeddings(svc)
    kb, kb_notice = _knowledge_base(svc, embeddings)
    facts = glossary_facts(question) if is_definition_question(question) else []
    if not facts and not is_health_question(question, kb):
        return out_of_scope_answer()
    knowledge = kb_citations(kb, question, k=2) if kb is not None else []
    answer = compose(facts, [], knowledge, about_document=False)
    return _notice(_with_model(svc, question, answer, [], chat_model), notice, kb_notice)
