"""The pipeline ASL executed by moto's interpreter, Lambda tasks answered by our handlers."""

from __future__ import annotations

from typing import Any

import pytest

from healthchat.api.service import delete_document
from healthchat.domain.errors import ThrottlingError
from healthchat.domain.models import DocumentRecord, Status
from healthchat.local.batch import load_result
from healthchat.local.runtime import EmbeddedRuntime
from healthchat.ports import EntityResult
from healthchat.wiring import Services

pytestmark = pytest.mark.slow

NOTE = (
    "CLINIC NOTE\n"
    "HPI: 58 year old with type 2 diabetes. Denies chest pain. Reports fatigue.\n"
    "Medications: metformin 500 mg PO BID; lisinopril 10 mg daily.\n"
    "Labs: Hemoglobin A1c 8.1 H % 4.0-5.6\n"
    "Assessment and Plan: Diabetes not at goal. Increase metformin to 1000 mg BID. Follow up in 3 months.\n"
)


def _upload(
    svc: Services, name: str, data: bytes, doc_id: str = "01JC0000000000000000000001"
) -> dict[str, Any]:
    key = f"uploads/local-user/{doc_id}/{name}"
    svc.uploads.put(key, data)
    return {"owner_id": "local-user", "document_id": doc_id, "upload_key": key}


def _states_entered(runtime: EmbeddedRuntime, arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"] for e in runtime.history(arn) if "stateEnteredEventDetails" in e
    ]


def test_happy_path_produces_a_document_result(embedded: tuple[EmbeddedRuntime, Services]) -> None:
    # GIVEN a clinic note in the upload store
    runtime, svc = embedded
    trigger = _upload(svc, "note.txt", NOTE.encode())
    # WHEN the pipeline runs
    outcome = runtime.wait(runtime.start(trigger))
    # THEN every stage ran once and the result is stored and recorded SUCCEEDED
    assert outcome.status == "SUCCEEDED"
    entered = _states_entered(runtime, outcome.execution_arn)
    for state in (
        "RegisterDocument",
        "ExtractText",
        "ExtractMedical",
        "Analyze",
        "Summarize",
        "Simplify",
        "InterpretLabs",
        "SuggestTips",
        "PublishResult",
    ):
        assert entered.count(state) == 1, state
    assert "RecordFailure" not in entered
    result = load_result(svc, "local-user", trigger["document_id"])
    assert result is not None and result.status == Status.SUCCEEDED
    assert result.text is not None and result.text.method == "plain-text"
    assert any(m.name.lower() == "metformin" for m in result.medications)
    assert set(result.timings_ms) >= {"extract_text", "extract_medical", "summarize", "simplify"}
    # the state carries claim checks only, never the document's text
    assert "Denies chest pain" not in str(outcome.output)


def test_throttling_is_retried_and_recovers(
    embedded: tuple[EmbeddedRuntime, Services], retry_waits: list[float]
) -> None:
    # GIVEN a medical extractor that is throttled twice before it answers
    runtime, svc = embedded
    real = svc.medical
    calls = {"n": 0}

    class FlakyExtractor:
        name = real.name

        def detect_entities(self, text: str) -> EntityResult:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise ThrottlingError()
            return real.detect_entities(text)

    svc.__dict__["medical"] = FlakyExtractor()
    # WHEN the pipeline runs
    outcome = runtime.wait(runtime.start(_upload(svc, "note.txt", NOTE.encode())))
    # THEN it succeeded after two backoff waits, each bounded by MaxDelaySeconds
    assert outcome.status == "SUCCEEDED"
    assert calls["n"] == 3
    assert len(retry_waits) == 2 and all(0 <= w <= 30 for w in retry_waits)
    assert _states_entered(runtime, outcome.execution_arn).count("ExtractMedical") == 1


def test_bad_input_ends_in_record_failure(embedded: tuple[EmbeddedRuntime, Services]) -> None:
    # GIVEN an empty upload
    runtime, svc = embedded
    trigger = _upload(svc, "empty.pdf", b"")
    # WHEN the pipeline runs
    outcome = runtime.wait(runtime.start(trigger))
    # THEN the execution fails through RecordFailure and the record holds the stable code
    assert outcome.status == "FAILED"
    assert "RecordFailure" in _states_entered(runtime, outcome.execution_arn)
    record = svc.records.get("local-user", trigger["document_id"])
    assert record is not None and record.status == Status.FAILED
    assert record.error is not None and record.error.code == "EMPTY_FILE"


def test_unexpected_error_is_recorded_without_its_message(embedded: tuple[EmbeddedRuntime, Services]) -> None:
    # GIVEN an engine that crashes with a message quoting the document
    runtime, svc = embedded

    class Crashing:
        name = "crashing"

        def detect_entities(self, text: str) -> EntityResult:
            raise RuntimeError(f"cannot parse {text[:40]}")

    svc.__dict__["medical"] = Crashing()
    trigger = _upload(svc, "note.txt", NOTE.encode())
    outcome = runtime.wait(runtime.start(trigger))
    # THEN the document is FAILED/INTERNAL and the stored message carries no document text
    assert outcome.status == "FAILED"
    record = svc.records.get("local-user", trigger["document_id"])
    assert record is not None and record.error is not None
    assert record.error.code == "INTERNAL"
    assert "CLINIC" not in record.error.message and "HPI" not in record.error.message


def test_duplicate_events_produce_one_document(embedded: tuple[EmbeddedRuntime, Services]) -> None:
    # GIVEN two S3 "Object Created" events for the same object version (no id in the key)
    runtime, svc = embedded
    key = "uploads/local-user/note.txt"
    svc.uploads.put(key, NOTE.encode())
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "uploads"}, "object": {"key": key, "etag": "abc", "size": len(NOTE)}},
    }
    # WHEN both run
    first = runtime.wait(runtime.start(event))
    second = runtime.wait(runtime.start(event))
    # THEN one document exists; the second execution stopped at AlreadyProcessed
    assert first.status == second.status == "SUCCEEDED"
    assert "AlreadyProcessed" in _states_entered(runtime, second.execution_arn)
    assert "ExtractText" not in _states_entered(runtime, second.execution_arn)
    docs = list(svc.records.scan())
    assert len(docs) == 1 and docs[0].status == Status.SUCCEEDED


def _api_upload(svc: Services, doc_id: str, name: str = "race.pdf") -> dict[str, Any]:
    """An upload as POST /documents + PUT leave it: the PROCESSING record first, then the file."""
    trigger = _upload(svc, name, NOTE.encode(), doc_id)
    svc.records.put(
        DocumentRecord(
            owner_id="local-user",
            document_id=doc_id,
            status=Status.PROCESSING,
            filename=name,
            upload_key=trigger["upload_key"],
        )
    )
    return trigger


def _assert_erased(svc: Services, doc_id: str) -> None:
    assert svc.records.get("local-user", doc_id) is None
    assert [r.document_id for r in svc.records.scan()] == []
    assert list(svc.data.list(f"local-user/{doc_id}/")) == []
    assert list(svc.uploads.list(f"uploads/local-user/{doc_id}/")) == []


def test_a_document_deleted_while_it_is_processed_stays_deleted(
    embedded: tuple[EmbeddedRuntime, Services],
) -> None:
    # GIVEN an uploaded document, erased by DELETE /documents/{id} while ExtractMedical runs
    runtime, svc = embedded
    doc_id = "01JC00000000000000000000D1"
    trigger = _api_upload(svc, doc_id)
    real = svc.medical

    class DeletedMeanwhile:
        name = real.name

        def detect_entities(self, text: str) -> EntityResult:
            delete_document(svc, "local-user", doc_id)
            return real.detect_entities(text)

    svc.__dict__["medical"] = DeletedMeanwhile()
    # WHEN the run goes on after the erasure
    runtime.wait(runtime.start(trigger))
    # THEN neither PublishResult nor RecordFailure brought it back, and its artifacts are gone
    _assert_erased(svc, doc_id)


def test_a_run_that_starts_after_the_delete_records_nothing(
    embedded: tuple[EmbeddedRuntime, Services],
) -> None:
    # GIVEN an upload whose queued run starts only after the document was erased
    runtime, svc = embedded
    doc_id = "01JC00000000000000000000D2"
    trigger = _api_upload(svc, doc_id)
    delete_document(svc, "local-user", doc_id)
    # WHEN the run starts
    outcome = runtime.wait(runtime.start(trigger))
    # THEN it ends without a record (RegisterDocument finds neither record nor file)
    assert outcome.status == "FAILED"
    _assert_erased(svc, doc_id)
