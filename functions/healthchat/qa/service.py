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

from healthchat.domain.models import DocRef, DocumentResult, LabResult, Medication
from healthchat.qa.embeddings import EmbeddingsUnavailable, build_embeddings
from healthchat.qa.extractive import NO_MODEL_NOTICE, compose, lab_verdict
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
from healthchat.qa.intents import (
    DONT_CHANGE_MEDICINE_LINE,
    FLAGGED,
    NO_CHANGE_FOUND,
    NO_LIBRARY_ANSWER,
    asked_groups,
    asks_beyond_library,
    asks_flagged_results,
    asks_medication_change,
    asks_to_change_medicine,
    flagged_lead,
    group_labs,
    medication_change_facts,
    names_drug,
    routed_sections,
    typical_range_facts,
)
from healthchat.qa.kb import KnowledgeBase, KnowledgeBaseMissing, cached_kb
from healthchat.qa.models import Answer, Citation
from healthchat.qa.passages import document_citations, document_index, kb_citations, section_citations
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


def _asked_labs(question: str, labs: list[LabResult]) -> list[LabResult]:
    """Labs the question names, and those of the organ or system it names ("thyroid": TSH and free T4)."""
    named = match_labs(question, labs)
    grouped = group_labs(question, labs)
    if not grouped:
        return named
    # "Is my thyroid normal?": the whole group, not labs whose explanation happens to say "thyroid"
    wanted = {id(lab) for lab in grouped} | (set() if asked_groups(question) else {id(lab) for lab in named})
    return [lab for lab in labs if id(lab) in wanted]


def _lab_facts(result: DocumentResult, text: str, question: str) -> tuple[list[Fact], str | None]:
    """Facts about the labs the question asks about, and the verdict that leads the answer."""
    if asks_flagged_results(question):
        base = group_labs(question, result.labs) or list(result.labs)
        flagged = [lab for lab in base if lab.flag in FLAGGED]
        return [lab_fact(result, text, lab) for lab in flagged], flagged_lead(base)
    labs = _asked_labs(question, result.labs)
    facts = [lab_fact(result, text, lab) for lab in labs]
    if is_definition_question(question):
        guides = {lab.name: lab_guide_fact(lab) for lab in labs}
        facts += [g for g in guides.values() if g is not None]
    return facts, lab_verdict(question, labs)


def _medication_facts(
    result: DocumentResult, text: str, question: str
) -> tuple[list[Fact], list[Medication]]:
    meds = match_medications(question, result.medications)
    if not meds and _MEDICATIONS_RE.search(question):
        meds = list(result.medications)  # "what medicines am I on?": all of them
    facts = [medication_fact(result, text, m) for m in meds]
    if asks_medication_change(question, result.medications):
        changes = medication_change_facts(result, text, meds or None)
        if not changes and not asks_to_change_medicine(question, True):  # "did the doctor change ...?"
            changes = [Fact(NO_CHANGE_FOUND, [], "medication_change")]
        facts = changes + facts  # what changed first, then what the list says
    return facts, meds


def _facts(result: DocumentResult, text: str, question: str) -> tuple[list[Fact], bool, str | None]:
    """Facts the question names, whether it names a term worth looking up in the health library, and the
    line that leads the answer."""
    definition = is_definition_question(question)
    facts, lead = _lab_facts(result, text, question)
    med_facts, meds = _medication_facts(result, text, question)
    facts += med_facts
    conditions = match_conditions(question, result.conditions)
    facts += [condition_fact(result, text, c) for c in conditions]
    if asks_blood_pressure(question):
        facts += blood_pressure_facts(result, text)
    if definition or meds:
        facts += glossary_facts(" ".join([question, *(m.name for m in meds)]))
    return facts, definition or bool(meds or conditions), lead


def _with_line(answer: Answer, line: str | None) -> Answer:
    """``answer`` with a fixed closing line (no value of its own, so it needs no citation)."""
    return answer if not line else answer.model_copy(update={"answer": f"{answer.answer}\n{line}"})


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
    facts, look_up, lead = _facts(result, text, question)
    embeddings, notice = _embeddings(svc)
    try:
        index = document_index(result, text, embeddings)
    except EmbeddingsUnavailable:
        index, notice = (
            document_index(result, text, None),
            "Local embeddings are unavailable: keyword search only.",
        )
    skip = [c for f in facts for c in f.citations if c.document_id]
    sections = routed_sections(question, [m["section"] for m in index.metadata])
    if sections:  # "what should I do next?": the plan and follow-up, whatever their words
        passages = section_citations(result, index, sections)
    elif asks_flagged_results(question):  # the flagged labs are the answer, not every line of the table
        passages = []
    else:
        passages = document_citations(result, index, question, k=3, skip=skip, semantic=not facts)
    if any(f.kind == "vital" for f in facts):  # "blood pressure", not every line about blood sugar
        passages = [p for p in passages if BP_TERMS_RE.search(p.text)]
    knowledge: list[Citation] = []
    if look_up:
        kb, kb_notice = _knowledge_base(svc, embeddings)
        terms = sorted({f.term for f in facts if f.term})
        knowledge = kb_citations(kb, question, k=1, terms=terms) if kb is not None and terms else []
        notice = notice or kb_notice
    answer = compose(facts, passages, knowledge, lead=lead, about_document=True)
    entities = [e.model_dump() for e in result.entities]
    answer = _with_model(svc, question, answer, entities, chat_model, result.labs)
    names_medicine = bool(match_medications(question, result.medications)) or names_drug(question)
    caution = DONT_CHANGE_MEDICINE_LINE if asks_to_change_medicine(question, names_medicine) else None
    return _notice(_with_line(answer, caution), notice)


def answer_general_question(
    svc: Services, question: str, *, chat_model: BaseChatModel | None = None
) -> Answer:
    """Answer a general health question from the MedQuAD knowledge base (and the glossary), citing NIH."""
    fixed = screen(question)
    if fixed is not None:
        return fixed
    embeddings, notice = _embeddings(svc)
    kb, kb_notice = _knowledge_base(svc, embeddings)
    beyond = asks_beyond_library(question)
    facts = typical_range_facts(question)
    if is_definition_question(question) and not beyond:
        facts += glossary_facts(question)
    if not facts and not is_health_question(question, kb):
        return out_of_scope_answer()
    knowledge = kb_citations(kb, question, k=2) if kb is not None else []
    if beyond and not knowledge:  # side effects, doses: say so, not a bare definition
        answer = Answer(answer=NO_LIBRARY_ANSWER, grounded=True, kind="no_answer", notice=NO_MODEL_NOTICE)
    else:
        answer = _with_model(
            svc, question, compose(facts, [], knowledge, about_document=False), [], chat_model
        )
    caution = DONT_CHANGE_MEDICINE_LINE if asks_to_change_medicine(question, names_drug(question)) else None
    return _notice(_with_line(answer, caution), notice, kb_notice)
