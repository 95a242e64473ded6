"""The HTTP API on its cloud adapters under moto: Cognito tokens, a presigned S3 PUT, DynamoDB records.

The JWT path is the one API Gateway takes: moto's Cognito signs an ID token (RS256), the test verifies it
against the pool's JWKS (as the HTTP API's JWT authorizer does) and passes its claims, as strings, in
``requestContext.authorizer.jwt.claims``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_api import PHI, assert_error, call, http_event, sample_result

from healthchat.config import Settings
from healthchat.domain.models import DocRef, Status
from healthchat.stages.artifacts import artifact_key, result_key
from healthchat.stages.register import register_document
from healthchat.wiring import Services, reset_services

REGION = "us-east-1"
UPLOADS = "hc-test-uploads"
DATA = "hc-test-data"
TABLE = "hc-test-records"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PASSWORD = "Corr3ct-Horse-Battery!"


@dataclass
class Cloud:
    svc: Services
    s3: Any
    dynamodb: Any
    claims: dict[str, dict[str, str]]  # user name -> verified ID-token claims, as API Gateway passes them


def _id_token_claims(cognito: Any, pool_id: str, client_id: str, user: str) -> dict[str, str]:
    import jwt
    import requests

    cognito.admin_create_user(UserPoolId=pool_id, Username=user, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=user, Password=PASSWORD, Permanent=True)
    auth = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )
    token = auth["AuthenticationResult"]["IdToken"]
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    jwks = jwt.PyJWKSet.from_dict(requests.get(f"{issuer}/.well-known/jwks.json", timeout=10).json())
    key = jwks[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key=key, algorithms=["RS256"], audience=client_id, issuer=issuer)
    return {name: str(value) for name, value in claims.items()}


@pytest.fixture
def cloud(
    monkeypatch: pytest.MonkeyPatch, create_records_table: Callable[[Any, str], None]
) -> Iterator[Cloud]:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (UPLOADS, DATA):
            s3.create_bucket(Bucket=bucket)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_records_table(dynamodb, TABLE)
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="healthchat-users")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        claims = {user: _id_token_claims(cognito, pool_id, client_id, user) for user in ("alice", "bob")}
        settings = Settings(
            runtime="aws",
            storage="aws",
            upload_bucket=UPLOADS,
            data_bucket=DATA,
            table_name=TABLE,
            kms_key_id=KMS_KEY,
            auth="jwt",
            region=REGION,
        )
        svc = Services(settings)
        reset_services(svc)
        try:
            yield Cloud(svc=svc, s3=s3, dynamodb=dynamodb, claims=claims)
        finally:
            reset_services(None)


def _as(cloud: Cloud, user: str, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    return call(http_event(method, path, body=body, claims=cloud.claims[user]))


def _items(cloud: Cloud, owner: str) -> list[str]:
    response = cloud.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"OWNER#{owner}"}},
    )
    return sorted(item["sk"]["S"] for item in response["Items"])


def _keys(cloud: Cloud, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in cloud.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_upload_poll_isolate_and_erase_with_cognito_users(cloud: Cloud) -> None:
    import requests

    alice = cloud.claims["alice"]["sub"]
    # GIVEN alice signed in with Cognito WHEN she starts an upload
    status, _, created = _as(
        cloud, "alice", "POST", "/documents", {"filename": f"{PHI}.txt", "content_type": "text/plain"}
    )
    assert status == 201, created
    doc_id = created["document_id"]
    upload_key = f"uploads/{alice}/{doc_id}/Jane_Doe.txt"
    # THEN the URL is a presigned PUT on the upload bucket for her key, SSE-KMS and the type signed
    url = urlsplit(created["upload_url"])
    assert url.scheme == "https" and url.netloc.startswith(f"{UPLOADS}.s3.") and url.path == f"/{upload_key}"
    assert "X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-server-side-encryption" in created["upload_url"]
    assert created["upload_headers"]["x-amz-server-side-encryption-aws-kms-key-id"] == KMS_KEY
    # AND the bytes PUT with exactly those headers land encrypted under that key
    text = b"LDL cholesterol 162 mg/dL (high)\nmetformin 500 mg twice daily\n"
    put = requests.put(created["upload_url"], data=text, headers=created["upload_headers"], timeout=10)
    assert put.status_code == 200
    head = cloud.s3.head_object(Bucket=UPLOADS, Key=upload_key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["ContentType"] == "text/plain"
    # AND the record is already in DynamoDB, PROCESSING
    assert _as(cloud, "alice", "GET", f"/documents/{doc_id}")[2]["status"] == "PROCESSING"

    # WHEN the bucket's "Object Created" event reaches RegisterDocument, and the pipeline publishes
    head_etag = head["ETag"].strip('"')
    event = {"source": "aws.s3", "detail": {"object": {"key": upload_key, "etag": head_etag}}}
    registered = register_document(event, cloud.svc)
    assert registered.doc.document_id == doc_id and not registered.duplicate
    doc = DocRef(owner_id=alice, document_id=doc_id, upload_key=upload_key)
    cloud.svc.data.put(artifact_key(doc, "extract_text"), b"{}")
    cloud.svc.data.put(result_key(doc), sample_result(alice, doc_id).model_dump_json().encode())
    cloud.svc.records.update(alice, doc_id, status=Status.SUCCEEDED, result_key=result_key(doc))

    # THEN alice reads her result and FHIR bundle; the filename she gave is kept
    status, _, polled = _as(cloud, "alice", "GET", f"/documents/{doc_id}")
    assert status == 200 and polled["status"] == "SUCCEEDED" and polled["filename"] == f"{PHI}.txt"
    assert polled["result"]["labs"][0]["name"] == "LDL cholesterol"
    assert _as(cloud, "alice", "GET", f"/documents/{doc_id}/fhir")[0] == 200
    # AND bob, another Cognito user, cannot see, export or delete it: 404, like an unknown id
    assert _as(cloud, "bob", "GET", "/documents")[2]["documents"] == []
    for method, suffix in (("GET", ""), ("GET", "/fhir"), ("DELETE", "")):
        status, _, body = _as(cloud, "bob", method, f"/documents/{doc_id}{suffix}")
        assert_error(status, body, 404, "NOT_FOUND")
    items = _items(cloud, alice)
    assert f"DOC#{doc_id}" in items and any(sk.startswith("SRC#") for sk in items)  # record and upload claim

    # WHEN alice deletes it THEN the upload, every artifact, the record and the claim are gone
    assert _as(cloud, "alice", "DELETE", f"/documents/{doc_id}")[0] == 204
    assert _keys(cloud, UPLOADS, f"uploads/{alice}/") == []
    assert _keys(cloud, DATA, f"{alice}/") == []
    assert _items(cloud, alice) == []
    assert_error(*_as(cloud, "alice", "GET", f"/documents/{doc_id}")[::2], 404, "NOT_FOUND")


def test_claims_without_a_subject_are_401_in_jwt_mode(cloud: Cloud) -> None:
    no_sub = {k: v for k, v in cloud.claims["alice"].items() if k != "sub"}
    for event in (
        http_event("GET", "/documents", owner=None),
        http_event("GET", "/documents", claims=no_sub),
    ):
        status, _, body = call(event)
        assert_error(status, body, 401, "UNAUTHORIZED")


def test_lists_are_per_cognito_user(cloud: Cloud) -> None:
    created = {
        user: [
            _as(cloud, user, "POST", "/documents", {"filename": f"{n}.png", "content_type": "image/png"})[2][
                "document_id"
            ]
            for n in range(3)
        ]
        for user in ("alice", "bob")
    }
    for user, ids in created.items():
        status, _, page = _as(cloud, user, "GET", "/documents")
        assert status == 200
        assert [d["document_id"] for d in page["documents"]] == sorted(ids, reverse=True)
    status, _, page = call(http_event("GET", "/documents", query={"limit": 2}, claims=cloud.claims["alice"]))
    assert len(page["documents"]) == 2 and page["next_cursor"]
    status, _, rest = call(
        http_event(
            "GET",
            "/documents",
            query={"limit": 2, "cursor": page["next_cursor"]},
            claims=cloud.claims["alice"],
        )
    )
    assert [d["document_id"] for d in page["documents"] + rest["documents"]] == sorted(
        created["alice"], reverse=True
    )
    assert json.dumps(rest).count("document_id") == 1
