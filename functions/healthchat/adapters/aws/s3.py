"""BlobStore over an S3 bucket: SSE-KMS on every put, ClientError codes translated to domain errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from healthchat.adapters.aws.errors import aws_errors
from healthchat.adapters.memory.blob import check_key, check_prefix
from healthchat.domain.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


class S3BlobStore:
    """Objects in ``bucket`` keyed as given.

    Parameters
    ----------
    bucket:
        The bucket name.
    boto3_client:
        An ``s3`` client to use (moto, Stubber, custom endpoint); else ``boto3.client("s3")`` on first use.
    kms_key_id:
        The KMS key for SSE-KMS; None uses the bucket's default ``aws:kms`` key.
    """

    def __init__(
        self, bucket: str, boto3_client: S3Client | None = None, kms_key_id: str | None = None
    ) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self._client = boto3_client
        self._client_lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            with self._client_lock:  # boto3's default session is not safe to build clients on concurrently
                if self._client is None:
                    import boto3

                    self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        if content_type:
            extra["ContentType"] = content_type
        with aws_errors():
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, **extra)

    def get(self, key: str) -> bytes:
        with aws_errors():
            response = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return response["Body"].read()

    def size(self, key: str) -> int | None:
        try:
            with aws_errors():
                response = self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except NotFoundError:
            return None
        return response["ContentLength"]

    def delete(self, key: str) -> None:
        """Erase the object: on a versioned bucket every version and delete marker of ``key`` goes (a user's
        deletion request must not leave noncurrent copies behind); unversioned, the object itself."""
        check_key(key)
        with aws_errors():
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
            versions: list[ObjectIdentifierTypeDef] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for page in pages
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                if v["Key"] == key
            ]
            for start in range(0, len(versions), 1000):
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
                )
            if not versions:
                self.client.delete_object(Bucket=self.bucket, Key=key)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix`` in S3's order (sorted by UTF-8 bytes), page by page."""
        check_prefix(prefix)
        with aws_errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    yield obj["Key"]
