"""UploadUrls over S3: a presigned PUT (SigV4, query auth) on the upload bucket for one key.

botocore's presigner is used rather than hand-rolled SigV4: it signs every header the PutObject call
sets (``Content-Type``, the SSE-KMS headers), so S3 rejects an upload that does not send exactly those,
and no object can land unencrypted or under another type. Presigning makes no network call.

A presigned PUT cannot carry a size range (only a presigned POST policy can), but when the client
declared its file's size that exact ``Content-Length`` is signed, so S3 refuses a body of any other
size (SignatureDoesNotMatch). Without a declared size RegisterDocument checks the stored size before
reading anything, so an oversized upload ends as TOO_LARGE.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from healthchat.adapters.memory.blob import check_key
from healthchat.domain.documents import check_upload_grant
from healthchat.ports import UploadTicket

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3UploadUrls:
    """Presigned PUT URLs for ``bucket``.

    Parameters
    ----------
    bucket:
        The upload bucket (``UPLOAD_BUCKET``).
    ttl:
        Seconds each URL stays valid.
    kms_key_id:
        The KMS key for SSE-KMS; None signs ``aws:kms`` with the bucket's default key.
    boto3_client:
        An ``s3`` client (moto, custom endpoint); else one is built on first use, SigV4 in ``region``.
    region:
        The bucket's region, for the client built on first use.
    """

    def __init__(
        self,
        bucket: str,
        ttl: int = 900,
        kms_key_id: str | None = None,
        boto3_client: S3Client | None = None,
        region: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3 upload URLs need the upload bucket name (UPLOAD_BUCKET).")
        self.bucket = bucket
        self.ttl = ttl
        self.kms_key_id = kms_key_id
        self.region = region
        self._client = boto3_client
        self._client_lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    # SigV4 with the regional virtual-hosted endpoint: a browser PUT must not be
                    # redirected (a redirect drops the signature).
                    config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
                    self._client = boto3.client("s3", region_name=self.region, config=config)
        return self._client

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
        """A presigned PUT; ``declared_bytes`` (the size the client declared, at most ``max_bytes``)
        is signed as ``Content-Length``, so S3 accepts a body of exactly that size only."""
        check_upload_grant(owner_id, document_id, key, max_bytes, declared_bytes)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": check_key(key),
            "ContentType": content_type,
            "ServerSideEncryption": "aws:kms",
        }
        headers = {"Content-Type": content_type, "x-amz-server-side-encryption": "aws:kms"}
        if declared_bytes is not None:
            params["ContentLength"] = declared_bytes
            headers["Content-Length"] = str(declared_bytes)
        if self.kms_key_id:
            params["SSEKMSKeyId"] = self.kms_key_id
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = self.kms_key_id
        url = self.client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=self.ttl, HttpMethod="PUT"
        )
        return UploadTicket(url=url, expires_in=self.ttl, method="PUT", headers=headers)
