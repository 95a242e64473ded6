"""The HTTP API end to end through ``lambda_handler`` with real HTTP API v2 events, on memory storage.

Events are built from events/api_get_document.json (the shape API Gateway sends); the claims of its JWT
authorizer carry the owner, as they do behind API Gateway and ``healthchat serve``.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from healthchat.api import service
from healthchat.api.app import lambda_handler
from healthchat.config import Settings
from healthchat.domain.models import (
    Condition,
    DocRef,
    DocumentRecord,
    DocumentResult,
    ErrorInfo,
    LabResult,
    Medication,
    SourceInfo,
    Status,
)
from healthchat.local.lambda_endpoint import LocalLambdaContext
from healthchat.qa.models import Answer, Citation
from healthchat.stages.artifacts import artifact_key, result_key
from healthchat.wiring import Services, reset_services

EVENTS = Path(__file__).resolve().parents[2] / "events"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
OWNER_A = "user-a-1f3c"
OWNER_B = "user-b-9d2e"
PHI = "Jane Doe"  # stands for anything a client might send that must never come back in an error
_TEMPLATE = json.loads((EVENTS / "api_get_document.json").read_text())


# ---- helpers shared by the other test_api_* modules ----------------------------------------------


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, Any] | None = None,
    owner: str | None = OWNER_A,
    claims: dict[str, Any] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """An HTTP API v2 event as API Gateway sends it for ``method path`` (``owner`` -> the JWT ``sub``)."""
    event = copy.deepcopy(_TEMPLATE)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event.pop("pathParameters", None)
    event["headers"].pop("authorization", None)
    event["headers"]["content-type"] = content_type
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"]))
    if claims is None and owner is not None:
        claims = {**event["requestContext"]["authorizer"]["jwt"]["claims"], "sub": owner}
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    return event


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke the Lambda handler; returns status, headers, and the body (parsed if JSON)."""
    response = lambda_handler(event, LocalLambdaContext(function_name="QueryApi"))
    headers = response.get("headers", {})
    body = response.get("body") or ""
    if "json" in headers.get("Content-Type", ""):
        body = json.loads(body)
    return response["statusCode"], headers, body


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert PHI not in body["error"]["message"]


def sample_result(owner: str, document_id: str) -> DocumentResult:
    return DocumentResult(
        document_id=document_id,
        owner_id=owner,
        status=Status.SUCCEEDED,
        source=SourceInfo(filename=f"{PHI} labs.pdf", content_type="application/pdf", pages=1),
        labs=[
            LabResult(
                name="LDL cholesterol", value="162", unit="mg/dL", flag="high", begin_offset=0, end_offset=10
            )
        ],
        medications=[Medication(name="metformin", strength="500 mg", begin_offset=11, end_offset=20)],
        conditions=[
            Condition(name="type 2 diabetes mellitus", icd10cm="E11.9", begin_offset=21, end_offset=40)
        ],
    )


def store_document(svc: Services, owner: str, status: Status = Status.SUCCEEDED) -> str:
    """A document as the pipeline leaves it: upload, claim, stage artifacts, result and record."""
    from ulid import ULID

    document_id = str(ULID())
    upload_key = f"uploads/{owner}/{document_id}/{PHI.replace(' ', '_')}.pdf"
    doc = DocRef(owner_id=owner, document_id=document_id, upload_key=upload_key)
    svc.uploads.put(upload_key, b"%PDF-1.4 labs")
    svc.records.claim(owner, f"{upload_key}#", f"{document_id}:0123abcd")
    svc.data.put(artifact_key(doc, "extract_text"), b"{}")
    record = DocumentRecord(
        owner_id=owner, document_id=document_id, status=status, filename=f"{PHI}.pdf", upload_key=upload_key
    )
    if status == Status.SUCCEEDED:
        svc.data.put(result_key(doc), sample_result(owner, document_id).model_dump_json().encode())
        record.result_key = result_key(doc)
    if status == Status.FAILED:
        record.error = ErrorInfo(code="NO_TEXT_FOUND", message="We could not read any text in this document.")
    svc.records.put(record)
    return document_id


@pytest.fixture
def make_services(tmp_home: Path) -> Iterator[Any]:
    """Installs process-wide Services for the handler; ``make_services(**settings)`` may be called again."""

    def make(**fields: Any) -> Services:
        svc = Services(Settings(**{"storage": "memory", "home": tmp_home, **fields}))
        reset_services(svc)
        return svc

    yield make
    reset_services(None)


@pytest.fixture
def svc(make_services: Any) -> Services:
    return make_services()  # type: ignore[no-any-return]


@pytest.fixture
def fake_qa(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, str]]:
    """Stands in for healthchat.qa.service (tested on its own); records each call."""
    calls: list[tuple[str, Any, str]] = []
    module = types.ModuleType("healthchat.qa.service")

    def answer_document_question(svc: Services, result: DocumentResult, question: str) -> Answer:
        calls.append(("document", result, question))
        return Answer(
            answer="Your LDL cholesterol was 162 mg/dL, which is high.",
            citations=[
                Citation(text="LDL 162 mg/dL", begin_offset=0, end_offset=13, document_id=result.document_id)
            ],
            grounded=True,
        )

    def answer_general_question(svc: Services, question: str) -> Answer:
        calls.append(("general", None, question))
        return Answer(answer="I could not find that.", grounded=False, kind="no_answer")

    module.answer_document_question = answer_document_question  # type: ignore[attr-defined]
    module.answer_general_question = answer_general_question  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "healthchat.qa.service", module)
    return calls


# ---- POST /documents ------------------------------------------------------------------------------


def test_post_creates_a_processing_record_and_an_upload_url(svc: Services) -> None:
    # WHEN a client starts an upload
    status, _, body = call(
        http_event(
            "POST", "/documents", body={"filename": f"{PHI} labs.pdf", "content_type": "application/pdf"}
        )
    )
    # THEN it gets a ULID, a PUT URL with the headers to send, and where to poll
    assert status == 201, body
    doc_id = body["document_id"]
    assert len(doc_id) == 26
    assert body["upload_method"] == "PUT"
    assert body["upload_headers"] == {"Content-Type": "application/pdf"}
    assert body["upload_url"].startswith(f"/uploads/{doc_id}?token=")
    assert body["expires_in"] == svc.settings.upload_url_ttl
    assert body["status_url"] == f"/documents/{doc_id}"
    # AND the record exists at once, PROCESSING, under the upload key the pipeline expects
    record = svc.records.get(OWNER_A, doc_id)
    assert record is not None and record.status == Status.PROCESSING
    assert record.filename == f"{PHI} labs.pdf"
    assert record.upload_key == f"uploads/{OWNER_A}/{doc_id}/Jane_Doe_labs.pdf"
    # AND polling right away never 404s
    status, _, polled = call(http_event("GET", body["status_url"]))
    assert status == 200
    assert polled["status"] == "PROCESSING" and polled["result"] is None and polled["error"] is None


def test_a_document_whose_file_never_arrived_fails_once_its_upload_link_expired(svc: Services) -> None:
    from datetime import timedelta

    from healthchat.api.service import UPLOAD_GRACE_SECONDS

    # GIVEN two documents created, one uploaded and one whose file never came, both long ago
    ids = [
        call(http_event("POST", "/documents", body={"filename": f"{n}.txt", "content_type": "text/plain"}))[
            2
        ]["document_id"]
        for n in ("abandoned", "uploaded")
    ]
    uploaded = svc.records.get(OWNER_A, ids[1])
    assert uploaded is not None
    svc.uploads.put(uploaded.upload_key, b"Glucose 99 mg/dL")
    long_ago = {
        "created_at": uploaded.created_at
        - timedelta(seconds=svc.settings.upload_url_ttl + UPLOAD_GRACE_SECONDS + 1)
    }
    for doc_id in ids:
        svc.records.update(OWNER_A, doc_id, **long_ago)
    # WHEN a client polls and lists
    _, _, abandoned = call(http_event("GET", f"/documents/{ids[0]}"))
    _, _, listed = call(http_event("GET", "/documents"))
    # THEN the abandoned one is FAILED with a clear error, recorded; the uploaded one is still processing
    assert abandoned["status"] == "FAILED" and abandoned["error"]["code"] == "EMPTY_FILE"
    assert "upload link expired" in abandoned["error"]["message"]
    assert {d["document_id"]: d["status"] for d in listed["documents"]} == {
        ids[0]: "FAILED",
        ids[1]: "PROCESSING",
    }
    assert svc.records.get(OWNER_A, ids[0]).status == Status.FAILED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\scans\\labs.pdf", "labs.pdf"),
        ("folder/sub\\note.txt", "note.txt"),
        ("lab\x00s\u202efdp.exe", "labsfdp.exe"),  # NUL and a right-to-left override removed
        ("reports/", "document"),
        ("..", "document"),
        ("\x07\x1b", "document"),
    ],
)
def test_only_the_base_filename_is_stored(svc: Services, sent: str, kept: str) -> None:
    # WHEN a client sends a name with directories or control characters
    status, _, body = call(
        http_event("POST", "/documents", body={"filename": sent, "content_type": "text/plain"})
    )
    # THEN only the base name is stored and shown back
    assert status == 201, body
    record = svc.records.get(OWNER_A, body["document_id"])
    assert record is not None and record.filename == kept
    _, _, polled = call(http_event("GET", body["status_url"]))
    assert polled["filename"] == kept
    assert record.upload_key.endswith(f"/{kept}")


def test_a_fresh_document_without_its_file_is_still_processing(svc: Services) -> None:
    _, _, created = call(
        http_event("POST", "/documents", body={"filename": "a.txt", "content_type": "text/plain"})
    )
    _, _, polled = call(http_event("GET", f"/documents/{created['document_id']}"))
    assert polled["status"] == "PROCESSING" and polled["error"] is None


def test_local_upload_url_uses_the_public_url(make_services: Any) -> None:
    make_services(public_url="http://127.0.0.1:8765")
    status, _, body = call(
        http_event("POST", "/documents", body={"filename": "a.txt", "content_type": "text/plain"})
    )
    assert status == 201
    assert body["upload_url"].startswith(f"http://127.0.0.1:8765/uploads/{body['document_id']}?token=v1.")


@pytest.mark.parametrize("content_type", ["application/zip", "application/zip; name=a.pdf", "text/plain2"])
def test_unsupported_type_is_415(svc: Services, content_type: str) -> None:
    status, _, body = call(
        http_event("POST", "/documents", body={"filename": "x.zip", "content_type": content_type})
    )
    assert_error(status, body, 415, "UNSUPPORTED_TYPE")
    assert svc.records.list_owner(OWNER_A).records == []


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", "Application/PDF", "image/png ; x=1"])
def test_a_supported_media_type_with_parameters_is_accepted(svc: Services, content_type: str) -> None:
    # WHEN the declared type carries parameters or another letter case
    status, _, body = call(
        http_event("POST", "/documents", body={"filename": "a.txt", "content_type": content_type})
    )
    # THEN it is accepted by its media type, and the upload must send the type as declared
    assert status == 201, body
    assert body["upload_headers"]["Content-Type"] == content_type
    from healthchat.adapters.local.upload_urls import LocalUploadUrls

    urls = svc.upload_urls
    assert isinstance(urls, LocalUploadUrls)
    assert urls.grant(body["upload_url"].split("token=")[1], body["document_id"]).content_type == content_type


def test_a_declared_size_becomes_the_uploads_limit(make_services: Any) -> None:
    svc = make_services(max_bytes=4096)
    from healthchat.adapters.local.upload_urls import LocalUploadUrls

    urls = svc.upload_urls
    assert isinstance(urls, LocalUploadUrls)
    for declared, limit in ((100, 100), (None, 4096)):
        request = {"filename": "a.pdf", "content_type": "application/pdf", "bytes": declared}
        status, _, body = call(http_event("POST", "/documents", body=request))
        assert status == 201, body
        assert urls.grant(body["upload_url"].split("token=")[1], body["document_id"]).max_bytes == limit


def test_declared_size_over_the_limit_is_413(make_services: Any) -> None:
    svc = make_services(max_bytes=1024)
    ok = {"filename": "a.pdf", "content_type": "application/pdf", "bytes": 1024}
    assert call(http_event("POST", "/documents", body=ok))[0] == 201
    status, _, body = call(http_event("POST", "/documents", body={**ok, "bytes": 1025}))
    assert_error(status, body, 413, "TOO_LARGE")
    assert len(svc.records.list_owner(OWNER_A).records) == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"content_type": "application/pdf"}, ["body.filename"]),
        ({"filename": "", "content_type": "application/pdf"}, ["body.filename"]),
        ({"filename": PHI * 40, "content_type": "application/pdf"}, ["body.filename"]),
        ({"filename": "a.pdf", "content_type": "application/pdf", "bytes": 0}, ["body.bytes"]),
        ({"filename": "a.pdf", "content_type": "application/pdf", "bytes": PHI}, ["body.bytes"]),
        ({"filename": "a.pdf", "content_type": "application/pdf", PHI: 1}, ["body.(unknown field)"]),
        ({"filename": 7, "content_type": None}, ["body.filename", "body.content_type"]),
        (f'{{"filename": "{PHI}", ', ["body (not valid JSON)"]),
        (None, ["body"]),
    ],
)
def test_invalid_bodies_are_422_naming_fields_not_values(
    svc: Services, payload: Any, fields: list[str]
) -> None:
    status, _, body = call(http_event("POST", "/documents", body=payload))
    assert_error(status, body, 422, "VALIDATION_ERROR")
    assert body["error"]["message"] == "Invalid request: " + ", ".join(fields)


def test_a_body_that_is_not_json_is_415(svc: Services) -> None:
    event = http_event("POST", "/documents", body=f"filename={PHI}", content_type="text/csv")
    status, _, body = call(event)
    assert_error(status, body, 415, "UNSUPPORTED_TYPE")


# ---- GET /documents, GET /documents/{id} -----------------------------------------------------------


def test_list_is_mine_only_newest_first_and_pages_with_a_cursor(svc: Services) -> None:
    mine = [store_document(svc, OWNER_A) for _ in range(5)]
    store_document(svc, OWNER_B)
    seen: list[str] = []
    query: dict[str, Any] = {"limit": 2}
    while True:
        status, _, body = call(http_event("GET", "/documents", query=query))
        assert status == 200
        assert len(body["documents"]) <= 2
        seen += [d["document_id"] for d in body["documents"]]
        if body["next_cursor"] is None:
            break
        query = {"limit": 2, "cursor": body["next_cursor"]}
    assert seen == sorted(mine, reverse=True)
    item = body["documents"][-1]
    assert set(item) == {"document_id", "filename", "status", "error", "created_at", "updated_at"}
    assert call(http_event("GET", "/documents", owner=OWNER_B))[2]["documents"][0]["document_id"] not in mine


def test_list_defaults_to_20(svc: Services) -> None:
    for _ in range(21):
        store_document(svc, OWNER_A, Status.PROCESSING)
    _, _, body = call(http_event("GET", "/documents"))
    assert len(body["documents"]) == 20 and body["next_cursor"]


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": PHI}, {"cursor": "x" * 600}])
def test_bad_list_parameters_are_422(svc: Services, query: dict[str, Any]) -> None:
    status, _, body = call(http_event("GET", "/documents", query=query))
    assert_error(status, body, 422, "VALIDATION_ERROR")
    assert body["error"]["message"] == f"Invalid request: query.{next(iter(query))}"


@pytest.mark.parametrize(
    "cursor",
    [
        "\u00e9t\u00e9",  # not base64
        "!!!!",  # base64 decoding skips these: it used to decode to "" and answer an empty page
        "AAAA",  # base64, but not of a document id
        "SmFuZSBEb2U",  # base64 of a name
    ],
)
def test_a_cursor_that_does_not_decode_to_a_document_id_is_422(svc: Services, cursor: str) -> None:
    store_document(svc, OWNER_A)
    status, _, body = call(http_event("GET", "/documents", query={"cursor": cursor}))
    assert_error(status, body, 422, "VALIDATION_ERROR")
    assert body["error"]["message"] == "Invalid request: query.cursor"


@pytest.mark.parametrize("doc_id", ["not-a-ulid", "01J9ZC0000000000000000000A", "01j9zc0000000000000000000a"])
def test_unknown_or_malformed_ids_are_404(svc: Services, doc_id: str) -> None:
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/fhir")):
        status, _, body = call(http_event(method, f"/documents/{doc_id}{suffix}"))
        assert_error(status, body, 404, "NOT_FOUND")


def test_another_owners_document_is_404_everywhere_and_survives(svc: Services, fake_qa: Any) -> None:
    doc_id = store_document(svc, OWNER_A)
    unknown = call(http_event("GET", "/documents/01J9ZC0000000000000000000A", owner=OWNER_B))
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/fhir", None),
        ("DELETE", "", None),
        ("POST", "/questions", {"question": "What is my LDL?"}),
    ):
        status, _, answer = call(http_event(method, f"/documents/{doc_id}{suffix}", body=body, owner=OWNER_B))
        assert_error(status, answer, 404, "NOT_FOUND")
        assert answer == unknown[2]  # indistinguishable from an id that does not exist
    assert fake_qa == []
    assert call(http_event("GET", f"/documents/{doc_id}"))[0] == 200


def test_succeeded_document_carries_its_result(svc: Services) -> None:
    doc_id = store_document(svc, OWNER_A)
    status, _, body = call(http_event("GET", f"/documents/{doc_id}"))
    assert status == 200
    assert body["status"] == "SUCCEEDED"
    result = DocumentResult.model_validate(body["result"])
    assert result == sample_result(OWNER_A, doc_id)


def test_failed_document_carries_the_failed_result(svc: Services) -> None:
    doc_id = store_document(svc, OWNER_A, Status.FAILED)
    status, _, body = call(http_event("GET", f"/documents/{doc_id}"))
    assert status == 200
    assert body["status"] == "FAILED"
    assert body["error"]["code"] == "NO_TEXT_FOUND"
    assert body["result"]["status"] == "FAILED" and body["result"]["error"]["code"] == "NO_TEXT_FOUND"


# ---- FHIR ------------------------------------------------------------------------------------------


def test_fhir_export_is_a_bundle_of_the_result(svc: Services) -> None:
    doc_id = store_document(svc, OWNER_A)
    status, headers, body = call(http_event("GET", f"/documents/{doc_id}/fhir"))
    assert status == 200
    assert headers["Content-Type"] == "application/fhir+json"
    bundle = body
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == ["Condition", "MedicationStatement", "Observation"]
    assert PHI not in json.dumps(bundle)  # the file name is not part of the export


@pytest.mark.parametrize("state", [Status.PROCESSING, Status.FAILED])
def test_fhir_and_questions_of_an_unfinished_document_are_409(
    svc: Services, fake_qa: Any, state: Status
) -> None:
    doc_id = store_document(svc, OWNER_A, state)
    status, _, body = call(http_event("GET", f"/documents/{doc_id}/fhir"))
    assert_error(status, body, 409, "NOT_READY")
    status, _, body = call(http_event("POST", f"/documents/{doc_id}/questions", body={"question": "Why?"}))
    assert_error(status, body, 409, "NOT_READY")
    assert fake_qa == []


# ---- DELETE ----------------------------------------------------------------------------------------


def test_delete_erases_upload_artifacts_record_and_claim(svc: Services) -> None:
    doc_id = store_document(svc, OWNER_A)
    other = store_document(svc, OWNER_A)
    upload_key = svc.records.get(OWNER_A, doc_id).upload_key  # type: ignore[union-attr]
    status, _, body = call(http_event("DELETE", f"/documents/{doc_id}"))
    assert status == 204 and body == ""
    assert list(svc.uploads.list(f"uploads/{OWNER_A}/{doc_id}/")) == []
    assert list(svc.data.list(f"{OWNER_A}/{doc_id}/")) == []
    assert svc.records.get(OWNER_A, doc_id) is None
    assert svc.records.claimed(OWNER_A, f"{upload_key}#") is None  # a re-upload is a new document
    assert_error(*call(http_event("GET", f"/documents/{doc_id}"))[::2], 404, "NOT_FOUND")
    # AND the owner's other document is untouched
    assert svc.records.get(OWNER_A, other) is not None
    assert list(svc.data.list(f"{OWNER_A}/{other}/"))
    assert list(svc.uploads.list(f"uploads/{OWNER_A}/{other}/"))


def test_delete_erases_a_hand_dropped_upload(svc: Services) -> None:
    doc_id = store_document(svc, OWNER_A, Status.FAILED)
    dropped = f"uploads/{OWNER_A}/scan.pdf"
    svc.uploads.put(dropped, b"%PDF")
    svc.records.update(OWNER_A, doc_id, upload_key=dropped)
    assert call(http_event("DELETE", f"/documents/{doc_id}"))[0] == 204
    assert svc.uploads.size(dropped) is None


# ---- auth ------------------------------------------------------------------------------------------


def test_jwt_mode_without_a_subject_is_401(make_services: Any) -> None:
    make_services(auth="jwt")
    for event in (
        http_event("GET", "/documents", owner=None),
        http_event("GET", "/documents", claims={"iss": "x", "token_use": "id"}),
    ):
        status, _, body = call(event)
        assert_error(status, body, 401, "UNAUTHORIZED")


def test_local_mode_without_claims_is_the_default_owner(make_services: Any) -> None:
    svc = make_services(auth="local", default_owner=OWNER_B)
    doc_id = store_document(svc, OWNER_B)
    status, _, body = call(http_event("GET", "/documents", owner=None))
    assert status == 200 and [d["document_id"] for d in body["documents"]] == [doc_id]


@pytest.mark.parametrize("sub", ["../etc", "a/b", "x" * 129, 42, "..", ".", "...", "user\n", "Jane Doe"])
def test_a_subject_that_cannot_be_an_owner_id_is_401(svc: Services, sub: Any) -> None:
    for method, path, body in (
        ("GET", "/documents", None),
        ("POST", "/documents", {"filename": "a.txt", "content_type": "text/plain"}),
    ):
        status, _, answer = call(http_event(method, path, body=body, claims={"sub": sub}))
        assert_error(status, answer, 401, "UNAUTHORIZED")
    assert list(svc.uploads.list()) == [] and list(svc.records.scan()) == []


# ---- questions -------------------------------------------------------------------------------------


def test_document_question_passes_the_stored_result_and_the_answer_through(
    svc: Services, fake_qa: list[tuple[str, Any, str]]
) -> None:
    doc_id = store_document(svc, OWNER_A)
    status, _, body = call(
        http_event("POST", f"/documents/{doc_id}/questions", body={"question": "Is my LDL high?"})
    )
    assert status == 200, body
    assert Answer.model_validate(body).citations[0].document_id == doc_id
    assert body["grounded"] is True and body["kind"] == "answered"
    [(kind, result, question)] = fake_qa
    assert kind == "document" and question == "Is my LDL high?"
    assert result == sample_result(OWNER_A, doc_id)


def test_general_question_is_answered(svc: Services, fake_qa: list[tuple[str, Any, str]]) -> None:
    status, _, body = call(http_event("POST", "/questions", body={"question": "What is an A1C test?"}))
    assert status == 200
    assert body["kind"] == "no_answer" and body["grounded"] is False
    assert fake_qa == [("general", None, "What is an A1C test?")]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"question": ""}, "body.question"), ({"question": PHI * 130}, "body.question"), ({}, "body.question")],
)
def test_bad_questions_are_422(svc: Services, fake_qa: Any, payload: Any, field: str) -> None:
    doc_id = store_document(svc, OWNER_A)
    for path in (f"/documents/{doc_id}/questions", "/questions"):
        status, _, body = call(http_event("POST", path, body=payload))
        assert_error(status, body, 422, "VALIDATION_ERROR")
        assert body["error"]["message"] == f"Invalid request: {field}"
    assert fake_qa == []


def test_question_about_an_unknown_document_is_404(svc: Services, fake_qa: Any) -> None:
    status, _, body = call(
        http_event("POST", "/documents/01J9ZC0000000000000000000A/questions", body={"question": "Why?"})
    )
    assert_error(status, body, 404, "NOT_FOUND")


def test_a_throttled_chat_model_is_503_with_retry_after(
    svc: Services, fake_qa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from healthchat.domain.errors import ThrottlingError

    def busy(*args: Any) -> Answer:
        raise ThrottlingError(f"Bedrock throttled the request about {PHI}")

    qa = sys.modules["healthchat.qa.service"]
    monkeypatch.setattr(qa, "answer_document_question", busy)
    monkeypatch.setattr(qa, "answer_general_question", busy)
    doc_id = store_document(svc, OWNER_A)
    for path in (f"/documents/{doc_id}/questions", "/questions"):
        # WHEN the chat model throttles a question
        status, headers, body = call(http_event("POST", path, body={"question": "Was my LDL high?"}))
        # THEN the caller is told to retry shortly, not that the server failed
        assert_error(status, body, 503, "THROTTLED")
        assert int(headers["Retry-After"]) > 0
        assert "Bedrock" not in body["error"]["message"]


# ---- glossary --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "term"),
    [
        ("hypertension", "hypertension"),
        ("HYPERTENSION", "hypertension"),
        ("myocardial infarction", "myocardial infarction"),
        ("bid", "bid"),
        ("BID", "BID"),
    ],
)
def test_glossary_lookup_is_case_insensitive(svc: Services, asked: str, term: str) -> None:
    status, _, body = call(http_event("GET", f"/glossary/{quote(asked)}"))
    assert status == 200
    assert body["term"] == term and body["plain"]


def test_glossary_lists_the_senses_of_an_ambiguous_abbreviation(svc: Services) -> None:
    _, _, body = call(http_event("GET", "/glossary/gtt"))
    assert body["senses"] == ["drops", "a steady drip into a vein"]


def test_unknown_glossary_term_is_404(svc: Services) -> None:
    status, _, body = call(http_event("GET", f"/glossary/{quote(PHI)}"))
    assert_error(status, body, 404, "NOT_FOUND")


# ---- errors, OpenAPI, Swagger ----------------------------------------------------------------------


def test_unknown_routes_are_404_in_the_error_shape(svc: Services) -> None:
    for method, path in (("GET", "/nothing"), ("PATCH", "/documents"), ("GET", "/documents/a/b/c")):
        status, _, body = call(http_event(method, path))
        assert_error(status, body, 404, "NOT_FOUND")


def test_unexpected_errors_are_500_without_their_message(
    svc: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise KeyError(f"{PHI} 1970-01-01")

    monkeypatch.setattr(service, "list_documents", explode)
    status, _, body = call(http_event("GET", "/documents"))
    assert_error(status, body, 500, "INTERNAL")
    [record] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert record.error_type == "KeyError" and record.where.startswith("test_api.py:")  # type: ignore[attr-defined]
    assert PHI not in caplog.text


def test_openapi_document_describes_every_route(svc: Services) -> None:
    status, _, schema = call(http_event("GET", "/openapi.json", owner=None))
    assert status == 200
    assert schema["openapi"].startswith("3.") and schema["info"]["title"] == "HealthChat API"
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert operations == {
        ("POST", "/documents"),
        ("GET", "/documents"),
        ("GET", "/documents/{document_id}"),
        ("DELETE", "/documents/{document_id}"),
        ("GET", "/documents/{document_id}/fhir"),
        ("POST", "/documents/{document_id}/questions"),
        ("POST", "/questions"),
        ("GET", "/glossary/{term}"),
    }
    post = schema["paths"]["/documents"]["post"]
    assert set(post["responses"]) == {"201", "401", "413", "415", "422"}
    assert post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    request = schema["components"]["schemas"]["CreateDocumentRequest"]
    # examples, not an enum: a type with parameters (text/plain; charset=utf-8) is accepted too
    assert request["properties"]["content_type"]["examples"] == list(service.UPLOAD_TYPES)
    assert "enum" not in request["properties"]["content_type"]
    for path in ("/documents/{document_id}/questions", "/questions"):
        assert "503" in schema["paths"][path]["post"]["responses"]
    assert "DocumentResult" in schema["components"]["schemas"]


_TRACE_PROBE = """
import contextlib, json, sys
from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

recorded = []

class Segment(BaseSegment):
    def close(self, end_time=None): pass
    def add_subsegment(self, subsegment): pass
    def remove_subsegment(self, subsegment): pass
    def put_annotation(self, key, value): recorded.append(["annotation", key, value])
    def put_metadata(self, key, value, namespace="default"):
        recorded.append(["metadata", key, json.dumps(value, default=str)])
    def add_exception(self, exception, stack, remote=False): recorded.append(["exception", str(exception)])

class Provider(BaseProvider):
    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs): yield Segment()
    def in_subsegment_async(self, name=None, **kwargs): raise NotImplementedError
    def put_annotation(self, key, value): pass
    def put_metadata(self, key, value, namespace="default"): pass
    def patch(self, modules): pass
    def patch_all(self): pass

import healthchat.observability
healthchat.observability.tracer = Tracer(service="hc", provider=Provider(), disabled=False, auto_patch=False)
from healthchat.api.app import lambda_handler
from healthchat.domain.errors import HealthChatError
from healthchat.handlers import event_handler
from healthchat.local.lambda_endpoint import LocalLambdaContext

event = json.loads(sys.stdin.read())
status = lambda_handler(event, LocalLambdaContext(function_name="QueryApi"))["statusCode"]

def failing_stage(event, svc):
    raise HealthChatError("The record of Jane Doe is missing.")

try:
    event_handler(failing_stage)({}, LocalLambdaContext(function_name="Stage"))
except HealthChatError:
    pass
print(json.dumps({"status": status, "recorded": recorded}))
"""


def test_traces_record_no_response_or_error(tmp_home: Path) -> None:
    # GIVEN X-Ray tracing on (a recording provider stands in for the X-Ray SDK)
    event = http_event("GET", f"/glossary/{quote('hypertension')}", owner=None)
    # WHEN the API answers with health data and a pipeline stage fails
    out = subprocess.run(
        [sys.executable, "-c", _TRACE_PROBE],
        input=json.dumps(event),
        cwd=FUNCTIONS,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HEALTHCHAT_STORAGE": "memory", "HEALTHCHAT_HOME": str(tmp_home)},
    )
    probe = json.loads(out.stdout)
    assert probe["status"] == 200
    recorded = probe["recorded"]
    # THEN each handler was traced (its annotations are there) but no response or exception was stored
    assert [r[1] for r in recorded if r[0] == "annotation"].count("ColdStart") == 2
    assert [r for r in recorded if r[0] != "annotation"] == []
    assert "Jane" not in out.stdout and "blood" not in out.stdout


def test_openapi_declares_the_bearer_jwt_on_every_route(svc: Services) -> None:
    _, _, schema = call(http_event("GET", "/openapi.json", owner=None))
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert schema["security"] == [{"bearerAuth": []}]
    # no operation opts out, and the token-free documents are not operations of the schema
    operations = [op for ops in schema["paths"].values() for op in ops.values()]
    assert operations and all("security" not in op for op in operations)
    assert "/openapi.json" not in schema["paths"] and "/swagger" not in schema["paths"]
    filename = schema["components"]["schemas"]["CreateDocumentRequest"]["properties"]["filename"]
    assert "base name" in filename["description"]


def test_swagger_ui_is_served(svc: Services) -> None:
    status, headers, body = call(http_event("GET", "/swagger", owner=None))
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert "swagger-ui" in body and "/documents/{document_id}/fhir" in body
    assert "bearerAuth" in body  # the Authorize button knows the bearer JWT scheme


# ---- upload keys and cold start --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("labs.pdf", "labs.pdf"),
        (f"{PHI} labs 2024.pdf", "Jane_Doe_labs_2024.pdf"),
        ("../../etc/passwd", "passwd"),
        (".hidden", "hidden"),
        ("...", "document"),
        ("", "document"),
        ("a/b\\c.png", "b_c.png"),
        ("é.txt", "txt"),
    ],
)
def test_upload_keys_follow_the_cli_rule(name: str, safe: str) -> None:
    # the API and the CLI (local.batch.upload_file) build keys with the one domain.documents.upload_key
    doc_id = "01J9ZC0000000000000000000A"
    assert service.upload_key("o", doc_id, name) == f"uploads/o/{doc_id}/{safe}"


def test_importing_the_api_loads_no_heavy_module() -> None:
    # Powertools imports botocore's bare package (for its user agent, <1 ms); a client or session is heavy.
    heavy = [
        "boto3",
        "botocore.session",
        "botocore.client",
        "langchain",
        "langchain_core",
        "fhir",
        "textstat",
    ]
    heavy += ["ulid", "moto", "healthchat.qa.service", "healthchat.adapters.local.glossary_simplifier"]
    heavy += ["aws_lambda_powertools.event_handler.openapi.models", "healthchat.stages.publish"]
    code = f"import sys, healthchat.api.app\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
