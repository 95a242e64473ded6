"""The HTTP API on the embedded runtime's storage (folder + SQLite) with the local upload URL, as
``healthchat serve`` uses it: POST, the PUT the local server accepts, RegisterDocument, DELETE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from test_api import PHI, assert_error, call, http_event

from healthchat.adapters.local.upload_urls import LocalUploadUrls, UploadTokenError
from healthchat.config import Settings
from healthchat.domain.models import Status
from healthchat.stages.register import register_document
from healthchat.wiring import Services, reset_services

OWNER = "local-user"


@pytest.fixture
def svc(tmp_home: Path) -> Iterator[Services]:
    services = Services(
        Settings(storage="local", home=tmp_home, auth="local", default_owner=OWNER, max_bytes=4096)
    )
    reset_services(services)
    yield services
    reset_services(None)


def _upload(svc: Services, url: str, document_id: str, data: bytes) -> dict[str, str]:
    """What the local server does for ``PUT /uploads/{document_id}?token=...``: check, store, trigger."""
    urls = svc.upload_urls
    assert isinstance(urls, LocalUploadUrls)
    token = parse_qs(urlsplit(url).query)["token"][0]
    grant = urls.grant(token, document_id)
    assert len(data) <= grant.max_bytes
    owner_id, upload_key = urls.verify(token, document_id)
    svc.uploads.put(upload_key, data, grant.content_type)
    return {"owner_id": owner_id, "document_id": document_id, "upload_key": upload_key}


def test_post_put_register_then_delete_on_local_storage(svc: Services, tmp_home: Path) -> None:
    # WHEN the local user (no token: auth=local) starts an upload
    status, _, created = call(
        http_event(
            "POST", "/documents", owner=None, body={"filename": f"{PHI}.txt", "content_type": "text/plain"}
        )
    )
    assert status == 201
    doc_id = created["document_id"]
    # AND the local server accepts the PUT and starts the pipeline with the trigger it builds
    trigger = _upload(svc, created["upload_url"], doc_id, b"Hemoglobin 11.2 g/dL (low)\n")
    assert trigger["owner_id"] == OWNER and trigger["upload_key"] == f"uploads/{OWNER}/{doc_id}/Jane_Doe.txt"
    registered = register_document(trigger, svc)
    # THEN RegisterDocument keeps the API's id, record and file name
    assert registered.doc.document_id == doc_id and not registered.duplicate
    record = svc.records.get(OWNER, doc_id)
    assert record is not None and record.status == Status.PROCESSING
    assert record.filename == f"{PHI}.txt" and record.content_type == "text/plain"
    assert (tmp_home / "upload.key").is_file()
    # WHEN it is deleted THEN the file, the folder, the record and the claim are gone
    svc.data.put(f"{OWNER}/{doc_id}/extract_text.json", b"{}")
    assert call(http_event("DELETE", f"/documents/{doc_id}", owner=None))[0] == 204
    assert not (tmp_home / "uploads" / "uploads" / OWNER / doc_id).exists()
    assert list(svc.uploads.list(f"uploads/{OWNER}/")) == []
    assert list(svc.data.list(f"{OWNER}/")) == []
    assert svc.records.get(OWNER, doc_id) is None
    assert svc.records.claimed(OWNER, f"{trigger['upload_key']}#") is None
    assert_error(*call(http_event("GET", f"/documents/{doc_id}", owner=None))[::2], 404, "NOT_FOUND")


def test_an_upload_url_is_only_good_for_its_document(svc: Services) -> None:
    body = {"filename": "a.txt", "content_type": "text/plain"}
    first = call(http_event("POST", "/documents", owner=None, body=body))[2]
    second = call(http_event("POST", "/documents", owner=None, body=body))[2]
    with pytest.raises(UploadTokenError):
        _upload(svc, first["upload_url"], second["document_id"], b"x")


def test_the_grant_carries_the_size_limit(svc: Services) -> None:
    created = call(
        http_event("POST", "/documents", owner=None, body={"filename": "a.png", "content_type": "image/png"})
    )[2]
    urls = svc.upload_urls
    assert isinstance(urls, LocalUploadUrls)
    grant = urls.grant(parse_qs(urlsplit(created["upload_url"]).query)["token"][0], created["document_id"])
    assert grant.max_bytes == 4096 and grant.content_type == "image/png"
