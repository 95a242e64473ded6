"""In-memory RecordStore, plus the rules every RecordStore adapter shares (updates, cursors, claims)."""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from healthchat.domain.errors import NotFoundError
from healthchat.domain.models import DocumentRecord, Status, utcnow
from healthchat.ports import RecordPage


def record_with_updates(record: DocumentRecord, fields: Mapping[str, Any]) -> DocumentRecord:
    """A validated copy of ``record`` with ``fields`` set and ``updated_at`` refreshed.

    Unknown field names raise ``ValueError`` (a typo must not pass silently), and so do invalid values
    (pydantic's ``ValidationError`` is a ``ValueError``).
    """
    unknown = set(fields) - set(DocumentRecord.model_fields)
    if unknown:
        raise ValueError(f"Not DocumentRecord fields: {sorted(unknown)}")
    data = record.model_dump()
    data.update(fields)
    if "updated_at" not in fields:
        data["updated_at"] = utcnow()
    return DocumentRecord.model_validate(data)


def encode_cursor(document_id: str) -> str:
    """The opaque page cursor: the last document id returned, URL-safe base64 (same in every adapter)."""
    return base64.urlsafe_b64encode(document_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("Invalid page cursor.") from None


def check_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError("limit must be at least 1.")
    return limit


def claim_belongs_to(claimed_id: str, document_id: str) -> bool:
    """Whether a claim value names ``document_id``.

    RegisterDocument claims with ``"{document_id}:{nonce}"``; a plain id is accepted too. Deleting a
    document deletes its claims, so a later upload of the same key is a new document, not a duplicate.
    """
    return claimed_id == document_id or claimed_id.startswith(f"{document_id}:")


class MemoryRecordStore:
    """Records as JSON (so reads return fresh, validated copies, like the durable stores) under a lock."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], str] = {}
        self._claims: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def put(self, record: DocumentRecord) -> None:
        with self._lock:
            self._records[(record.owner_id, record.document_id)] = record.model_dump_json()

    def get(self, owner_id: str, document_id: str) -> DocumentRecord | None:
        with self._lock:
            raw = self._records.get((owner_id, document_id))
        return None if raw is None else DocumentRecord.model_validate_json(raw)

    def update(self, owner_id: str, document_id: str, **fields: Any) -> DocumentRecord:
        with self._lock:
            raw = self._records.get((owner_id, document_id))
            if raw is None:
                raise NotFoundError()
            record = record_with_updates(DocumentRecord.model_validate_json(raw), fields)
            self._records[(owner_id, document_id)] = record.model_dump_json()
        return record

    def list_owner(self, owner_id: str, limit: int = 50, cursor: str | None = None) -> RecordPage:
        check_limit(limit)
        after = decode_cursor(cursor) if cursor else None
        with self._lock:
            ids = sorted((d for (o, d) in self._records if o == owner_id), reverse=True)
            if after is not None:
                ids = [d for d in ids if d < after]
            page = [DocumentRecord.model_validate_json(self._records[(owner_id, d)]) for d in ids[:limit]]
        more = len(ids) > limit
        return RecordPage(records=page, cursor=encode_cursor(page[-1].document_id) if more else None)

    def scan(self, status: Status | None = None) -> Iterator[DocumentRecord]:
        with self._lock:
            raws = list(self._records.values())
        for raw in raws:
            record = DocumentRecord.model_validate_json(raw)
            if status is None or record.status == status:
                yield record

    def delete(self, owner_id: str, document_id: str) -> None:
        with self._lock:
            self._records.pop((owner_id, document_id), None)
            for key, claimed_id in list(self._claims.items()):
                if key[0] == owner_id and claim_belongs_to(claimed_id, document_id):
                    del self._claims[key]

    def claim(self, owner_id: str, source_key: str, document_id: str) -> str:
        with self._lock:
            return self._claims.setdefault((owner_id, source_key), document_id)

    def claimed(self, owner_id: str, source_key: str) -> str | None:
        with self._lock:
            return self._claims.get((owner_id, source_key))
