"""`healthchat serve` over real HTTP: the web app's files, path traversal, the upload flow to SUCCEEDED,
bad upload tokens, size limits, the JWT authorizer and the API Gateway v2 event it builds."""

from __future__ import annotations

import copy
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from healthchat.local.http_event import JwtVerifier, Unauthorized, http_api_event, lambda_response
from healthchat.local.server import LocalServer, UnsafeBindError, is_loopback, loggable_path, serve
from healthchat.local.server import logger as server_logger
from healthchat.local.upload_endpoint import readable_size

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 100_000
NOTE_TEXT = (
    "Progress note. Assessment: type 2 diabetes mellitus and hypertension.\n"
    "Plan: continue metformin 500 mg PO BID and lisinopril 10 mg daily.\n"
    "LDL cholesterol 162 mg/dL (ref <100). Follow up in 3 months.\n"
)


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    raw: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    url = path if path.startswith("http") else base + path
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read())


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """A GET with the path sent exactly as given (urllib would normalise ``..``)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    status, body = response.status, response.read()
    conn.close()
    return status, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    home = tmp_path_factory.mktemp("serve-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHCHAT_HOME", str(home))
        mp.setenv("HEALTHCHAT_MAX_BYTES", str(MAX_BYTES))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.delenv("HEALTHCHAT_PUBLIC_URL", raising=False)
        mp.delenv("HEALTHCHAT_AUTH", raising=False)
        with LocalServer(port=0) as running:
            yield running


def create(base: str, filename: str = "note.txt", content_type: str = "text/plain") -> dict[str, Any]:
    reply = call(base, "POST", "/documents", {"filename": filename, "content_type": content_type})
    assert reply.status == 201, reply.body
    created: dict[str, Any] = reply.json()
    return created


def wait_done(base: str, document_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc: dict[str, Any] = call(base, "GET", f"/documents/{document_id}").json()
        if doc["status"] != "PROCESSING":
            return doc
        time.sleep(0.2)
    raise AssertionError("the document did not finish in time")


# ---- JWT (first: one LocalServer per process, and the module server starts after these) ----------

ISSUER = "https://issuer.example/pool"
AUDIENCE = "web-client"


def _token(key: rsa.RSAPrivateKey, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "user-123", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, signing_key: rsa.RSAPrivateKey) -> Path:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    return path


def test_jwt_verifier_accepts_good_tokens_only(jwks_file: Path, signing_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(str(jwks_file), ISSUER, AUDIENCE)
    claims = verifier.claims("Bearer " + _token(signing_key, **{"cognito:groups": ["a", "b"]}))
    assert claims["sub"] == "user-123" and claims["cognito:groups"] == "[a b]"
    # a Cognito access token names the client in client_id instead of aud
    assert verifier.claims("Bearer " + _token(signing_key, aud=None, client_id=AUDIENCE))["sub"] == "user-123"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "no header": None,
        "not bearer": "Basic dXNlcjpwYXNz",
        "expired": "Bearer " + _token(signing_key, exp=int(time.time()) - 10),
        "wrong issuer": "Bearer " + _token(signing_key, iss="https://evil.example"),
        "wrong audience": "Bearer " + _token(signing_key, aud="someone-else"),
        "wrong key": "Bearer " + _token(other_key),
        "unknown kid": "Bearer " + _token(signing_key, kid="k2"),
        "symmetric (HS256) token": "Bearer "
        + jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": 2**31},
            "a-shared-secret-long-enough-for-hs256",
            "HS256",
            {"kid": "k1"},
        ),
        "garbage": "Bearer not.a.token",
    }
    for name, header in bad.items():
        with pytest.raises(Unauthorized):
            verifier.claims(header)
            pytest.fail(name)


@pytest.mark.slow
def test_jwt_mode_requires_a_valid_bearer_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jwks_file: Path, signing_key: rsa.RSAPrivateKey
) -> None:
    # GIVEN a server with HEALTHCHAT_AUTH=jwt
    for name, value in {
        "HEALTHCHAT_AUTH": "jwt",
        "HEALTHCHAT_JWKS_FILE": str(jwks_file),
        "HEALTHCHAT_JWT_ISSUER": ISSUER,
        "HEALTHCHAT_JWT_AUDIENCE": AUDIENCE,
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HEALTHCHAT_PUBLIC_URL", raising=False)
    # (listening on every address, which only sign-in allows)
    with LocalServer(host="0.0.0.0", port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        # THEN API calls without a valid token get 401, with a challenge
        missing = call(server.url, "GET", "/documents")
        assert missing.status == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json()["error"]["code"] == "UNAUTHORIZED"
        expired = _token(signing_key, exp=int(time.time()) - 10)
        assert (
            call(server.url, "GET", "/documents", headers={"Authorization": f"Bearer {expired}"}).status
            == 401
        )
        # AND a valid token reaches the API as the token's subject
        auth = {"Authorization": "Bearer " + _token(signing_key)}
        created = call(
            server.url,
            "POST",
            "/documents",
            {"filename": "a.txt", "content_type": "text/plain"},
            headers=auth,
        )
        assert created.status == 201
        assert "/uploads/" in created.json()["upload_url"]
        listed = call(server.url, "GET", "/documents", headers=auth).json()["documents"]
        assert [d["document_id"] for d in listed] == [created.json()["document_id"]]
        # AND another subject does not see that document
        stranger = {"Authorization": "Bearer " + _token(signing_key, sub="user-999")}
        assert call(server.url, "GET", "/documents", headers=stranger).json()["documents"] == []
        # AND the web app and the API description need no token
        assert call(server.url, "GET", "/").status == 200
        assert call(server.url, "GET", "/openapi.json").status == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.10"])
def test_listening_beyond_this_machine_needs_jwt_sign_in(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    # GIVEN the default local sign-in (anyone who reaches the server is the local user)
    monkeypatch.delenv("HEALTHCHAT_AUTH", raising=False)
    for name in ("handlers", "propagate", "level"):  # serve() sets up its request log; undo that after
        monkeypatch.setattr(server_logger, name, copy.copy(getattr(server_logger, name)))
    # WHEN the server is asked to listen on a non-loopback address
    with pytest.raises(UnsafeBindError, match="HEALTHCHAT_AUTH=jwt"):
        LocalServer(host=host, port=0).start()
    # THEN `healthchat serve` stops with a clear message before listening
    with pytest.raises(SystemExit) as stopped:
        serve(host=host, port=0)
    message = str(stopped.value.code)
    assert message.startswith("healthchat serve: refusing to listen on")
    assert "HEALTHCHAT_AUTH=jwt" in message and "127.0.0.1" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_are_this_machine(host: str) -> None:
    assert is_loopback(host)


# ---- static files ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_serves_the_web_app_with_security_headers(server: LocalServer) -> None:
    # WHEN the page and its assets are fetched
    page = call(server.url, "GET", "/")
    script = call(server.url, "GET", "/app.js")
    style = call(server.url, "GET", "/app.css")
    # THEN each has its content type, and the page forbids inline scripts and sniffing
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert b'<script src="app.js"' in page.body and b"<script>" not in page.body
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert style.headers["Content-Type"].startswith("text/css")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # AND API answers (health data) are never cached
    assert call(server.url, "GET", "/documents").headers["Cache-Control"] == "no-store"


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/..%2fpyproject.toml",
        "/%2e%2e%2f%2e%2e%2fetc/passwd",
        "//etc/passwd",
        "/.git/config",
        "/web/",
        "/nothing-here/",
    ],
)
def test_no_path_traversal_or_listing(server: LocalServer, path: str) -> None:
    status, body = raw_get(server.url, path)
    assert status in (400, 404)
    assert b"[project]" not in body and b"root:" not in body


def raw_request(base: str, method: str, path: str, host: str | None) -> tuple[int, bytes]:
    """``method path`` with exactly the given Host header (None: no Host header at all)."""
    address, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(address, int(port), timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    status, body = response.status, response.read()
    conn.close()
    return status, body


@pytest.mark.slow
def test_only_requests_addressed_to_this_server_are_answered(server: LocalServer) -> None:
    port = server.port
    # GIVEN a document on the server
    document_id = create(server.url)["document_id"]
    # WHEN a page of another site reaches it through DNS rebinding (its own name in Host)
    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1.evil.example:{port}",
        f"localhost:{port + 1}",
    ):
        for path in ("/documents", f"/documents/{document_id}", "/"):
            status, body = raw_request(server.url, "GET", path, host)
            # THEN it is refused, and the answer holds no document data
            assert status == 400, (host, path)
            assert json.loads(body)["error"]["code"] == "BAD_HOST"
            assert document_id.encode() not in body
    assert raw_request(server.url, "GET", "/documents", None)[0] == 400
    # AND the server's own names are answered
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        status, body = raw_request(server.url, "GET", "/documents", host)
        assert status == 200, host
        assert document_id.encode() in body


# ---- uploads -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_upload_flow_reaches_succeeded(server: LocalServer) -> None:
    # GIVEN a new document and its upload URL on this server
    created = create(server.url)
    # relative: the page may be open at http://localhost:PORT as well as http://127.0.0.1:PORT
    assert created["upload_url"].startswith("/uploads/" + created["document_id"] + "?token=")
    # WHEN the bytes are PUT with the given headers
    put = call(
        server.url, "PUT", created["upload_url"], raw=NOTE_TEXT.encode(), headers=created["upload_headers"]
    )
    # THEN the upload is accepted and the pipeline runs to SUCCEEDED
    assert put.status == 202, put.body
    assert put.json()["status_url"] == f"/documents/{created['document_id']}"
    doc = wait_done(server.url, created["document_id"])
    assert doc["status"] == "SUCCEEDED", doc["error"]
    names = {m["name"].lower() for m in doc["result"]["medications"]}
    assert {"metformin", "lisinopril"} <= names
    listed = call(server.url, "GET", "/documents").json()["documents"]
    assert created["document_id"] in [d["document_id"] for d in listed]
    # AND the same link cannot upload a second file
    again = call(server.url, "PUT", created["upload_url"], raw=b"other", headers=created["upload_headers"])
    assert again.status == 409 and again.json()["error"]["code"] == "ALREADY_UPLOADED"


@pytest.mark.slow
def test_bad_upload_tokens_are_refused(server: LocalServer) -> None:
    created = create(server.url)
    other = create(server.url)
    doc_id, token = created["document_id"], created["upload_url"].split("token=")[1]
    headers = created["upload_headers"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    cases = {
        f"/uploads/{doc_id}": 401,  # no token
        f"/uploads/{doc_id}?token={forged}": 403,  # MAC does not match
        f"/uploads/{doc_id}?token=garbage": 403,
        f"/uploads/{other['document_id']}?token={token}": 403,  # another document's link
    }
    for path, status in cases.items():
        reply = call(server.url, "PUT", path, raw=b"hello", headers=headers)
        assert reply.status == status, path
        assert reply.json()["error"]["code"] in ("UNAUTHORIZED", "FORBIDDEN")
        assert token not in reply.body.decode()
    # a different content type than the link was issued for
    wrong_type = call(
        server.url, "PUT", created["upload_url"], raw=b"x", headers={"Content-Type": "image/png"}
    )
    assert wrong_type.status == 415
    # nothing was stored or started: both documents still wait for their upload
    assert call(server.url, "GET", f"/documents/{doc_id}").json()["status"] == "PROCESSING"
    assert call(server.url, "GET", f"/uploads/{doc_id}?token={token}").status == 405
    assert (
        call(server.url, "PUT", f"/uploads/not-a-ulid?token={token}", raw=b"x", headers=headers).status == 404
    )


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_too_large_upload_is_413_and_the_link_still_works(server: LocalServer, chunked: bool) -> None:
    # GIVEN an upload link on a server whose limit is MAX_BYTES
    created = create(server.url)
    payload = b"a" * (MAX_BYTES + 1)
    # WHEN one byte too many is sent (declared, or streamed without a length)
    raw: Any = iter([payload[:50_000], payload[50_000:]]) if chunked else payload
    reply = call(server.url, "PUT", created["upload_url"], raw=raw, headers=created["upload_headers"])
    # THEN 413 TOO_LARGE naming the limit in plain units, and nothing is stored: the document still waits
    assert reply.status == 413 and reply.json()["error"]["code"] == "TOO_LARGE"
    assert reply.json()["error"]["message"] == "The file is larger than the 97.7 KB limit."
    doc = call(server.url, "GET", f"/documents/{created['document_id']}").json()
    assert doc["status"] == "PROCESSING" and doc["error"] is None
    # AND a retry of the right size with the same link is accepted
    retry = call(
        server.url, "PUT", created["upload_url"], raw=NOTE_TEXT.encode(), headers=created["upload_headers"]
    )
    assert retry.status == 202, retry.body


@pytest.mark.slow
def test_upload_larger_than_declared_is_413_in_bytes_then_retry_works(server: LocalServer) -> None:
    # GIVEN a document created with a declared size of 10 bytes
    reply = call(
        server.url, "POST", "/documents", {"filename": "n.txt", "content_type": "text/plain", "bytes": 10}
    )
    created = reply.json()
    # WHEN 13 bytes are PUT THEN 413 says "10 bytes", not "0.00977 KB"
    too_big = call(server.url, "PUT", created["upload_url"], raw=b"x" * 13, headers=created["upload_headers"])
    assert too_big.status == 413
    assert too_big.json()["error"]["message"] == "The file is larger than the 10 bytes limit."
    # AND the 10 declared bytes then go through; only a second file after that is ALREADY_UPLOADED
    ok = call(server.url, "PUT", created["upload_url"], raw=b"0123456789", headers=created["upload_headers"])
    assert ok.status == 202, ok.body
    again = call(
        server.url, "PUT", created["upload_url"], raw=b"0123456789", headers=created["upload_headers"]
    )
    assert again.status == 409 and again.json()["error"]["code"] == "ALREADY_UPLOADED"


@pytest.mark.slow
def test_link_of_a_document_that_failed_before_its_upload_is_409_not_already_uploaded(
    server: LocalServer,
) -> None:
    from healthchat.domain.models import ErrorInfo, Status
    from healthchat.wiring import services

    # GIVEN a document marked FAILED while no file was ever stored for it
    created = create(server.url)
    svc = services()
    error = ErrorInfo(code="INTERNAL", message="An internal error occurred.")
    svc.records.update(svc.settings.default_owner, created["document_id"], status=Status.FAILED, error=error)
    # WHEN its link is used THEN 409 says it no longer waits for a file (nothing was uploaded)
    reply = call(server.url, "PUT", created["upload_url"], raw=b"hello", headers=created["upload_headers"])
    assert reply.status == 409 and reply.json()["error"]["code"] == "NOT_WAITING_FOR_UPLOAD"


@pytest.mark.parametrize(
    ("size", "text"),
    [(1, "1 byte"), (10, "10 bytes"), (1023, "1023 bytes"), (1024, "1 KB"), (1536, "1.5 KB")]
    + [(100_000, "97.7 KB"), (10 * 1048576, "10 MB"), (int(2.5 * 1048576), "2.5 MB")],
)
def test_readable_size(size: int, text: str) -> None:
    assert readable_size(size) == text


@pytest.mark.slow
def test_upload_at_the_limit_is_accepted(server: LocalServer) -> None:
    created = create(server.url)
    body = (NOTE_TEXT * (MAX_BYTES // len(NOTE_TEXT) + 1)).encode()[:MAX_BYTES]
    reply = call(server.url, "PUT", created["upload_url"], raw=body, headers=created["upload_headers"])
    assert reply.status == 202


# ---- the API Gateway v2 event --------------------------------------------------------------------------


def test_http_api_event_shape() -> None:
    environ = EnvironBuilder(
        path="/documents",
        method="POST",
        query_string="limit=5&tag=a&tag=b",
        headers={"X-Trace": "1", "Cookie": "a=1; b=2", "Content-Type": "application/json"},
        data=b'{"filename": "x.txt"}',
    ).get_environ()
    event = http_api_event(Request(environ), {"sub": "user-1"})
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/documents" and event["rawQueryString"] == "limit=5&tag=a&tag=b"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b"}
    assert event["headers"]["x-trace"] == "1" and "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["body"] == '{"filename": "x.txt"}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == {"sub": "user-1"}
    binary = Request(
        EnvironBuilder(method="PUT", data=b"\x89PNG\x00", content_type="image/png").get_environ()
    )
    assert http_api_event(binary)["isBase64Encoded"] is True
    assert "authorizer" not in http_api_event(binary)["requestContext"]


def test_lambda_response_translation() -> None:
    response = lambda_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "body": '{"a": 1}',
            "cookies": ["c=1"],
        }
    )
    assert response.status_code == 201 and response.get_data() == b'{"a": 1}'
    assert response.headers.getlist("Set-Cookie") == ["c=1"]
    assert lambda_response({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}).get_data() == b"hi"
    assert lambda_response({"ok": True}).get_json() == {"ok": True}


def test_logged_paths_carry_no_tokens_or_ids() -> None:
    logged = loggable_path("/uploads/01HZX3V6Q1S2T3V4W5X6Y7Z8AB?token=v1.secret.mac")
    assert logged == "/uploads/{id}"
    assert loggable_path("/documents/01HZX3V6Q1S2T3V4W5X6Y7Z8AB/questions") == "/documents/{id}/questions"
    assert loggable_path("/glossary/hemoglobin%20a1c") == "/glossary/{term}"


def test_csp_connect_src_names_the_origins_config_json_names(tmp_path: Path) -> None:
    from healthchat.local.web_security import config_origins

    (tmp_path / "config.json").write_text(
        '{"apiBaseUrl": "https://api.example.org/prod", "cognitoDomain": "auth.example.org",'
        ' "clientId": "x", "redirectUri": "https://app.example.org/"}'
    )
    assert config_origins(tmp_path) == ("https://api.example.org", "https://auth.example.org")
    (tmp_path / "config.json").write_text(
        '{"apiBaseUrl": "http://evil.example.org", "cognitoDomain": "127.0.0.1:9"}'
    )
    assert config_origins(tmp_path) == ("http://127.0.0.1:9",)  # plain http only for loopback
    (tmp_path / "config.json").write_text("{}")
    assert config_origins(tmp_path) == ()
