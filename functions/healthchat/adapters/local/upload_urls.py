"""UploadUrls for ``healthchat serve``: ``{public_url}/uploads/{document_id}?token=...`` with an HMAC token.

The token is hand-made with the stdlib (``hmac``, SHA-256) rather than a JWT library: it is issued and
checked by the same machine with one secret, so it needs no algorithm negotiation, keys or claims
registry, only an expiry and a MAC. Like an S3 presigned URL it carries the upload key (which holds the
file name), so servers must not log query strings.

The secret is 32 random bytes in ``$HEALTHCHAT_HOME/upload.key``, created 0600 on first use; deleting
that file revokes every outstanding URL.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from healthchat.adapters.memory.blob import check_key
from healthchat.domain.documents import check_upload_grant
from healthchat.ports import UploadTicket

_VERSION = "v1"
_SECRET_BYTES = 32


class UploadTokenError(ValueError):
    """An upload token that is malformed, forged, expired, or for another document (PHI-free message)."""


@dataclass(frozen=True)
class UploadGrant:
    """What a valid token allows: one PUT of ``content_type``, at most ``max_bytes``, into ``upload_key``."""

    owner_id: str
    document_id: str
    upload_key: str
    content_type: str
    max_bytes: int
    expires_at: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path``; created (0600, in a 0700 folder) if missing. Safe across processes:
    the file is written under a temporary name and hard-linked into place, so a reader never sees a
    partial key and two creators agree on the first one linked."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if not data:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-key-", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(_SECRET_BYTES))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        data = path.read_bytes()
    if len(data) < _SECRET_BYTES:
        raise RuntimeError("The upload key file is damaged; delete upload.key in HEALTHCHAT_HOME.")
    return data


class LocalUploadUrls:
    """Signed upload URLs for the local HTTP server, checked again by :meth:`verify` when the PUT arrives.

    Parameters
    ----------
    secret_path:
        Where the HMAC secret lives (``settings.home / "upload.key"``); read or created on first use.
    public_url:
        The base URL of ``healthchat serve`` (``HEALTHCHAT_PUBLIC_URL``); empty gives a URL relative
        to the server the client called (``/uploads/...``), which a same-origin web app can use.
    ttl:
        Seconds each URL stays valid.
    clock:
        Returns the current Unix time (tests pass a fake one).
    """

    def __init__(
        self,
        secret_path: Path,
        public_url: str = "",
        ttl: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret_path = Path(secret_path)
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl
        self.clock = clock
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def _key(self) -> bytes:
        with self._lock:
            if self._secret is None:
                self._secret = load_or_create_secret(self.secret_path)
            return self._secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key(), f"{_VERSION}.{payload}".encode(), hashlib.sha256).digest())

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
        """A signed local URL; with ``declared_bytes`` the upload may be at most that size (the
        server answers 413 past it), the local counterpart of S3's signed Content-Length."""
        check_upload_grant(owner_id, document_id, key, max_bytes, declared_bytes)
        check_key(key)
        claims = {
            "o": owner_id,
            "d": document_id,
            "k": key,
            "t": content_type,
            "m": int(declared_bytes if declared_bytes is not None else max_bytes),
            "x": int(self.clock()) + self.ttl,
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        token = f"{_VERSION}.{payload}.{self._mac(payload)}"
        return UploadTicket(
            url=f"{self.public_url}/uploads/{document_id}?token={token}",
            expires_in=self.ttl,
            method="PUT",
            headers={"Content-Type": content_type},
        )

    def grant(self, token: str, document_id: str) -> UploadGrant:
        """Check ``token`` for a PUT to ``/uploads/{document_id}`` and return what it allows.

        Raises
        ------
        UploadTokenError
            If the token is malformed, its MAC does not match, it has expired, or it names another
            document. Messages never quote the token.
        """
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise UploadTokenError("The upload link is not valid.")
        _, payload, mac = parts
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise UploadTokenError("The upload link is not valid.")
        try:
            claims = json.loads(_unb64(payload))
            grant = UploadGrant(
                owner_id=str(claims["o"]),
                document_id=str(claims["d"]),
                upload_key=str(claims["k"]),
                content_type=str(claims["t"]),
                max_bytes=int(claims["m"]),
                expires_at=int(claims["x"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise UploadTokenError("The upload link is not valid.") from None
        if grant.document_id != document_id:
            raise UploadTokenError("The upload link is for another document.")
        if self.clock() >= grant.expires_at:
            raise UploadTokenError("The upload link has expired; ask for a new one.")
        return grant

    def verify(self, token: str, document_id: str) -> tuple[str, str]:
        """``(owner_id, upload_key)`` for a valid token (see :meth:`grant` for the checks and errors)."""
        grant = self.grant(token, document_id)
        return grant.owner_id, grant.upload_key
