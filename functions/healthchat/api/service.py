"""The query API's operations: plain functions over ``Services`` and the caller's owner id.

Every lookup is keyed by (owner, document id), so another owner's document is simply not found: the
API answers 404 for it exactly as for an id that never existed. Heavy modules (ULID, the FHIR models,
the glossary, the Q&A engine) are imported inside the operation that needs them, to keep the polling
Lambda's cold start small.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from healthchat.api.models import (
    UPLOAD_TYPES,
    CreateDocumentRequest,
    CreateDocumentResponse,
    DocumentDetail,
    DocumentItem,
    DocumentPage,
    GlossaryTerm,
    InvalidRequest,
    NotFound,
    NotReady,
    TooLarge,
    UnsupportedType,
)
from healthchat.domain.documents import upload_key
from healthchat.domain.models import DocumentRecord, DocumentResult, Status

if TYPE_CHECKING:
    from healthchat.qa.models import Answer
    from healthchat.wiring import Services

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,512}")


def media_type(content_type: str) -> str:
    """``text/plain`` of ``Text/Plain; charset=utf-8``: the type without its parameters, lower-cased."""
    return content_type.split(";", 1)[0].strip().lower()


def check_cursor(cursor: str) -> str:
    """The cursor if it is one the store handed out (URL-safe base64 of a document id); else 422.

    Checked here, not left to the store: base64 decoding skips characters outside its alphabet, so a
    junk cursor would decode to an empty id and answer an empty page instead of an error.
    """
    from healthchat.adapters.memory.records import decode_cursor

    try:
        valid = bool(_CURSOR.fullmatch(cursor)) and bool(_ULID.match(decode_cursor(cursor)))
    except ValueError:
        valid = False
    if not valid:
        raise InvalidRequest("Invalid request: query.cursor")
    return cursor


def check_document_id(document_id: str) -> str:
    """The id if it is a ULID; anything else cannot name a document, so it is 404 like an unknown id."""
    if not _ULID.match(document_id):
        raise NotFound()
    return document_id


def create_upload(svc: Services, owner_id: str, request: CreateDocumentRequest) -> CreateDocumentResponse:
    """A new document id, its PROCESSING record, and a URL to PUT the file to."""
    from ulid import ULID

    if media_type(request.content_type) not in UPLOAD_TYPES:
        raise UnsupportedType()
    limit = svc.settings.max_bytes
    if request.bytes is not None and request.bytes > limit:
        raise TooLarge(f"The file is larger than the {limit / (1024 * 1024):g} MB limit.")
    document_id = str(ULID())
    key = upload_key(owner_id, document_id, request.filename)
    # A declared size binds the upload to it (S3 signs Content-Length)
    ticket = svc.upload_urls.create(
        owner_id, document_id, key, request.content_type, limit, declared_bytes=request.bytes
    )
    # The record exists before the upload does, so a client polling right after this call never gets 404.
    svc.records.put(
        DocumentRecord(
            owner_id=owner_id,
            document_id=document_id,
            status=Status.PROCESSING,
            filename=request.filename,
            upload_key=key,
        )
    )
    return CreateDocumentResponse(
        document_id=document_id,
        upload_url=ticket.url,
        upload_method="PUT",
        upload_headers=ticket.headers,
        expires_in=ticket.expires_in,
        status_url=f"/documents/{document_id}",
    )


def _item_fields(record: DocumentRecord) -> dict[str, Any]:
    return {
        "document_id": record.document_id,
        "filename": record.filename,
        "status": record.status,
        "error": record.error,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


# after its upload URL expired, how long a document whose file never arrived still waits (S3 event lag)
UPLOAD_GRACE_SECONDS = 300
ABANDONED_MESSAGE = "No file was uploaded before the upload link expired. Create the document again."


def expire_abandoned(svc: Services, record: DocumentRecord) -> DocumentRecord:
    """A PROCESSING record whose file never arrived (no upload object, nothing registered) and whose upload
    URL has expired is recorded FAILED with ``EMPTY_FILE``, so it does not show as processing for ever."""
    if record.status != Status.PROCESSING or record.sha256 is not None:
        return record
    from datetime import timedelta

    from healthchat.domain.models import ErrorInfo, utcnow

    deadline = record.created_at + timedelta(seconds=svc.settings.upload_url_ttl + UPLOAD_GRACE_SECONDS)
    if utcnow() < deadline or svc.uploads.size(record.upload_key) is not None:
        return record
    error = ErrorInfo(code="EMPTY_FILE", message=ABANDONED_MESSAGE)
    return svc.records.update(record.owner_id, record.document_id, status=Status.FAILED, error=error)


def list_documents(svc: Services, owner_id: str, limit: int = 20, cursor: str | None = None) -> DocumentPage:
    """The owner's documents, newest first, one page at a time."""
    try:
        page = svc.records.list_owner(owner_id, limit=limit, cursor=check_cursor(cursor) if cursor else None)
    except ValueError:
        raise InvalidRequest("Invalid request: query.cursor") from None
    records = [expire_abandoned(svc, r) for r in page.records]
    return DocumentPage(documents=[DocumentItem(**_item_fields(r)) for r in records], next_cursor=page.cursor)


def _record(svc: Services, owner_id: str, document_id: str) -> DocumentRecord:
    record = svc.records.get(owner_id, check_document_id(document_id))
    if record is None:
        raise NotFound()
    return expire_abandoned(svc, record)


def _result(svc: Services, record: DocumentRecord) -> DocumentResult | None:
    """The stored DocumentResult once SUCCEEDED; for FAILED, the result that carries the error."""
    if record.status == Status.SUCCEEDED and record.result_key:
        return DocumentResult.model_validate_json(svc.data.get(record.result_key))
    if record.status == Status.FAILED:
        from healthchat.stages.publish import failed_result

        return failed_result(record)
    return None


def get_document(svc: Services, owner_id: str, document_id: str) -> DocumentDetail:
    record = _record(svc, owner_id, document_id)
    return DocumentDetail(**_item_fields(record), result=_result(svc, record))


def ready_result(svc: Services, owner_id: str, document_id: str) -> DocumentResult:
    """The DocumentResult of a SUCCEEDED document (404 if unknown, 409 NOT_READY otherwise)."""
    record = _record(svc, owner_id, document_id)
    if record.status == Status.FAILED:
        raise NotReady("The document could not be processed, so it has no results.")
    result = _result(svc, record)
    if result is None:
        raise NotReady("The document is still being processed; try again shortly.")
    return result


def delete_document(svc: Services, owner_id: str, document_id: str) -> None:
    """Erase the uploaded file, every artifact and the record (the record last, so a failure part-way
    leaves the document listed and the request can simply be repeated)."""
    record = _record(svc, owner_id, document_id)
    prefix = f"uploads/{owner_id}/{document_id}/"
    for key in list(svc.uploads.list(prefix)):
        svc.uploads.delete(key)
    # A file dropped into the bucket by hand (uploads/{owner}/{file}) is this document's upload too.
    if record.upload_key.startswith(f"uploads/{owner_id}/") and not record.upload_key.startswith(prefix):
        svc.uploads.delete(record.upload_key)
    for key in list(svc.data.list(f"{owner_id}/{document_id}/")):
        svc.data.delete(key)
    svc.records.delete(owner_id, document_id)


def fhir_bundle(svc: Services, owner_id: str, document_id: str) -> dict[str, Any]:
    from healthchat.domain.fhir import to_fhir_bundle

    return to_fhir_bundle(ready_result(svc, owner_id, document_id))


@cache
def _glossary_index() -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """Lower-cased term -> its entries as (term, plain, sense meanings), built once per process."""
    from healthchat.adapters.local.glossary_data import glossary

    index: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for entry in glossary():
        senses = tuple(sense.plain for sense in entry.senses)
        index.setdefault(entry.term.lower(), []).append((entry.term, entry.plain, senses))
    return index


def glossary_term(term: str) -> GlossaryTerm:
    """The glossary entry for ``term``, case-insensitively (an exact-case entry wins: "MS" vs "ms")."""
    wanted = " ".join(term.split())
    entries = _glossary_index().get(wanted.lower())
    if not entries:
        raise NotFound("No glossary entry for this term.")
    name, plain, senses = next((e for e in entries if e[0] == wanted), entries[0])
    return GlossaryTerm(term=name, plain=plain, senses=list(senses))


def answer_about_document(svc: Services, owner_id: str, document_id: str, question: str) -> Answer:
    """A grounded answer from one SUCCEEDED document of the owner's."""
    result = ready_result(svc, owner_id, document_id)
    from healthchat.qa.service import answer_document_question

    answer: Answer = answer_document_question(svc, result, question)
    return answer


def answer_general(svc: Services, question: str) -> Answer:
    """A grounded answer from the knowledge base (no document)."""
    from healthchat.qa.service import answer_general_question

    answer: Answer = answer_general_question(svc, question)
    return answer
