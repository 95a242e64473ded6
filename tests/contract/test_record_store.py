"""One RecordStore contract over every adapter (memory, SQLite, DynamoDB under moto), plus their specifics."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from healthchat.adapters.aws.dynamodb import DynamoRecordStore
from healthchat.adapters.local.sqlite_records import SqliteRecordStore
from healthchat.adapters.memory.records import MemoryRecordStore
from healthchat.domain.errors import NotFoundError, ThrottlingError, TransientError
from healthchat.domain.models import DocumentRecord, ErrorInfo, Status
from healthchat.ports import RecordStore

TABLE = "hc-contract-records"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def doc_id(i: int) -> str:
    """Ids that sort like ULIDs created one after another."""
    return f"01J9ZC{i:020d}"


def make_record(owner: str, i: int, status: Status = Status.PROCESSING) -> DocumentRecord:
    return DocumentRecord(
        owner_id=owner,
        document_id=doc_id(i),
        status=status,
        filename=f"labs-{i}.pdf",
        upload_key=f"uploads/{owner}/{doc_id(i)}/labs-{i}.pdf",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture(scope="module")
def moto_dynamodb() -> Iterator[Any]:
    """One moto session and client per module (building a client costs ~0.1 s); tables are per test."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamo_client(moto_dynamodb: Any, create_records_table: Callable[[Any, str], None]) -> Iterator[Any]:
    create_records_table(moto_dynamodb, TABLE)
    yield moto_dynamodb
    moto_dynamodb.delete_table(TableName=TABLE)


def _store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> RecordStore:
    if kind == "memory":
        return MemoryRecordStore()
    if kind == "local":
        return SqliteRecordStore(tmp_path / "home" / "records.sqlite3")
    return DynamoRecordStore(TABLE, boto3_client=request.getfixturevalue("dynamo_client"))


@pytest.fixture(params=["memory", "local", "aws"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordStore:
    return _store(request.param, request, tmp_path)


@pytest.fixture(params=["memory", "local"])
def threaded_store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordStore:
    """The adapters whose atomicity we can prove with real threads (moto does not model DynamoDB's)."""
    return _store(request.param, request, tmp_path)


def run_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return results


# ---- records ----------------------------------------------------------------------------------------


def test_adapter_implements_the_port(store: RecordStore) -> None:
    assert isinstance(store, RecordStore)


def test_put_then_get_round_trips_every_field(store: RecordStore) -> None:
    # GIVEN a record with nested and datetime fields
    record = make_record("alice", 1, Status.FAILED).model_copy(
        update={"error": ErrorInfo(code="NO_TEXT_FOUND", message="No text."), "pages": 3, "bytes": 1024}
    )
    store.put(record)
    # THEN it reads back equal, datetimes (with microseconds and zone) included
    assert store.get("alice", doc_id(1)) == record


def test_get_unknown_or_other_owner_is_none(store: RecordStore) -> None:
    store.put(make_record("alice", 1))
    assert store.get("alice", doc_id(2)) is None
    assert store.get("mallory", doc_id(1)) is None


def test_put_replaces(store: RecordStore) -> None:
    store.put(make_record("alice", 1))
    store.put(make_record("alice", 1, Status.SUCCEEDED))
    fetched = store.get("alice", doc_id(1))
    assert fetched is not None and fetched.status is Status.SUCCEEDED


def test_update_sets_fields_and_updated_at(store: RecordStore) -> None:
    # GIVEN a processing record
    store.put(make_record("alice", 1))
    # WHEN the pipeline finishes it
    updated = store.update(
        "alice", doc_id(1), status=Status.SUCCEEDED, result_key="alice/x/result.json", pages=2
    )
    # THEN the returned and the stored record carry the change and a newer updated_at
    assert updated.status is Status.SUCCEEDED and updated.pages == 2
    assert updated.updated_at > T0 and updated.created_at == T0
    assert store.get("alice", doc_id(1)) == updated
    assert [r.document_id for r in store.scan(Status.SUCCEEDED)] == [doc_id(1)]


def test_update_accepts_nested_models_and_plain_values(store: RecordStore) -> None:
    store.put(make_record("alice", 1))
    store.update("alice", doc_id(1), status="FAILED", error=ErrorInfo(code="TOO_LARGE", message="Too big."))
    fetched = store.get("alice", doc_id(1))
    assert fetched is not None and fetched.status is Status.FAILED
    assert fetched.error == ErrorInfo(code="TOO_LARGE", message="Too big.")


def test_update_of_missing_record_raises_not_found(store: RecordStore) -> None:
    with pytest.raises(NotFoundError):
        store.update("alice", doc_id(9), status=Status.FAILED)


@pytest.mark.parametrize(
    "fields", [{"no_such_field": 1}, {"status": "BOGUS"}, {"pages": "many"}, {"filename": None}]
)
def test_invalid_updates_are_rejected_and_change_nothing(store: RecordStore, fields: dict[str, Any]) -> None:
    store.put(make_record("alice", 1))
    with pytest.raises(ValueError):
        store.update("alice", doc_id(1), **fields)
    assert store.get("alice", doc_id(1)) == make_record("alice", 1)


def test_list_owner_pages_newest_first_with_an_opaque_cursor(store: RecordStore) -> None:
    # GIVEN five records of alice (written out of order) and one of bob
    for i in (3, 1, 5, 2, 4):
        store.put(make_record("alice", i))
    store.put(make_record("bob", 6))
    # WHEN alice pages through two at a time
    pages, cursor = [], None
    while True:
        page = store.list_owner("alice", limit=2, cursor=cursor)
        assert len(page.records) <= 2
        pages.append([r.document_id for r in page.records])
        if page.cursor is None:
            break
        assert page.cursor not in {doc_id(i) for i in range(7)}
        cursor = page.cursor
    # THEN she gets her own records, newest first, and the last page has no cursor
    assert pages == [[doc_id(5), doc_id(4)], [doc_id(3), doc_id(2)], [doc_id(1)]]


def test_list_owner_exact_fit_has_no_next_cursor(store: RecordStore) -> None:
    for i in (1, 2):
        store.put(make_record("alice", i))
    page = store.list_owner("alice", limit=2)
    assert [r.document_id for r in page.records] == [doc_id(2), doc_id(1)]
    assert page.cursor is None
    assert store.list_owner("nobody").records == []


def test_list_owner_rejects_bad_limit_and_cursor(store: RecordStore) -> None:
    with pytest.raises(ValueError):
        store.list_owner("alice", limit=0)
    with pytest.raises(ValueError):
        store.list_owner("alice", cursor="%%%not-base64")


def test_scan_returns_every_record_or_one_status(store: RecordStore) -> None:
    store.put(make_record("alice", 1, Status.SUCCEEDED))
    store.put(make_record("alice", 2, Status.FAILED))
    store.put(make_record("bob", 3, Status.FAILED))
    store.claim("bob", "uploads/bob/x.pdf#v1", doc_id(3))  # claims are not records
    assert sorted(r.document_id for r in store.scan()) == [doc_id(1), doc_id(2), doc_id(3)]
    assert sorted(r.document_id for r in store.scan(Status.FAILED)) == [doc_id(2), doc_id(3)]
    assert list(store.scan(Status.PROCESSING)) == []


def test_delete_removes_the_record_and_its_claims_only(store: RecordStore) -> None:
    # GIVEN two documents, each claimed the way RegisterDocument does ("{id}:{nonce}")
    store.put(make_record("alice", 1))
    store.put(make_record("alice", 2))
    store.claim("alice", "uploads/alice/a.pdf#", f"{doc_id(1)}:aa")
    store.claim("alice", "uploads/alice/b.pdf#", f"{doc_id(2)}:bb")
    # WHEN the first is deleted
    store.delete("alice", doc_id(1))
    # THEN its record and claim are gone (a re-upload is a new document); the other is intact
    assert store.get("alice", doc_id(1)) is None
    assert store.claimed("alice", "uploads/alice/a.pdf#") is None
    assert store.get("alice", doc_id(2)) is not None
    assert store.claimed("alice", "uploads/alice/b.pdf#") == f"{doc_id(2)}:bb"
    store.delete("alice", doc_id(1))  # deleting again is a no-op


# ---- claims -----------------------------------------------------------------------------------------


def test_claim_is_idempotent_and_first_claim_wins(store: RecordStore) -> None:
    source = "uploads/alice/Jane Doe labs.pdf#etag1"
    assert store.claimed("alice", source) is None
    assert store.claim("alice", source, "first") == "first"
    assert store.claim("alice", source, "second") == "first"
    assert store.claimed("alice", source) == "first"
    # another object version, or another owner, is a different claim
    assert store.claim("alice", "uploads/alice/Jane Doe labs.pdf#etag2", "third") == "third"
    assert store.claim("bob", source, "fourth") == "fourth"


def test_concurrent_claims_agree_on_one_winner(threaded_store: RecordStore) -> None:
    # GIVEN 16 duplicate events for one upload, racing
    results = run_threads(16, lambda i: threaded_store.claim("alice", "uploads/alice/x.pdf#v1", f"id-{i}"))
    # THEN every one of them is told the same winner, which is one of theirs
    assert len(set(results)) == 1
    assert results[0] in {f"id-{i}" for i in range(16)}
    assert threaded_store.claimed("alice", "uploads/alice/x.pdf#v1") == results[0]


def test_concurrent_updates_of_different_fields_are_all_kept(threaded_store: RecordStore) -> None:
    threaded_store.put(make_record("alice", 1))
    fields: list[dict[str, Any]] = [
        {"pages": 7}, {"sha256": "ab" * 32}, {"content_type": "application/pdf"}, {"bytes": 99},
        {"result_key": "r.json"}, {"status": Status.SUCCEEDED},
    ]  # fmt: skip
    run_threads(len(fields), lambda i: threaded_store.update("alice", doc_id(1), **fields[i]))
    fetched = threaded_store.get("alice", doc_id(1))
    assert fetched is not None
    assert (fetched.pages, fetched.sha256, fetched.content_type, fetched.bytes, fetched.result_key) == (
        7, "ab" * 32, "application/pdf", 99, "r.json",
    )  # fmt: skip
    assert fetched.status is Status.SUCCEEDED


# ---- SQLite adapter ---------------------------------------------------------------------------------


def test_sqlite_file_is_owner_only_in_wal_mode_and_survives_reopen(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "home" / "records.sqlite3"
    SqliteRecordStore(path).put(make_record("alice", 1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert SqliteRecordStore(path).get("alice", doc_id(1)) == make_record("alice", 1)


def test_sqlite_scan_reads_past_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from healthchat.adapters.local import sqlite_records

    monkeypatch.setattr(sqlite_records, "_SCAN_BATCH", 2)
    store = SqliteRecordStore(tmp_path / "r.sqlite3")
    for i in range(7):
        store.put(make_record("alice", i, Status.FAILED if i % 2 else Status.SUCCEEDED))
    assert sorted(r.document_id for r in store.scan()) == [doc_id(i) for i in range(7)]
    assert sorted(r.document_id for r in store.scan(Status.FAILED)) == [doc_id(i) for i in (1, 3, 5)]


# ---- DynamoDB adapter -------------------------------------------------------------------------------


def test_dynamo_item_layout_uses_pk_sk_and_hashes_source_keys(dynamo_client: Any) -> None:
    store = DynamoRecordStore(TABLE, boto3_client=dynamo_client)
    store.put(make_record("alice", 1))
    store.claim("alice", "uploads/alice/Jane Doe labs.pdf#v1", doc_id(1))
    items = dynamo_client.scan(TableName=TABLE)["Items"]
    by_sk = {item["sk"]["S"]: item for item in items}
    record_item = by_sk[f"DOC#{doc_id(1)}"]
    assert record_item["pk"] == {"S": "OWNER#alice"}
    assert record_item["status"] == {"S": "PROCESSING"}
    claim_sks = [sk for sk in by_sk if sk.startswith("SRC#")]
    assert len(claim_sks) == 1 and len(claim_sks[0]) == len("SRC#") + 64
    assert "Jane" not in str(by_sk[claim_sks[0]])


def test_dynamo_update_retries_when_the_record_changed_underneath(
    dynamo_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another writer that changes the record between our read and our write, once
    store = DynamoRecordStore(TABLE, boto3_client=dynamo_client)
    store.put(make_record("alice", 1))
    real_put = dynamo_client.put_item
    interfered: list[bool] = []

    def racing_put(**kwargs: Any) -> Any:
        if "ConditionExpression" in kwargs and not interfered:
            interfered.append(True)
            DynamoRecordStore(TABLE, boto3_client=dynamo_client).update("alice", doc_id(1), pages=4)
        return real_put(**kwargs)

    monkeypatch.setattr(dynamo_client, "put_item", racing_put)
    # WHEN we update another field
    store.update("alice", doc_id(1), sha256="cd" * 32)
    # THEN both changes are kept
    fetched = store.get("alice", doc_id(1))
    assert fetched is not None and (fetched.pages, fetched.sha256) == (4, "cd" * 32)


def test_dynamo_client_is_created_lazily(dynamo_client: Any) -> None:
    store = DynamoRecordStore(TABLE)
    assert store._client is None
    store.put(make_record("alice", 1))
    assert store.get("alice", doc_id(1)) == make_record("alice", 1)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ProvisionedThroughputExceededException", 400, ThrottlingError),
        ("ThrottlingException", 400, ThrottlingError),
        ("RequestLimitExceeded", 400, ThrottlingError),
        ("InternalServerError", 500, TransientError),
        ("ServiceUnavailable", 503, TransientError),
    ],
)
def test_dynamo_client_errors_become_domain_errors(
    dynamo_client: Any, code: str, status: int, expected: type[Exception]
) -> None:
    from botocore.stub import Stubber

    store = DynamoRecordStore(TABLE, boto3_client=dynamo_client)
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("put_item", lambda: store.put(make_record("alice", 1))),
        ("get_item", lambda: store.get("alice", doc_id(1))),
        ("get_item", lambda: store.update("alice", doc_id(1), pages=1)),
        ("query", lambda: store.list_owner("alice")),
        ("scan", lambda: list(store.scan(Status.FAILED))),
        ("delete_item", lambda: store.delete("alice", doc_id(1))),
        ("put_item", lambda: store.claim("alice", "uploads/alice/x#", "id")),
        ("get_item", lambda: store.claimed("alice", "uploads/alice/x#")),
    ]
    with Stubber(dynamo_client) as stubber:
        for operation, call in calls:
            stubber.add_client_error(operation, service_error_code=code, http_status_code=status)
            with pytest.raises(expected):
                call()
