"""In-memory BlobStore, plus the key rules every BlobStore adapter shares (``check_key``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from healthchat.domain.errors import NotFoundError


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative ``/``-separated path, else raise ``ValueError``.

    Rejected: empty keys, absolute keys, backslashes, NUL, and empty, ``.`` or ``..`` segments.
    The message never quotes the key (keys carry file names, which may be PHI).
    """
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError("Blob keys must be non-empty relative paths without backslashes.")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError("Blob keys must not contain empty, '.' or '..' segments.")
    return key


def check_prefix(prefix: str) -> str:
    """Like :func:`check_key`, for list prefixes: empty is allowed, and so is a trailing ``/``."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class MemoryBlobStore:
    """Bytes in a dict guarded by a lock; for tests and ``HEALTHCHAT_STORAGE=memory``."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        check_key(key)
        with self._lock:
            self._objects[key] = bytes(data)

    def get(self, key: str) -> bytes:
        check_key(key)
        with self._lock:
            try:
                return self._objects[key]
            except KeyError:
                raise NotFoundError() from None

    def size(self, key: str) -> int | None:
        check_key(key)
        with self._lock:
            data = self._objects.get(key)
        return None if data is None else len(data)

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        with self._lock:
            keys = sorted(k for k in self._objects if k.startswith(prefix))
        yield from keys
