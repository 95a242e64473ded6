"""Batch reprocessing: choose stored documents and start the same pipeline for each, keeping its id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, model_validator

from healthchat.domain.models import DocumentRecord, Status
from healthchat.ports import PipelineStarter, RecordStore
from healthchat.wiring import Services


class ReprocessRequest(BaseModel):
    """Which documents to run again: ids of one owner, all of an owner's, or every FAILED one."""

    owner_id: str | None = None
    document_ids: list[str] = Field(default_factory=list)
    all: bool = False
    failed: bool = False

    @model_validator(mode="after")
    def _one_selection(self) -> ReprocessRequest:
        if not (self.document_ids or self.all or self.failed):
            raise ValueError("name document_ids, or set all or failed")
        if (self.document_ids or self.all) and not self.owner_id:
            raise ValueError("owner_id is required with document_ids or all")
        return self


def select_documents(request: ReprocessRequest, records: RecordStore) -> list[DocumentRecord]:
    chosen: Iterable[DocumentRecord]
    if request.document_ids:
        assert request.owner_id is not None
        found = (records.get(request.owner_id, doc_id) for doc_id in request.document_ids)
        chosen = (r for r in found if r is not None)
    elif request.all and request.owner_id:
        chosen = (r for r in records.scan() if r.owner_id == request.owner_id)
    else:
        chosen = records.scan(Status.FAILED)
    selected = list(chosen)
    if request.failed:
        selected = [r for r in selected if r.status == Status.FAILED]
    if request.owner_id:
        selected = [r for r in selected if r.owner_id == request.owner_id]
    return selected


def reprocess_trigger(record: DocumentRecord) -> dict[str, Any]:
    return {
        "owner_id": record.owner_id,
        "document_id": record.document_id,
        "upload_key": record.upload_key,
        "reprocess": True,
    }


class ReprocessOutput(BaseModel):
    started: int
    document_ids: list[str]


def reprocess(event: dict[str, Any], svc: Services) -> ReprocessOutput:
    """The cloud entry point: validate the request, start one execution per chosen document."""
    started = start_reprocessing(ReprocessRequest.model_validate(event), svc.records, svc.pipeline)
    return ReprocessOutput(started=len(started), document_ids=started)


def start_reprocessing(
    request: ReprocessRequest, records: RecordStore, starter: PipelineStarter
) -> list[str]:
    """Start one execution per selected document; returns the document ids started."""
    started = []
    for record in select_documents(request, records):
        starter.start(reprocess_trigger(record))
        started.append(record.document_id)
    return started
