"""The local stand-in for a presigned S3 PUT: ``PUT /uploads/{document_id}?token=...`` (``healthchat serve``).

The HMAC token (``adapters/local/upload_urls``) names the owner, key, media type and size limit; the body is
read only up to the limit, stored in the upload store, and the pipeline is queued on the server's runtime.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from werkzeug.wrappers import Request, Response

from healthchat.domain.models import Status
from healthchat.local.http_event import error_response
from healthchat.local.jobs import PipelineJobs
from healthchat.wiring import Services, services

_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_READ_CHUNK = 64 * 1024


def handle_upload(request: Request, document_id: str, jobs: PipelineJobs, lock: threading.Lock) -> Response:
    """``PUT /uploads/{id}?token=``: check the token, type and size, store the file, queue the pipeline."""
    if request.method != "PUT":
        return error_response(405, "METHOD_NOT_ALLOWED", "Send the file with PUT.", {"Allow": "PUT"})
    if not _ULID.fullmatch(document_id):
        return error_response(404, "NOT_FOUND", "No such document.")
    token = request.args.get("token", "")
    if not token:
        return error_response(401, "UNAUTHORIZED", "The upload link has no token.")
    svc = services()
    from healthchat.adapters.local.upload_urls import LocalUploadUrls, UploadTokenError

    urls = svc.upload_urls
    if not isinstance(urls, LocalUploadUrls):
        return error_response(404, "NOT_FOUND", "Uploads go to the configured upload bucket.")
    try:
        grant = urls.grant(token, document_id)
    except UploadTokenError as exc:
        return error_response(403, "FORBIDDEN", str(exc))
    if request.mimetype != grant.content_type.split(";")[0].strip().lower():
        return error_response(
            415, "UNSUPPORTED_TYPE", "Send the file with the Content-Type given with the upload link."
        )
    limit = min(grant.max_bytes, svc.settings.max_bytes)
    with lock:
        refusal = _check_upload_target(svc, grant.owner_id, document_id, grant.upload_key)
        if refusal is not None:
            return refusal
        data = None if (request.content_length or 0) > limit else _read_limited(request, limit)
        if data is None:
            return _too_large(limit)
        svc.uploads.put(grant.upload_key, data, content_type=grant.content_type)
    trigger = {"owner_id": grant.owner_id, "document_id": document_id, "upload_key": grant.upload_key}
    jobs.submit(trigger)
    body = {"document_id": document_id, "status": "PROCESSING", "status_url": f"/documents/{document_id}"}
    return Response(_json(body), status=202, mimetype="application/json")


def _check_upload_target(svc: Services, owner_id: str, document_id: str, key: str) -> Response | None:
    record = svc.records.get(owner_id, document_id)
    if record is None:
        return error_response(404, "NOT_FOUND", "No such document.")
    if svc.uploads.size(key) is not None:
        return error_response(409, "ALREADY_UPLOADED", "This document's file was already uploaded.")
    if record.status != Status.PROCESSING:
        # e.g. a document that failed before its file arrived: its link cannot start it again.
        return error_response(
            409, "NOT_WAITING_FOR_UPLOAD", "This document no longer waits for a file; add the file again."
        )
    return None


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _too_large(limit: int) -> Response:
    """413; the document stays PROCESSING with nothing stored, so a retry of the right size with the same
    link still works (the link's expiry bounds how long it waits)."""
    response = error_response(413, "TOO_LARGE", f"The file is larger than the {readable_size(limit)} limit.")
    response.headers["Connection"] = "close"  # the unread rest of the body must not be parsed as a request
    return response


def readable_size(n: int) -> str:
    """'10 bytes', '1 byte', '1.5 KB', '10 MB': at most one decimal, no trailing '.0'."""
    if n < 1024:
        return f"{n} byte" if n == 1 else f"{n} bytes"
    value, unit = (n / 1048576, "MB") if n >= 1048576 else (n / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes ``limit`` bytes (never reads more than limit + 1)."""
    stream = request.stream
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None
