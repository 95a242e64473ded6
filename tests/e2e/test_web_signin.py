"""Sign-in of the deployed web app (Cognito Hosted UI, authorization code + PKCE) in real headless Chromium.

A fake Hosted UI runs in the test (http.server on 127.0.0.1): ``/oauth2/authorize`` redirects back with
a code, ``/oauth2/token`` gives tokens signed by a test RSA key only when the ``code_verifier`` hashes
(S256) to the challenge sent to ``/authorize``, ``/logout`` redirects back. ``healthchat serve`` runs in
JWT mode with that key's JWKS and serves a copy of web/ whose config.json points at the fake. Proven: the
app asks to sign in and calls no API before; after sign-in it lists the user's documents with the bearer
token; an expired token asks to sign in again; sign-out clears the tab; a wrong verifier fails visibly.

The local server adds the origins config.json names to its CSP's connect-src (as a deployment's static host
lists its Cognito domain there, docs/api_deploy.md), so the page calls the fake under the real policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from web_support import axe_violations, describe, local_server, new_page, web_root_with_config

from healthchat.local.server import LocalServer

pytestmark = pytest.mark.slow

CLIENT_ID = "web-client-test"
ISSUER = "https://cognito-idp.test.example/pool-1"
SUBJECT = "user-123"
EMAIL = "pat@example.org"
TIMEOUT_MS = 15_000


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeHostedUi:
    """The three Cognito Hosted UI endpoints the web app uses, with Cognito's PKCE check."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.redirect_uri = ""  # set once the app's server is up
        self.codes: dict[str, str] = {}  # code -> code_challenge (single use)
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_answers: list[int] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeHostedUi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def tokens(self) -> dict[str, Any]:
        now = int(time.time())
        common = {"sub": SUBJECT, "iss": ISSUER, "iat": now, "exp": now + 3600}
        access = {**common, "client_id": CLIENT_ID, "token_use": "access", "scope": "openid email"}
        ident = {**common, "aud": CLIENT_ID, "token_use": "id", "email": EMAIL}
        sign = lambda claims: jwt.encode(claims, self.key, "RS256", {"kid": "k1"})  # noqa: E731
        return {
            "access_token": sign(access),
            "id_token": sign(ident),
            "token_type": "Bearer",
            "expires_in": 3600,
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.authorize_requests.append(query)
        valid = (
            query.get("client_id") == CLIENT_ID
            and query.get("response_type") == "code"
            and query.get("redirect_uri") == self.redirect_uri
            and query.get("code_challenge_method") == "S256"
            and len(query.get("code_challenge", "")) == 43
            and "openid" in query.get("scope", "").split()
        )
        if not valid:
            return 400, {}, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = query["code_challenge"]
        location = self.redirect_uri + "?" + urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"Location": location}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.token_requests.append(form)
        challenge = self.codes.pop(form.get("code", ""), None)
        valid = (
            challenge is not None
            and form.get("grant_type") == "authorization_code"
            and form.get("client_id") == CLIENT_ID
            and form.get("redirect_uri") == self.redirect_uri
            and s256(form.get("code_verifier", "")) == challenge
        )
        status, body = (200, self.tokens()) if valid else (400, {"error": "invalid_grant"})
        self.token_answers.append(status)
        return status, {}, body

    def logout(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        if query.get("client_id") != CLIENT_ID or query.get("logout_uri") != self.redirect_uri:
            return 400, {}, {"error": "invalid_request"}
        return 302, {"Location": query["logout_uri"]}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                route = {"/oauth2/authorize": fake.authorize, "/logout": fake.logout}.get(url.path)
                self._answer(*(route(query) if route else (404, {}, {"error": "not_found"})))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                form_encoded = self.headers.get("Content-Type", "").startswith(
                    "application/x-www-form-urlencoded"
                )
                if urlsplit(self.path).path != "/oauth2/token" or not form_encoded:
                    self._answer(400, {}, {"error": "invalid_request"})
                    return
                self._answer(*fake.token(form))

            def _answer(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
                data = json.dumps(body).encode() if status != 302 else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                # Cognito's token endpoint answers browsers cross-origin
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def hosted_ui(signing_key: rsa.RSAPrivateKey) -> Iterator[FakeHostedUi]:
    with FakeHostedUi(signing_key) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, signing_key: rsa.RSAPrivateKey, hosted_ui: FakeHostedUi
) -> Iterator[LocalServer]:
    folder = tmp_path_factory.mktemp("signin")
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    web_root = web_root_with_config(folder, {})
    env = {
        "HEALTHCHAT_AUTH": "jwt",
        "HEALTHCHAT_JWKS_FILE": str(jwks),
        "HEALTHCHAT_JWT_ISSUER": ISSUER,
        "HEALTHCHAT_JWT_AUDIENCE": CLIENT_ID,
    }
    # The server adds the origins config.json names (the fake Hosted UI here) to the CSP's connect-src.
    with local_server(folder / "home", env, web_root) as running:
        hosted_ui.redirect_uri = running.url + "/"
        config = {
            "apiBaseUrl": running.url,
            "cognitoDomain": hosted_ui.origin.removeprefix("http://"),
            "clientId": CLIENT_ID,
            "redirectUri": hosted_ui.redirect_uri,
        }
        (web_root / "config.json").write_text(json.dumps(config), encoding="utf-8")
        yield running


@pytest.fixture(scope="module")
def my_document(server: LocalServer, hosted_ui: FakeHostedUi) -> str:
    """A document of the signed-in user, created over the API with that user's token."""
    body = json.dumps({"filename": "my-note.txt", "content_type": "text/plain"}).encode()
    request = urllib.request.Request(
        server.url + "/documents",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer " + hosted_ui.tokens()["access_token"],
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local test server)
        assert response.status == 201
        return str(json.loads(response.read())["document_id"])


def open_app(browser: Any, server: LocalServer, hosted_ui: FakeHostedUi) -> tuple[Any, list[str], list[Any]]:
    """The app in a fresh context, with its console errors and the API requests it makes."""
    page, errors = new_page(browser)
    api_requests: list[Any] = []
    page.on("request", lambda r: api_requests.append(r) if "/documents" in r.url else None)
    response = page.goto(server.url)
    # the page runs under the server's CSP, which lets it reach the Hosted UI and nothing else
    csp = response.headers["content-security-policy"]
    connect_src = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()
    assert hosted_ui.origin in connect_src and "script-src 'self';" in csp
    assert all(o == "'self'" or o.startswith("http://127.0.0.1:") for o in connect_src[1:])
    return page, errors, api_requests


def session(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "() => ({ auth: sessionStorage.getItem('healthchat.auth'), local: localStorage.length,"
        " cookies: document.cookie, url: location.href })"
    )


def test_sign_in_with_pkce_lists_my_documents_with_the_bearer_token(
    browser: Any, server: LocalServer, hosted_ui: FakeHostedUi, my_document: str
) -> None:
    from playwright.sync_api import expect

    page, errors, api_requests = open_app(browser, server, hosted_ui)
    # GIVEN the deployed app's config: it asks to sign in, shows no documents and calls no API yet
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.locator("#app-panels").is_hidden()
    assert api_requests == []
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    # WHEN the person signs in (the fake Hosted UI signs them in at once and redirects back)
    page.click("#sign-in")
    # THEN their document is listed, fetched with the access token as a bearer token
    expect(page.locator(f'.doc-button[data-document-id="{my_document}"]')).to_be_visible(timeout=TIMEOUT_MS)
    assert "my-note.txt" in page.locator(".doc-button").first.inner_text()
    expect(page.locator("#account-name")).to_have_text(f"Signed in as {EMAIL}")
    authorize = hosted_ui.authorize_requests[-1]
    token_form = hosted_ui.token_requests[-1]
    assert hosted_ui.token_answers[-1] == 200
    assert s256(token_form["code_verifier"]) == authorize["code_challenge"] != token_form["code_verifier"]
    assert 43 <= len(token_form["code_verifier"]) <= 128
    listed = [r for r in api_requests if r.url.startswith(server.url + "/documents")]
    bearer = listed[-1].all_headers()["authorization"]
    assert (
        bearer.startswith("Bearer ")
        and jwt.decode(bearer.removeprefix("Bearer "), options={"verify_signature": False})["token_use"]
        == "access"
    )
    # AND the code is gone from the address bar, the tokens live in this tab's sessionStorage only
    state = session(page)
    assert state["url"] == server.url + "/"
    assert state["auth"] and state["local"] == 0 and state["cookies"] == ""
    # AND the page with the account bar still passes axe
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    # WHEN the token has expired THEN the next API call asks to sign in again instead of calling the API
    page.evaluate(
        "() => { const a = JSON.parse(sessionStorage.getItem('healthchat.auth'));"
        " a.expiresAt = Date.now() - 1000; sessionStorage.setItem('healthchat.auth', JSON.stringify(a)); }"
    )
    calls = len(api_requests)
    page.click("#refresh-documents")
    expect(page.locator("#signin-status")).to_contain_text("sign-in has ended")
    assert page.locator("#app-panels").is_hidden() and page.locator("#sign-in").is_visible()
    assert len(api_requests) == calls and session(page)["auth"] is None

    # WHEN they sign in again and then sign out THEN the Hosted UI session ends and the tab forgets the tokens
    page.click("#sign-in")
    expect(page.locator("#sign-out")).to_be_visible(timeout=TIMEOUT_MS)
    href = page.get_attribute("#sign-out", "href")
    assert href == f"{hosted_ui.origin}/logout?" + urlencode(
        {"client_id": CLIENT_ID, "logout_uri": hosted_ui.redirect_uri}
    )
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible(timeout=TIMEOUT_MS)
    assert session(page)["auth"] is None
    assert errors == []
    page.context.close()


def test_a_wrong_code_verifier_fails_visibly(
    browser: Any, server: LocalServer, hosted_ui: FakeHostedUi
) -> None:
    from playwright.sync_api import expect

    page, errors, api_requests = open_app(browser, server, hosted_ui)
    # GIVEN a tab whose stored PKCE verifier is swapped before the code comes back
    page.add_init_script(
        """if (new URLSearchParams(location.search).has("code")) {
            const pending = JSON.parse(sessionStorage.getItem("healthchat.pkce"));
            if (pending) {
                pending.verifier = "x".repeat(64);
                sessionStorage.setItem("healthchat.pkce", JSON.stringify(pending));
            }
        }"""
    )
    expect(page.locator("#sign-in")).to_be_visible()
    # WHEN the person signs in
    page.click("#sign-in")
    # THEN the token endpoint refuses the verifier and the page says so, in an alert
    error = page.locator("#signin-error")
    expect(error).to_contain_text("Sign-in failed", timeout=TIMEOUT_MS)
    assert "invalid_grant" in error.inner_text() and error.get_attribute("role") == "alert"
    assert hosted_ui.token_requests[-1]["code_verifier"] == "x" * 64 and hosted_ui.token_answers[-1] == 400
    # AND nothing is signed in, no document is shown, no API was called
    assert session(page)["auth"] is None
    assert page.locator("#app-panels").is_hidden() and page.locator("#sign-in").is_visible()
    assert api_requests == []
    # AND a code that comes back without this tab's sign-in (forged state) is not even sent
    sent = len(hosted_ui.token_requests)
    page.goto(server.url + "/?code=stolen&state=forged")
    expect(error).to_contain_text("does not belong to a sign-in started here")
    assert len(hosted_ui.token_requests) == sent and session(page)["auth"] is None
    # the only console error is the browser's own note of the refused token request
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.context.close()
