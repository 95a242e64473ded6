"""One BlobStore contract over every adapter: memory, folder, and S3 (moto), plus adapter-specific checks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthchat.adapters.aws.s3 import S3BlobStore
from healthchat.adapters.local.fs_blob import FolderBlobStore
from healthchat.adapters.memory.blob import MemoryBlobStore
from healthchat.domain.errors import NotFoundError, ThrottlingError, TransientError
from healthchat.ports import BlobStore

BUCKET = "hc-contract-test"
KEY = "uploads/alice/01J9ZC0000000000000000000A/Jane Doe labs.pdf"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    """One moto session and client per module (building a client costs ~0.1 s); buckets are per test."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3_client(moto_s3: Any) -> Iterator[Any]:
    moto_s3.create_bucket(Bucket=BUCKET)
    yield moto_s3
    for page in moto_s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            moto_s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    moto_s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture(params=["memory", "local", "aws"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    if request.param == "local":
        return FolderBlobStore(tmp_path / "blobs")
    return S3BlobStore(BUCKET, boto3_client=request.getfixturevalue("s3_client"))


# ---- the contract -----------------------------------------------------------------------------------


def test_adapter_implements_the_port(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_put_then_get_size_returns_the_same_bytes(store: BlobStore) -> None:
    # GIVEN every byte value
    data = bytes(range(256)) * 4
    # WHEN it is stored
    store.put(KEY, data, content_type="application/pdf")
    # THEN it reads back unchanged, and size needs no download
    assert store.get(KEY) == data
    assert store.size(KEY) == len(data)


def test_put_replaces_an_existing_object(store: BlobStore) -> None:
    store.put(KEY, b"first version")
    store.put(KEY, b"second")
    assert store.get(KEY) == b"second"
    assert store.size(KEY) == len(b"second")


def test_empty_object_is_stored(store: BlobStore) -> None:
    store.put("a/empty.txt", b"")
    assert store.get("a/empty.txt") == b""
    assert store.size("a/empty.txt") == 0


def test_missing_key_get_raises_not_found_without_quoting_the_key(store: BlobStore) -> None:
    with pytest.raises(NotFoundError) as caught:
        store.get(KEY)
    assert "Jane" not in str(caught.value)
    assert store.size(KEY) is None


def test_delete_removes_and_missing_delete_is_a_no_op(store: BlobStore) -> None:
    store.put(KEY, b"x")
    store.delete(KEY)
    assert store.size(KEY) is None
    with pytest.raises(NotFoundError):
        store.get(KEY)
    store.delete(KEY)  # THEN a second delete does not raise
    store.delete("never/existed")


def test_list_yields_keys_under_the_prefix_sorted(store: BlobStore) -> None:
    # GIVEN objects of two owners, written out of order
    keys = ["uploads/bob/2.txt", "uploads/alice/b/2.txt", "uploads/alice/a.txt", "data/alice/r.json"]
    for key in keys:
        store.put(key, b"x")
    # THEN list filters by prefix (also a partial segment) and sorts
    assert list(store.list("uploads/alice/")) == ["uploads/alice/a.txt", "uploads/alice/b/2.txt"]
    assert list(store.list("uploads/al")) == ["uploads/alice/a.txt", "uploads/alice/b/2.txt"]
    assert list(store.list("uploads/alice/b/2")) == ["uploads/alice/b/2.txt"]
    assert list(store.list()) == sorted(keys)
    assert list(store.list("nothing/")) == []


@pytest.mark.parametrize(
    "bad", ["../escape.txt", "a/../../b", "/etc/passwd", "a\\b", "", "a//b", "./a", "a/"]
)
def test_unsafe_keys_are_rejected(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.put(bad, b"x")
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.size(bad)
    with pytest.raises(ValueError):
        store.delete(bad)


@pytest.mark.parametrize("bad", ["../", "a/../", "/abs", "a\\"])
def test_unsafe_list_prefixes_are_rejected(store: BlobStore, bad: str) -> None:
    with pytest.raises(ValueError):
        list(store.list(bad))


# ---- folder adapter ---------------------------------------------------------------------------------


def test_folder_store_writes_owner_only_files_and_folders(tmp_path: Path) -> None:
    # GIVEN a permissive umask, to prove the modes do not come from it
    old_umask = os.umask(0o000)
    try:
        store = FolderBlobStore(tmp_path / "blobs")
        store.put("uploads/alice/doc/labs.pdf", b"%PDF")
    finally:
        os.umask(old_umask)
    # THEN the file is 0600 and every folder we created is 0700
    path = tmp_path / "blobs" / "uploads" / "alice" / "doc" / "labs.pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, tmp_path / "blobs" / "uploads", tmp_path / "blobs"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_folder_store_traversal_writes_nothing_outside_root(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "root")
    with pytest.raises(ValueError):
        store.put("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_folder_store_failed_write_keeps_the_old_object_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an object, and a disk that fails during the next write
    store = FolderBlobStore(tmp_path / "blobs")
    store.put("a/b.txt", b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    # WHEN the write fails
    with pytest.raises(OSError, match="disk full"):
        store.put("a/b.txt", b"new-but-broken")
    # THEN readers still see the old bytes and no temporary file is left or listed
    assert store.get("a/b.txt") == b"old"
    assert sorted(p.name for p in (tmp_path / "blobs" / "a").iterdir()) == ["b.txt"]
    assert list(store.list()) == ["a/b.txt"]


def test_folder_store_delete_prunes_empty_folders(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    store.put("uploads/alice/doc/labs.pdf", b"x")
    store.put("uploads/alice/keep.txt", b"x")
    store.delete("uploads/alice/doc/labs.pdf")
    assert not (tmp_path / "blobs" / "uploads" / "alice" / "doc").exists()
    assert (tmp_path / "blobs" / "uploads" / "alice" / "keep.txt").exists()
    store.put("uploads/alice/doc/labs.pdf", b"again")  # and the folder is re-created on demand
    assert store.get("uploads/alice/doc/labs.pdf") == b"again"


# ---- S3 adapter -------------------------------------------------------------------------------------


def test_s3_put_uses_sse_kms_with_the_given_key_and_content_type(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, boto3_client=s3_client, kms_key_id="alias/healthchat")
    store.put(KEY, b"%PDF", content_type="application/pdf")
    head = s3_client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == "alias/healthchat"
    assert head["ContentType"] == "application/pdf"


def test_s3_put_without_key_id_still_asks_for_sse_kms(s3_client: Any) -> None:
    S3BlobStore(BUCKET, boto3_client=s3_client).put(KEY, b"x")
    assert s3_client.head_object(Bucket=BUCKET, Key=KEY)["ServerSideEncryption"] == "aws:kms"


def test_s3_list_follows_pages(s3_client: Any) -> None:
    # GIVEN a listing S3 returns in two pages
    from botocore.stub import ANY, Stubber

    store = S3BlobStore(BUCKET, boto3_client=s3_client)
    with Stubber(s3_client) as stubber:
        stubber.add_response(
            "list_objects_v2",
            {
                "IsTruncated": True,
                "NextContinuationToken": "t1",
                "Contents": [{"Key": "p/1"}, {"Key": "p/2"}],
            },
            {"Bucket": BUCKET, "Prefix": "p/"},
        )
        stubber.add_response(
            "list_objects_v2",
            {"IsTruncated": False, "Contents": [{"Key": "p/3"}]},
            {"Bucket": BUCKET, "Prefix": "p/", "ContinuationToken": ANY},
        )
        # THEN every key of every page is listed
        assert list(store.list("p/")) == ["p/1", "p/2", "p/3"]
        stubber.assert_no_pending_responses()


def test_s3_client_is_created_lazily(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET)
    assert store._client is None
    store.put("a.txt", b"x")  # under moto: boto3.client("s3") from the (fake) environment
    assert store.get("a.txt") == b"x"


def test_s3_module_does_not_import_boto3() -> None:
    code = (
        "import sys, healthchat.adapters.aws.s3, healthchat.adapters.aws.dynamodb;"
        " print('boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SlowDown", 503, ThrottlingError),
        ("Throttling", 400, ThrottlingError),
        ("ThrottlingException", 400, ThrottlingError),
        ("RequestLimitExceeded", 400, ThrottlingError),
        ("InternalError", 500, TransientError),
        ("ServiceUnavailable", 503, TransientError),
        ("SomethingOdd", 502, TransientError),
    ],
)
def test_s3_client_errors_become_domain_errors(
    s3_client: Any, code: str, status: int, expected: type[Exception]
) -> None:
    from botocore.stub import Stubber

    store = S3BlobStore(BUCKET, boto3_client=s3_client)
    with Stubber(s3_client) as stubber:
        for operation in (
            "put_object",
            "get_object",
            "head_object",
            "list_object_versions",
            "list_objects_v2",
        ):
            stubber.add_client_error(
                operation, service_error_code=code, service_message=f"key {KEY}", http_status_code=status
            )
        for call in (
            lambda: store.put(KEY, b"x"),
            lambda: store.get(KEY),
            lambda: store.size(KEY),
            lambda: store.delete(KEY),
            lambda: list(store.list("uploads/")),
        ):
            with pytest.raises(expected) as caught:
                call()
            assert "Jane" not in str(caught.value)  # the AWS message (which may quote the key) is dropped


def test_s3_delete_erases_every_version_on_a_versioned_bucket(moto_s3: Any) -> None:
    # GIVEN a versioned bucket (as template.yaml declares) holding two versions of a key and a neighbour
    bucket = "hc-versioned"
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    store = S3BlobStore(bucket, boto3_client=moto_s3)
    store.put(KEY, b"first")
    store.put(KEY, b"second")
    store.put(KEY + ".other", b"keep")
    # WHEN the key is deleted
    store.delete(KEY)
    # THEN no version and no delete marker of it is left (a plain DeleteObject would leave both)
    listing = moto_s3.list_object_versions(Bucket=bucket, Prefix=KEY)
    left = [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    assert left == [KEY + ".other"]
    assert store.get(KEY + ".other") == b"keep"
