"""RegisterDocument, RecordFailure and reprocess selection over in-memory adapters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from healthchat.config import Settings
from healthchat.domain.errors import (
    EmptyFileError,
    HealthChatError,
    NotFoundError,
    TooLargeError,
    UnsupportedTypeError,
)
from healthchat.domain.models import DocRef, DocumentRecord, Status
from healthchat.stages.artifacts import STAGES, artifact_key, result_key
from healthchat.stages.publish import error_info, failed_result, publish_result, record_failure
from healthchat.stages.register import parse_trigger, register_document
from healthchat.stages.reprocess import (
    ReprocessRequest,
    reprocess_trigger,
    select_documents,
    start_reprocessing,
)
from healthchat.wiring import Services

EVENTS = Path(__file__).resolve().parents[2] / "events"
DOC_ID = "01JC0000000000000000000002"


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    return Services(Settings(home=tmp_path, storage="memory", max_bytes=1000))


def _direct(svc: Services, data: bytes, name: str = "note.txt") -> dict[str, Any]:
    key = f"uploads/u1/{DOC_ID}/{name}"
    svc.uploads.put(key, data)
    return {"owner_id": "u1", "document_id": DOC_ID, "upload_key": key}


def test_eventbridge_event_from_events_folder_parses() -> None:
    event = json.loads((EVENTS / "s3_object_created.json").read_text())
    trigger = parse_trigger(event)
    assert trigger.upload_key == event["detail"]["object"]["key"]
    assert trigger.owner_id == trigger.upload_key.split("/")[1]


def test_key_outside_uploads_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_trigger({"source": "aws.s3", "detail": {"object": {"key": "other/u1/x.pdf"}}})


def test_register_records_processing_and_metadata(svc: Services) -> None:
    out = register_document(_direct(svc, b"Patient denies chest pain."), svc)
    assert out.doc.document_id == DOC_ID and not out.duplicate
    record = svc.records.get("u1", DOC_ID)
    assert record is not None and record.status == Status.PROCESSING
    assert record.content_type == "text/plain" and record.bytes == 26 and record.sha256


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyFileError),
        (b"x" * 1001, TooLargeError),
        (b"PK\x03\x04" + b"\x00" * 40, UnsupportedTypeError),
    ],
)
def test_register_rejects_bad_input_with_a_coded_error(svc: Services, data: bytes, error: type) -> None:
    with pytest.raises(error):
        register_document(_direct(svc, data, "lab.pdf"), svc)
    # the record exists (PROCESSING) so RecordFailure has something to mark FAILED
    assert svc.records.get("u1", DOC_ID) is not None


def test_second_event_for_the_same_object_is_a_duplicate(svc: Services) -> None:
    svc.uploads.put("uploads/u1/scan.png", b"hello world text")
    event = {"source": "aws.s3", "detail": {"object": {"key": "uploads/u1/scan.png", "etag": "e1"}}}
    first = register_document(event, svc)
    second = register_document(event, svc)
    assert not first.duplicate and second.duplicate
    assert first.doc.document_id == second.doc.document_id
    # a new version of the object is a new document
    event["detail"]["object"]["etag"] = "e2"
    assert register_document(event, svc).doc.document_id != first.doc.document_id


def test_error_info_keeps_our_messages_and_drops_foreign_ones() -> None:
    ours = error_info(
        {"Error": "TooLargeError", "Cause": json.dumps({"errorMessage": "The file is too big."})}
    )
    assert (ours.code, ours.message) == ("TOO_LARGE", "The file is too big.")
    foreign = error_info({"Error": "KeyError", "Cause": json.dumps({"errorMessage": "'Jane Doe'"})})
    assert foreign.code == "INTERNAL" and "Jane" not in foreign.message
    assert error_info({"Error": "ThrottlingError", "Cause": "not json"}).code == "THROTTLED"
    assert error_info({"Error": "States.Timeout"}).code == "ENGINE_UNAVAILABLE"


@pytest.mark.parametrize("key", ["uploads/u1/a.pdf", "uploads/u1/my+scan.pdf"])
def test_record_failure_before_registration_creates_a_failed_record(svc: Services, key: str) -> None:
    # GIVEN a file dropped into the bucket whose registration failed before any record was written
    # (S3 events URL-encode keys: "my scan.pdf" arrives as "my+scan.pdf")
    svc.uploads.put(key.replace("+", " "), b"%PDF-1.4")
    state = {
        "source": "aws.s3",
        "detail": {"object": {"key": key, "etag": "z"}},
        "error": {"Error": "ThrottlingError", "Cause": "{}"},
    }
    out = record_failure(state, svc)
    record = svc.records.get("u1", str(out.document_id))
    assert record is not None and record.status == Status.FAILED and record.error is not None
    assert not out.erased


def _erase(svc: Services, doc_id: str = DOC_ID) -> None:
    from healthchat.api.service import delete_document

    delete_document(svc, "u1", doc_id)


def _registered_with_artifacts(svc: Services) -> DocRef:
    out = register_document(_direct(svc, b"Patient denies chest pain."), svc)
    svc.data.put(artifact_key(out.doc, "extract_text"), b"{}")
    return out.doc


def test_record_failure_of_an_erased_document_records_nothing(svc: Services) -> None:
    # GIVEN a document erased (DELETE) while its run was under way, a stage having stored an artifact since
    doc = _registered_with_artifacts(svc)
    _erase(svc)
    svc.data.put(artifact_key(doc, "summarize"), b"{}")
    # WHEN its run ends in RecordFailure
    out = record_failure({**doc.model_dump(), "error": {"Error": "NotFoundError", "Cause": "{}"}}, svc)
    # THEN no record comes back, and nothing the run stored is left
    assert out.erased and svc.records.get("u1", DOC_ID) is None
    assert list(svc.data.list("u1/")) == []


def test_publish_of_an_erased_document_records_nothing(svc: Services) -> None:
    doc = _registered_with_artifacts(svc)
    _erase(svc)
    out = publish_result(doc, svc)
    assert out.erased and out.result_key is None
    assert svc.records.get("u1", DOC_ID) is None and list(svc.data.list("u1/")) == []


def test_a_delete_landing_while_the_result_is_written_wins(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a registered document whose stages all ran (their artifacts stand in as "{}"; assembling
    # the result from them is tested elsewhere, so its result is the record's own)
    doc = _registered_with_artifacts(svc)
    for stage in STAGES:
        svc.data.put(artifact_key(doc, stage), b"{}")
    record = svc.records.get("u1", DOC_ID)
    assert record is not None
    monkeypatch.setattr("healthchat.stages.publish.build_result", lambda *args: failed_result(record))
    real_put = svc.data.put

    def put_during_delete(key: str, data: bytes, content_type: str | None = None) -> None:
        if key == result_key(doc):
            _erase(svc)  # DELETE /documents/{id} arrives while PublishResult writes
        real_put(key, data, content_type)

    monkeypatch.setattr(svc.data, "put", put_during_delete)
    # WHEN PublishResult records the result
    out = publish_result(doc, svc)
    # THEN the deletion stands: no record, and the result written after it is removed
    assert out.erased
    assert svc.records.get("u1", DOC_ID) is None and list(svc.data.list("u1/")) == []


def test_publish_without_a_record_but_with_the_upload_is_an_error(svc: Services) -> None:
    doc = _registered_with_artifacts(svc)
    svc.records.delete("u1", DOC_ID)  # not an erasure: the upload is still there
    with pytest.raises(HealthChatError):
        publish_result(doc, svc)
    out = record_failure({**doc.model_dump(), "error": {"Error": "HealthChatError", "Cause": "{}"}}, svc)
    record = svc.records.get("u1", DOC_ID)
    assert not out.erased and record is not None and record.status == Status.FAILED


def test_register_after_an_erasure_writes_no_record(svc: Services) -> None:
    trigger = _direct(svc, b"Patient denies chest pain.")
    svc.records.put(
        DocumentRecord(
            owner_id="u1",
            document_id=DOC_ID,
            status=Status.PROCESSING,
            filename="n",
            upload_key=trigger["upload_key"],
        )
    )
    _erase(svc)
    with pytest.raises(NotFoundError):
        register_document(trigger, svc)
    assert svc.records.get("u1", DOC_ID) is None


def test_record_failure_marks_the_registered_document(svc: Services) -> None:
    trigger = _direct(svc, b"")
    with pytest.raises(EmptyFileError):
        register_document(trigger, svc)
    out = record_failure({**trigger, "error": {"Error": "EmptyFileError", "Cause": "{}"}}, svc)
    record = svc.records.get("u1", DOC_ID)
    assert out.code == "EMPTY_FILE"
    assert record is not None and record.status == Status.FAILED
    assert record.error is not None and record.error.code == "EMPTY_FILE"


class _Starter:
    def __init__(self) -> None:
        self.triggers: list[dict[str, Any]] = []

    def start(self, trigger: dict[str, Any], name: str | None = None) -> str:
        self.triggers.append(trigger)
        return f"arn:{len(self.triggers)}"


def test_reprocess_selects_ids_all_or_failed(svc: Services) -> None:
    ids = ["01JC00000000000000000000A1", "01JC00000000000000000000A2", "01JC00000000000000000000A3"]
    for owner, doc_id, status in [
        ("u1", ids[0], Status.SUCCEEDED),
        ("u1", ids[1], Status.FAILED),
        ("u2", ids[2], Status.FAILED),
    ]:
        svc.records.put(
            DocumentRecord(
                owner_id=owner,
                document_id=doc_id,
                status=status,
                filename="f",
                upload_key=f"uploads/{owner}/{doc_id}/f",
            )
        )
    pick = lambda **kw: sorted(r.document_id for r in select_documents(ReprocessRequest(**kw), svc.records))  # noqa: E731
    assert pick(owner_id="u1", document_ids=[ids[0]]) == [ids[0]]
    assert pick(owner_id="u1", all=True) == ids[:2]
    assert pick(failed=True) == ids[1:]
    assert pick(owner_id="u1", failed=True) == [ids[1]]
    with pytest.raises(ValueError):
        ReprocessRequest(owner_id="u1")
    starter = _Starter()
    assert start_reprocessing(ReprocessRequest(failed=True), svc.records, starter) == ids[1:]
    assert all(t["reprocess"] for t in starter.triggers)
    record = svc.records.get("u1", ids[1])
    assert record is not None and reprocess_trigger(record)["document_id"] == ids[1]


def test_register_accepts_a_url_encoded_key_from_an_s3_event(svc: Services) -> None:
    svc.uploads.put("uploads/u1/my lab report.txt", b"Potassium 5.4 mmol/L, above the range.")
    event = {"source": "aws.s3", "detail": {"object": {"key": "uploads/u1/my+lab+report.txt", "etag": "e"}}}
    out = register_document(event, svc)
    assert out.doc.upload_key == "uploads/u1/my lab report.txt"
