"""UploadUrls contract over both adapters (local HMAC URLs, S3 presigned PUTs under moto), and specifics."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from healthchat.adapters.aws.upload_urls import S3UploadUrls
from healthchat.adapters.local.upload_urls import LocalUploadUrls, UploadTokenError
from healthchat.ports import UploadTicket, UploadUrls

BUCKET = "hc-contract-uploads"
OWNER = "alice"
DOC = "01J9ZC0000000000000000000A"
KEY = f"uploads/{OWNER}/{DOC}/Jane_Doe_labs.pdf"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[Any]:
    import boto3
    from botocore.config import Config
    from moto import mock_aws

    with mock_aws():
        # SigV4, as the adapter builds its own client (boto3's default presigns with SigV2 in us-east-1)
        client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture(params=["local", "aws"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> UploadUrls:
    if request.param == "local":
        return LocalUploadUrls(tmp_path / "home" / "upload.key", public_url="http://127.0.0.1:8765", ttl=600)
    return S3UploadUrls(BUCKET, ttl=600, kms_key_id=KMS_KEY, boto3_client=request.getfixturevalue("moto_s3"))


# ---- the contract -----------------------------------------------------------------------------------


def test_adapter_implements_the_port(urls: UploadUrls) -> None:
    assert isinstance(urls, UploadUrls)


def test_ticket_is_a_put_for_the_declared_type_valid_for_the_ttl(urls: UploadUrls) -> None:
    ticket = urls.create(OWNER, DOC, KEY, "application/pdf", 1024)
    assert isinstance(ticket, UploadTicket)
    assert ticket.method == "PUT"
    assert ticket.expires_in == 600
    assert ticket.headers["Content-Type"] == "application/pdf"
    assert ticket.url.startswith(("http://", "https://"))
    assert DOC in ticket.url


def test_each_ticket_is_for_its_own_document(urls: UploadUrls) -> None:
    other = "01J9ZC0000000000000000000B"
    first = urls.create(OWNER, DOC, KEY, "image/png", 10)
    second = urls.create(OWNER, other, f"uploads/{OWNER}/{other}/a.png", "image/png", 10)
    assert first.url != second.url


@pytest.mark.parametrize("declared", [0, 1025])
def test_a_declared_size_outside_1_to_the_limit_is_refused(urls: UploadUrls, declared: int) -> None:
    with pytest.raises(ValueError, match="declared size"):
        urls.create(OWNER, DOC, KEY, "application/pdf", 1024, declared_bytes=declared)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "key",
    [
        f"uploads/{OWNER}/01J9ZC0000000000000000000B/x.pdf",  # another document's folder
        f"uploads/bob/{DOC}/x.pdf",  # another owner's folder
        f"{OWNER}/{DOC}/x.pdf",  # the data area
        f"uploads/{OWNER}/{DOC}/../../bob/x.pdf",
    ],
)
def test_keys_outside_the_documents_upload_folder_are_refused(urls: UploadUrls, key: str) -> None:
    with pytest.raises(ValueError):
        urls.create(OWNER, DOC, key, "application/pdf", 10)


# ---- local: tokens -----------------------------------------------------------------------------------


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_local_token_verifies_to_the_owner_and_key(tmp_path: Path) -> None:
    urls = LocalUploadUrls(tmp_path / "upload.key", public_url="http://127.0.0.1:8765/", ttl=60)
    ticket = urls.create(OWNER, DOC, KEY, "text/plain", 2048)
    assert ticket.url.startswith(f"http://127.0.0.1:8765/uploads/{DOC}?token=")
    assert urls.verify(_token(ticket.url), DOC) == (OWNER, KEY)
    grant = urls.grant(_token(ticket.url), DOC)
    assert (grant.content_type, grant.max_bytes) == ("text/plain", 2048)


def test_local_token_limits_the_upload_to_the_declared_size(tmp_path: Path) -> None:
    urls = LocalUploadUrls(tmp_path / "upload.key")
    ticket = urls.create(OWNER, DOC, KEY, "text/plain", 2048, declared_bytes=300)
    assert urls.grant(_token(ticket.url), DOC).max_bytes == 300


def test_local_url_is_relative_without_a_public_url(tmp_path: Path) -> None:
    ticket = LocalUploadUrls(tmp_path / "upload.key").create(OWNER, DOC, KEY, "text/plain", 1)
    assert ticket.url.startswith(f"/uploads/{DOC}?token=v1.")


def test_a_token_verifies_in_another_process_sharing_the_home(tmp_path: Path) -> None:
    ticket = LocalUploadUrls(tmp_path / "upload.key").create(OWNER, DOC, KEY, "text/plain", 1)
    assert LocalUploadUrls(tmp_path / "upload.key").verify(_token(ticket.url), DOC) == (OWNER, KEY)


def test_secret_is_created_owner_only_once(tmp_path: Path) -> None:
    path = tmp_path / "home" / "upload.key"
    LocalUploadUrls(path).create(OWNER, DOC, KEY, "text/plain", 1)
    first = path.read_bytes()
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    LocalUploadUrls(path).create(OWNER, DOC, KEY, "text/plain", 1)
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == ["upload.key"]  # no temporary file left behind


def test_expired_token_is_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    urls = LocalUploadUrls(tmp_path / "upload.key", ttl=60, clock=clock)
    token = _token(urls.create(OWNER, DOC, KEY, "text/plain", 1).url)
    clock.now += 59
    assert urls.verify(token, DOC) == (OWNER, KEY)
    clock.now += 1
    with pytest.raises(UploadTokenError, match="expired"):
        urls.verify(token, DOC)


def test_token_for_another_document_is_refused(tmp_path: Path) -> None:
    urls = LocalUploadUrls(tmp_path / "upload.key")
    token = _token(urls.create(OWNER, DOC, KEY, "text/plain", 1).url)
    with pytest.raises(UploadTokenError, match="another document"):
        urls.verify(token, "01J9ZC0000000000000000000B")


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _flip(t, 10),  # payload changed (e.g. another owner or key)
        lambda t: _flip(t, len(t) - 3),  # MAC changed
        lambda t: "v2" + t[2:],
        lambda t: t.rsplit(".", 1)[0],
        lambda t: "",
        lambda t: "v1..",
        lambda t: unquote("v1.%00%00.x"),
    ],
)
def test_tampered_tokens_are_refused_without_quoting_them(tmp_path: Path, tamper: Any) -> None:
    urls = LocalUploadUrls(tmp_path / "upload.key")
    token = tamper(_token(urls.create(OWNER, DOC, KEY, "text/plain", 1).url))
    with pytest.raises(UploadTokenError) as caught:
        urls.verify(token, DOC)
    assert str(caught.value) == "The upload link is not valid."


def test_a_token_signed_with_another_secret_is_refused(tmp_path: Path) -> None:
    token = _token(LocalUploadUrls(tmp_path / "a.key").create(OWNER, DOC, KEY, "text/plain", 1).url)
    with pytest.raises(UploadTokenError):
        LocalUploadUrls(tmp_path / "b.key").verify(token, DOC)


def test_deleting_the_secret_revokes_outstanding_urls(tmp_path: Path) -> None:
    path = tmp_path / "upload.key"
    token = _token(LocalUploadUrls(path).create(OWNER, DOC, KEY, "text/plain", 1).url)
    path.unlink()
    with pytest.raises(UploadTokenError):
        LocalUploadUrls(path).verify(token, DOC)


def test_a_damaged_secret_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "upload.key"
    path.write_bytes(b"short")
    with pytest.raises(RuntimeError, match="upload.key"):
        LocalUploadUrls(path).create(OWNER, DOC, KEY, "text/plain", 1)


def test_token_errors_are_value_errors() -> None:
    assert issubclass(UploadTokenError, ValueError)


# ---- aws: presigned PUT ------------------------------------------------------------------------------


def test_presigned_url_names_the_key_and_signs_type_and_encryption(moto_s3: Any) -> None:
    ticket = S3UploadUrls(BUCKET, ttl=300, kms_key_id=KMS_KEY, boto3_client=moto_s3).create(
        OWNER, DOC, KEY, "image/jpeg", 10
    )
    parts = urlsplit(ticket.url)
    query = parse_qs(parts.query)
    assert parts.netloc.startswith(BUCKET) or parts.path.startswith(f"/{BUCKET}/")
    assert unquote(parts.path).endswith(f"/{KEY}")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert {
        "content-type",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    } <= set(signed)
    # every signed header but host is one the client is told to send, with the value that was signed
    assert {h.lower() for h in ticket.headers} == set(signed) - {"host"}
    assert ticket.headers == {
        "Content-Type": "image/jpeg",
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
    }


def test_a_declared_size_is_signed_as_content_length(moto_s3: Any) -> None:
    # moto does not check presigned signatures, so this reads what was signed: S3 recomputes the
    # signature over the Content-Length the client sends, and refuses a body of any other size.
    urls = S3UploadUrls(BUCKET, ttl=300, kms_key_id=KMS_KEY, boto3_client=moto_s3)
    ticket = urls.create(OWNER, DOC, KEY, "application/pdf", 1024, declared_bytes=321)
    signed = parse_qs(urlsplit(ticket.url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "content-length" in signed
    assert ticket.headers["Content-Length"] == "321"
    assert {h.lower() for h in ticket.headers} == set(signed) - {"host"}
    # AND without a declared size no length is signed (any size up to the limit; RegisterDocument checks)
    unsized = urls.create(OWNER, DOC, KEY, "application/pdf", 1024)
    assert "content-length" not in parse_qs(urlsplit(unsized.url).query)["X-Amz-SignedHeaders"][0]
    assert "Content-Length" not in unsized.headers


def test_without_a_kms_key_the_bucket_default_key_is_signed(moto_s3: Any) -> None:
    ticket = S3UploadUrls(BUCKET, boto3_client=moto_s3).create(OWNER, DOC, KEY, "image/png", 10)
    signed = parse_qs(urlsplit(ticket.url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "x-amz-server-side-encryption" in signed
    assert "x-amz-server-side-encryption-aws-kms-key-id" not in signed
    assert ticket.headers == {"Content-Type": "image/png", "x-amz-server-side-encryption": "aws:kms"}


def test_put_to_the_presigned_url_stores_the_bytes_encrypted(moto_s3: Any) -> None:
    import requests

    ticket = S3UploadUrls(BUCKET, kms_key_id=KMS_KEY, boto3_client=moto_s3).create(
        OWNER, DOC, KEY, "application/pdf", 100
    )
    data = b"%PDF-1.4\n% bytes of a scanned lab report\n"
    response = requests.put(ticket.url, data=data, headers=ticket.headers, timeout=10)
    assert response.status_code == 200
    stored = moto_s3.get_object(Bucket=BUCKET, Key=KEY)
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "application/pdf"
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == KMS_KEY


def test_the_client_built_on_first_use_signs_with_sigv4(moto_s3: Any) -> None:
    ticket = S3UploadUrls(BUCKET, region="eu-west-1").create(OWNER, DOC, KEY, "text/plain", 1)
    parts = urlsplit(ticket.url)
    assert parts.netloc == f"{BUCKET}.s3.eu-west-1.amazonaws.com"  # regional, virtual-hosted: no redirect
    assert "/eu-west-1/s3/aws4_request" in parse_qs(parts.query)["X-Amz-Credential"][0]


def test_presigning_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="UPLOAD_BUCKET"):
        S3UploadUrls("")
