"""RecordStore over SQLite (stdlib): WAL, one connection per operation, so any thread may call it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from healthchat.adapters.memory.records import (
    check_limit,
    decode_cursor,
    encode_cursor,
    record_with_updates,
)
from healthchat.domain.errors import NotFoundError
from healthchat.domain.models import DocumentRecord, Status
from healthchat.ports import RecordPage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    owner_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    status TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (owner_id, document_id)
);
CREATE INDEX IF NOT EXISTS documents_status ON documents (status);
CREATE TABLE IF NOT EXISTS claims (
    owner_id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (owner_id, source_key)
);
"""
_BUSY_TIMEOUT_S = 30.0
_SCAN_BATCH = 500


class SqliteRecordStore:
    """Records in the ``documents`` table (the record's JSON plus its key and status), claims in ``claims``.

    Parameters
    ----------
    path:
        The database file; it and its folder are created owner-only (0600 / 0700). SQLite gives the
        ``-wal`` and ``-shm`` files the database file's permissions.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit (isolation_level=None): each statement is its own transaction unless BEGIN is used.
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed data
            yield db
        finally:
            db.close()

    def put(self, record: DocumentRecord) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO documents (owner_id, document_id, status, json) VALUES (?, ?, ?, ?)",
                (record.owner_id, record.document_id, record.status.value, record.model_dump_json()),
            )

    def get(self, owner_id: str, document_id: str) -> DocumentRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT json FROM documents WHERE owner_id = ? AND document_id = ?", (owner_id, document_id)
            ).fetchone()
        return None if row is None else DocumentRecord.model_validate_json(row[0])

    def update(self, owner_id: str, document_id: str, **fields: Any) -> DocumentRecord:
        with self._connect() as db:
            # BEGIN IMMEDIATE takes the write lock before the read: concurrent updates serialise.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT json FROM documents WHERE owner_id = ? AND document_id = ?",
                    (owner_id, document_id),
                ).fetchone()
                if row is None:
                    raise NotFoundError()
                record = record_with_updates(DocumentRecord.model_validate_json(row[0]), fields)
                db.execute(
                    "UPDATE documents SET status = ?, json = ? WHERE owner_id = ? AND document_id = ?",
                    (record.status.value, record.model_dump_json(), owner_id, document_id),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return record

    def list_owner(self, owner_id: str, limit: int = 50, cursor: str | None = None) -> RecordPage:
        check_limit(limit)
        sql = "SELECT json FROM documents WHERE owner_id = ?"
        args: list[Any] = [owner_id]
        if cursor:
            sql += " AND document_id < ?"
            args.append(decode_cursor(cursor))
        sql += " ORDER BY document_id DESC LIMIT ?"
        args.append(limit + 1)  # one extra row tells whether there is a next page
        with self._connect() as db:
            rows = db.execute(sql, args).fetchall()
        records = [DocumentRecord.model_validate_json(r[0]) for r in rows[:limit]]
        more = len(rows) > limit
        return RecordPage(records=records, cursor=encode_cursor(records[-1].document_id) if more else None)

    def scan(self, status: Status | None = None) -> Iterator[DocumentRecord]:
        """Every record (of ``status``), read in rowid batches so no connection is held between them."""
        where = "" if status is None else " AND status = ?"
        last = 0
        while True:
            args: list[Any] = [last] + ([] if status is None else [status.value]) + [_SCAN_BATCH]
            with self._connect() as db:
                rows = db.execute(
                    f"SELECT rowid, json FROM documents WHERE rowid > ?{where} ORDER BY rowid LIMIT ?", args
                ).fetchall()
            for _rowid, raw in rows:
                yield DocumentRecord.model_validate_json(raw)
            if len(rows) < _SCAN_BATCH:
                return
            last = rows[-1][0]

    def delete(self, owner_id: str, document_id: str) -> None:
        """Delete the record and its claims (see ``claim_belongs_to``)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM documents WHERE owner_id = ? AND document_id = ?", (owner_id, document_id)
            )
            db.execute(
                "DELETE FROM claims WHERE owner_id = ?"
                " AND (document_id = ? OR substr(document_id, 1, ?) = ?)",
                (owner_id, document_id, len(document_id) + 1, f"{document_id}:"),
            )
            db.execute("COMMIT")

    def claim(self, owner_id: str, source_key: str, document_id: str) -> str:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the insert and the read see one state (no delete in between)
            db.execute(
                "INSERT OR IGNORE INTO claims (owner_id, source_key, document_id) VALUES (?, ?, ?)",
                (owner_id, source_key, document_id),
            )
            row = db.execute(
                "SELECT document_id FROM claims WHERE owner_id = ? AND source_key = ?", (owner_id, source_key)
            ).fetchone()
            db.execute("COMMIT")
        return str(row[0])

    def claimed(self, owner_id: str, source_key: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT document_id FROM claims WHERE owner_id = ? AND source_key = ?", (owner_id, source_key)
            ).fetchone()
        return None if row is None else str(row[0])
