"""RegisterDocument and the trigger it starts from: resolve the document, claim the upload, validate it.

A trigger is either an S3 "Object Created" EventBridge event (cloud) or a direct request
``{owner_id, upload_key, document_id?, reprocess?}`` (CLI, reprocess, local API). Upload keys are
``uploads/{owner}/{document_id}/{filename}`` (our uploads) or ``uploads/{owner}/{filename}`` (a file
dropped into the bucket by hand, which gets a new id).
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, Field
from ulid import ULID

from healthchat.config import Settings
from healthchat.domain.documents import inspect_document
from healthchat.domain.errors import NotFoundError, TooLargeError
from healthchat.domain.models import DocRef, DocumentRecord, Status, utcnow
from healthchat.ports import RecordStore
from healthchat.wiring import Services

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


class Trigger(BaseModel):
    owner_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:-]+$")
    upload_key: str = Field(min_length=1, max_length=1024)
    document_id: str | None = None
    version: str | None = None  # S3 version id or ETag: two events for one object version are one document
    reprocess: bool = False

    @property
    def filename(self) -> str:
        return self.upload_key.rsplit("/", 1)[-1]

    @property
    def source_key(self) -> str:
        return f"{self.upload_key}#{self.version or ''}"


class RegisterOutput(BaseModel):
    doc: DocRef
    duplicate: bool = False
    content_type: str | None = None
    pages: int | None = None


def parse_trigger(event: dict[str, Any]) -> Trigger:
    """Normalise an EventBridge S3 event or a direct request into a Trigger."""
    if event.get("source") == "aws.s3" and isinstance(event.get("detail"), dict):
        obj = event["detail"].get("object", {})
        key = str(obj.get("key", ""))
        parts = key.split("/")
        if len(parts) < 3 or parts[0] != "uploads":
            raise ValueError("upload keys must look like uploads/{owner}/{file}")
        version = obj.get("version-id") or obj.get("etag")
        return Trigger(owner_id=parts[1], upload_key=key, version=version)
    return Trigger.model_validate(event)


def document_id_in_key(upload_key: str) -> str | None:
    parts = upload_key.split("/")
    if len(parts) >= 4 and _ULID.match(parts[2]):
        return parts[2]
    return None


def resolve_document_id(trigger: Trigger, records: RecordStore) -> tuple[str, bool]:
    """The document id for a trigger and whether this trigger is a duplicate of an earlier one.

    Reprocessing keeps the id it was given. Otherwise the upload object is claimed once: a second
    event for the same object version loses the claim and is reported as a duplicate.
    """
    doc_id = trigger.document_id or document_id_in_key(trigger.upload_key) or str(ULID())
    if trigger.reprocess:
        return doc_id, False
    nonce = secrets.token_hex(8)
    winner = records.claim(trigger.owner_id, trigger.source_key, f"{doc_id}:{nonce}")
    return winner.split(":", 1)[0], winner != f"{doc_id}:{nonce}"


def known_document_id(trigger: Trigger, records: RecordStore) -> str:
    """The id RegisterDocument gave (or would give) this trigger; used by RecordFailure."""
    explicit = trigger.document_id or document_id_in_key(trigger.upload_key)
    if explicit:
        return explicit
    claimed = None if trigger.reprocess else records.claimed(trigger.owner_id, trigger.source_key)
    if claimed:
        return claimed.split(":", 1)[0]
    return resolve_document_id(trigger, records)[0]


def register_document(event: dict[str, Any], svc: Services) -> RegisterOutput:
    """Record the document as PROCESSING, then check size, type and pages (raising coded errors)."""
    trigger = parse_trigger(event)
    if (
        svc.uploads.size(trigger.upload_key) is None
        and unquote_plus(trigger.upload_key) != trigger.upload_key
    ):
        # S3 event notifications URL-encode keys ("my file.pdf" -> "my+file.pdf"); accept either form.
        decoded = unquote_plus(trigger.upload_key)
        if svc.uploads.size(decoded) is not None:
            trigger = trigger.model_copy(update={"upload_key": decoded})
    records = svc.records
    doc_id, duplicate = resolve_document_id(trigger, records)
    doc = DocRef(owner_id=trigger.owner_id, document_id=doc_id, upload_key=trigger.upload_key)
    if duplicate:
        return RegisterOutput(doc=doc, duplicate=True)

    existing = records.get(doc.owner_id, doc_id)
    size = svc.uploads.size(trigger.upload_key)
    if existing is None and size is None:
        # No record and no file: erased (DELETE) while this run waited, or never uploaded. Writing a
        # record now would bring an erased document back; RecordFailure decides what to keep.
        raise NotFoundError("The uploaded file was not found.")
    record = DocumentRecord(
        owner_id=doc.owner_id,
        document_id=doc_id,
        status=Status.PROCESSING,
        filename=existing.filename if existing else trigger.filename,
        upload_key=trigger.upload_key,
        created_at=existing.created_at if existing else utcnow(),
    )
    if existing is None:
        records.put(record)
    else:
        # An update, not a put: if a DELETE removed the record meanwhile it raises NotFoundError
        # instead of recreating the document.
        fresh = record.model_dump(exclude={"owner_id", "document_id", "created_at", "updated_at"})
        records.update(doc.owner_id, doc_id, **fresh)

    settings: Settings = svc.settings
    if size is None:
        raise NotFoundError("The uploaded file was not found.")
    if size > settings.max_bytes:
        raise TooLargeError(f"The file is larger than the {settings.max_bytes // (1024 * 1024)} MB limit.")
    info = inspect_document(
        svc.uploads.get(trigger.upload_key), max_bytes=settings.max_bytes, max_pages=settings.max_pages
    )
    records.update(
        doc.owner_id,
        doc_id,
        content_type=info.content_type,
        sha256=info.sha256,
        bytes=info.bytes,
        pages=info.pages,
    )
    return RegisterOutput(doc=doc, content_type=info.content_type, pages=info.pages)
