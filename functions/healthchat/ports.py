"""Ports: the interfaces the stages depend on; adapters under ``healthchat.adapters`` implement them.

Every port has an in-memory adapter (``adapters/memory``), a local one (``adapters/local``) and
an AWS one (``adapters/aws``); ``tests/contract`` runs one suite per port over all of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from healthchat.domain.models import DocumentRecord, PlainLanguage, Status, Summary


@runtime_checkable
class BlobStore(Protocol):
    """Bytes by key (S3 bucket / folder).

    Keys are ``/``-separated relative paths; ``..`` and absolute keys are rejected.
    """

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ``NotFoundError`` if there is none."""
        ...

    def size(self, key: str) -> int | None:
        """Size in bytes, or None if the object does not exist (no download)."""
        ...

    def delete(self, key: str) -> None:
        """Erase the object (on a versioned S3 bucket, every version); a missing key is a no-op."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]: ...


@dataclass
class RecordPage:
    records: list[DocumentRecord]
    cursor: str | None = None


@runtime_checkable
class RecordStore(Protocol):
    """Document records keyed by (owner, document id), plus idempotency claims on upload objects."""

    def put(self, record: DocumentRecord) -> None:
        """Create or replace the record."""
        ...

    def get(self, owner_id: str, document_id: str) -> DocumentRecord | None: ...

    def update(self, owner_id: str, document_id: str, **fields: Any) -> DocumentRecord:
        """Set fields of an existing record (and ``updated_at``); ``NotFoundError`` if none."""
        ...

    def list_owner(self, owner_id: str, limit: int = 50, cursor: str | None = None) -> RecordPage:
        """The owner's records, newest first (ULIDs sort by time)."""
        ...

    def scan(self, status: Status | None = None) -> Iterator[DocumentRecord]:
        """Every record, optionally of one status (batch reprocessing)."""
        ...

    def delete(self, owner_id: str, document_id: str) -> None: ...

    def claim(self, owner_id: str, source_key: str, document_id: str) -> str:
        """Atomically bind an upload object (key + version/etag) to a document id.

        Returns the id that holds the claim: ``document_id`` if this call won, else the id of
        the earlier claim (a duplicate event).
        """
        ...

    def claimed(self, owner_id: str, source_key: str) -> str | None: ...


@dataclass
class OcrPage:
    text: str
    confidence: float | None  # 0..100 mean word confidence, None if the engine gives none


@runtime_checkable
class OcrEngine(Protocol):
    """Reads text from one page image (PNG/JPEG/TIFF bytes)."""

    name: str

    def read_page(self, image: bytes) -> OcrPage: ...


@dataclass
class EntityResult:
    entities: list[dict[str, Any]]
    model_version: str
    units: int = 0  # billed units (Comprehend Medical: ceil(chars/100) per call, min 1)
    usd: float = 0.0


@runtime_checkable
class MedicalExtractor(Protocol):
    """Entities in Comprehend Medical DetectEntitiesV2 shape, offsets into ``text``."""

    name: str

    def detect_entities(self, text: str) -> EntityResult: ...


@runtime_checkable
class Summarizer(Protocol):
    name: str

    def summarize(
        self, text: str, entities: Sequence[dict[str, Any]], labs: Sequence[dict[str, Any]]
    ) -> Summary: ...


@runtime_checkable
class Simplifier(Protocol):
    name: str

    def simplify(
        self, summary: Summary, text: str, *, entities: Sequence[dict[str, Any]] | None = None
    ) -> PlainLanguage:
        """Plain-language rewrite of ``summary``; ``text`` is the document and ``entities`` its extracted
        entities (an engine that checks a model's output against them uses them; others may ignore them)."""
        ...


@dataclass
class Execution:
    execution_id: str
    document_id: str
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PipelineStarter(Protocol):
    """Starts the document pipeline for a trigger (the reprocess entry point uses it)."""

    def start(self, trigger: dict[str, Any], name: str | None = None) -> str: ...


@dataclass(frozen=True)
class UploadTicket:
    """Where and how a client sends a file's bytes: ``method`` ``url`` with exactly ``headers``."""

    url: str
    expires_in: int  # seconds the URL stays valid
    method: str = "PUT"
    headers: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class UploadUrls(Protocol):
    """Short-lived upload URLs for ``POST /documents`` (a presigned S3 PUT; an HMAC-signed local URL)."""

    def create(
        self,
        owner_id: str,
        document_id: str,
        key: str,
        content_type: str,
        max_bytes: int,
        *,
        declared_bytes: int | None = None,
    ) -> UploadTicket:
        """A URL that accepts one PUT of at most ``max_bytes`` bytes of ``content_type`` into ``key``.

        Parameters
        ----------
        owner_id, document_id:
            Whose document the upload is for; ``key`` is ``uploads/{owner_id}/{document_id}/{file}``.
        content_type:
            The media type the client declared; the URL is only valid with this ``Content-Type``.
        max_bytes:
            The size limit; enforced on receipt where the adapter can (locally), else by RegisterDocument.
        declared_bytes:
            The file's size as the client declared it (at most ``max_bytes``): the upload must be exactly
            this size (S3 signs it as Content-Length; locally it becomes the limit).
        """
        ...
