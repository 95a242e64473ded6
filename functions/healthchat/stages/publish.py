"""PublishResult and RecordFailure: the two ways a document's run ends.

A document can be erased (``DELETE /documents/{id}``) while its run is under way. Neither step may
bring it back: when its record is gone and its upload too, they write no record and remove what the
run's stages stored after the erasure. A document that was not erased (its upload is still there)
always ends with a record, FAILED if anything went wrong.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel

from healthchat.domain.clinical import conditions_from, medications_from
from healthchat.domain.errors import HealthChatError, NotFoundError, error_class_for
from healthchat.domain.models import (
    CostLine,
    DocRef,
    DocumentRecord,
    DocumentResult,
    ErrorInfo,
    SourceInfo,
    Status,
    TextInfo,
)
from healthchat.domain.tips import notice_text
from healthchat.ports import BlobStore
from healthchat.stages.artifacts import STAGES, read_artifact, result_key
from healthchat.stages.register import known_document_id, parse_trigger
from healthchat.wiring import Services


def _source(record: DocumentRecord) -> SourceInfo:
    return SourceInfo(
        filename=record.filename,
        content_type=record.content_type,
        sha256=record.sha256,
        bytes=record.bytes,
        pages=record.pages,
    )


def build_result(doc: DocRef, record: DocumentRecord, data: BlobStore) -> DocumentResult:
    """Assemble the DocumentResult from the stage artifacts."""
    arts = {stage: read_artifact(data, doc, stage) for stage in STAGES}
    entities: list[dict[str, Any]] = arts["extract_medical"].data["entities"]
    text = arts["extract_text"].data
    cost: dict[str, CostLine] = {}
    for art in arts.values():
        for service, line in art.cost.items():
            total = cost.setdefault(service, CostLine())
            total.units += line.units
            total.usd = round(total.usd + line.usd, 6)
    return DocumentResult(
        document_id=doc.document_id,
        owner_id=doc.owner_id,
        status=Status.SUCCEEDED,
        source=_source(record),
        text=TextInfo(
            chars=len(text["text"]), method=text["method"], ocr_confidence=text.get("ocr_confidence")
        ),
        entities=entities,  # type: ignore[arg-type]  # validated by pydantic
        labs=arts["interpret_labs"].data["labs"],
        medications=medications_from(entities),
        conditions=conditions_from(entities, text["text"]),
        summary=arts["summarize"].data,  # type: ignore[arg-type]
        plain_language=arts["simplify"].data,  # type: ignore[arg-type]
        tips=arts["suggest_tips"].data["tips"],
        faithfulness={
            name: arts[stage].data["faithfulness"]
            for name, stage in (("summary", "summarize"), ("plain_language", "simplify"))
            if "faithfulness" in arts[stage].data
        },
        notice=notice_text(),
        engines={stage: art.engine for stage, art in arts.items()},
        timings_ms={stage: art.ms for stage, art in arts.items()},
        cost=cost,
    )


def upload_exists(svc: Services, upload_key: str) -> bool:
    """Whether the uploaded file is still stored (under its key, or the key S3 events URL-encode)."""
    if svc.uploads.size(upload_key) is not None:
        return True
    decoded = unquote_plus(upload_key)
    return decoded != upload_key and svc.uploads.size(decoded) is not None


def discard_erased(doc: DocRef, svc: Services) -> None:
    """Remove what a run stored for a document erased during it: its artifacts (and result), and any
    upload claim it made (deleting a record also drops its claims; the record itself is already gone)."""
    for key in list(svc.data.list(f"{doc.owner_id}/{doc.document_id}/")):
        svc.data.delete(key)
    svc.records.delete(doc.owner_id, doc.document_id)


class PublishOutput(BaseModel):
    result_key: str | None  # None: the document was erased during its run; nothing was published
    ms: float
    erased: bool = False


def publish_result(doc: DocRef, svc: Services) -> PublishOutput:
    started = time.perf_counter()

    def erased() -> PublishOutput:
        discard_erased(doc, svc)
        return PublishOutput(
            result_key=None, ms=round((time.perf_counter() - started) * 1000, 1), erased=True
        )

    record = svc.records.get(doc.owner_id, doc.document_id)
    if record is None:
        if not upload_exists(svc, doc.upload_key):
            return erased()
        raise HealthChatError("The document record is missing.")
    result = build_result(doc, record, svc.data)
    key = result_key(doc)
    svc.data.put(key, result.model_dump_json().encode(), "application/json")
    try:
        svc.records.update(doc.owner_id, doc.document_id, status=Status.SUCCEEDED, error=None, result_key=key)
    except NotFoundError:  # erased between the read above and this write
        return erased()
    return PublishOutput(result_key=key, ms=round((time.perf_counter() - started) * 1000, 1))


def error_info(error: dict[str, Any]) -> ErrorInfo:
    """The stable code and a PHI-free message for a Step Functions ``{Error, Cause}``.

    Only our own errors' messages are kept (they never carry document content); anything
    else gets its class's fixed message, because a library's message might quote the input.
    """
    error_type = str(error.get("Error", ""))
    cls = error_class_for(error_type)
    message = cls.default_message
    if cls is not HealthChatError and cls.__name__ == error_type:
        try:
            cause = json.loads(str(error.get("Cause", "")))
            message = str(cause.get("errorMessage") or message)[:300]
        except (ValueError, AttributeError):
            pass
    return ErrorInfo(code=cls.code, message=message)


class FailureOutput(BaseModel):
    document_id: str | None
    code: str
    erased: bool = False  # the document was erased during its run: no record was written


def record_failure(state: dict[str, Any], svc: Services) -> FailureOutput:
    """Mark the document FAILED with its error code; works whether or not RegisterDocument got far."""
    info = error_info(state.get("error") or {})
    registered = (state.get("register") or {}).get("doc")
    try:
        doc = DocRef.model_validate(registered) if registered else None
        if doc is None:
            trigger = parse_trigger(state)
            doc = DocRef(
                owner_id=trigger.owner_id,
                document_id=known_document_id(trigger, svc.records),
                upload_key=trigger.upload_key,
            )
    except ValueError:
        return FailureOutput(document_id=None, code=info.code)  # not a trigger we can attribute to anyone
    record = svc.records.get(doc.owner_id, doc.document_id)
    if record is None and not upload_exists(svc, doc.upload_key):
        discard_erased(doc, svc)  # erased during the run (or never uploaded): nothing to show anyone
        return FailureOutput(document_id=doc.document_id, code=info.code, erased=True)
    if record is None:
        svc.records.put(
            DocumentRecord(
                owner_id=doc.owner_id,
                document_id=doc.document_id,
                status=Status.FAILED,
                filename=doc.upload_key.rsplit("/", 1)[-1],
                upload_key=doc.upload_key,
                error=info,
            )
        )
        return FailureOutput(document_id=doc.document_id, code=info.code)
    try:
        svc.records.update(doc.owner_id, doc.document_id, status=Status.FAILED, error=info)
    except NotFoundError:  # erased between the read above and this write
        discard_erased(doc, svc)
        return FailureOutput(document_id=doc.document_id, code=info.code, erased=True)
    return FailureOutput(document_id=doc.document_id, code=info.code)


def failed_result(record: DocumentRecord) -> DocumentResult:
    """The DocumentResult shown for a FAILED (or still PROCESSING) document."""
    return DocumentResult(
        document_id=record.document_id,
        owner_id=record.owner_id,
        status=record.status,
        error=record.error,
        source=_source(record),
    )
