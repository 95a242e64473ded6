"""The local stand-in for API Gateway (HTTP API): request -> payload v2 event, handler result -> response,
and the JWT authorizer.

The event and response shapes follow AWS's "payload format version 2.0" for Lambda proxy integrations,
so :func:`healthchat.api.app.lambda_handler` runs unchanged behind ``healthchat serve``. Bearer tokens are
checked with PyJWT against a JWKS file, the way API Gateway's JWT authorizer checks them (signature,
``exp``/``nbf``, issuer, and ``aud`` or Cognito's ``client_id``), and the claims are passed on as
strings, as API Gateway does.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from healthchat.config import Settings
from healthchat.local.lambda_endpoint import ACCOUNT

_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "application/xml")
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class Unauthorized(Exception):
    """The request has no valid bearer token (message is PHI-free and never quotes the token)."""


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(error_body(code, message), status=status, mimetype="application/json", headers=headers)


def _is_text(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype in _TEXT_TYPES or mimetype.endswith("+json")


def _body(request: Request) -> tuple[str | None, bool]:
    data = request.get_data(cache=False)
    if not data:
        return None, False
    if _is_text(request.mimetype):
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode("ascii"), True


def _raw_path_and_query(request: Request) -> tuple[str, str]:
    """The path as the client sent it (still percent-encoded, as API Gateway's rawPath) and the query."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or quote(request.path)
    path = str(raw).partition("?")[0]
    return path or "/", str(request.environ.get("QUERY_STRING", ""))


def http_api_event(request: Request, claims: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The API Gateway HTTP API (payload v2) event for ``request``; ``claims`` from a verified JWT."""
    raw_path, raw_query = _raw_path_and_query(request)
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key != "cookie":
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    body, is_base64 = _body(request)
    now = time.time()
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": "local",
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": request.remote_addr or "127.0.0.1",
            "userAgent": request.headers.get("User-Agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": is_base64,
    }
    cookies = request.headers.get("Cookie")
    if cookies:
        event["cookies"] = [c.strip() for c in cookies.split(";") if c.strip()]
    if request.args:
        event["queryStringParameters"] = {k: ",".join(request.args.getlist(k)) for k in request.args}
    if body is not None:
        event["body"] = body
    return event


def lambda_response(result: Any) -> Response:
    """The HTTP response API Gateway would send for a handler's payload v2 result."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # v2 lets a handler return bare JSON: API Gateway then answers 200 application/json
        return Response(json.dumps(result), status=200, mimetype="application/json")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.add(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    if "content-type" not in {k.lower() for k in headers.keys()}:  # noqa: SIM118 (Headers.keys)
        headers["Content-Type"] = "application/json"
    return Response(data, status=int(result["statusCode"]), headers=headers)


def _claim_text(value: Any) -> str:
    """A claim as API Gateway passes it: strings as-is, arrays as ``[a b]``, others as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict) else str(value)


class JwtVerifier:
    """Verifies ``Authorization: Bearer <JWT>`` against a JWKS file, issuer and audience.

    Parameters
    ----------
    jwks_file:
        A JSON Web Key Set (``{"keys": [...]}``), e.g. saved from a Cognito pool's
        ``/.well-known/jwks.json``. Read once.
    issuer:
        The required ``iss``.
    audience:
        Accepted when the token's ``aud`` holds it (ID tokens) or its ``client_id`` equals it
        (Cognito access tokens), as API Gateway's JWT authorizer does.
    """

    def __init__(self, jwks_file: str, issuer: str, audience: str) -> None:
        import jwt  # PyJWT: imported only when HEALTHCHAT_AUTH=jwt

        self._jwt = jwt
        self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(jwks_file).read_text(encoding="utf-8")))
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier:
        missing = [
            name
            for name, value in (
                ("HEALTHCHAT_JWKS_FILE", settings.jwks_file),
                ("HEALTHCHAT_JWT_ISSUER", settings.jwt_issuer),
                ("HEALTHCHAT_JWT_AUDIENCE", settings.jwt_audience),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"HEALTHCHAT_AUTH=jwt needs {', '.join(missing)}")
        return cls(settings.jwks_file, settings.jwt_issuer, settings.jwt_audience)

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The verified token's claims as strings; raises :class:`Unauthorized`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Sign in first: a bearer token is required.")
        jwt = self._jwt
        try:
            kid = jwt.get_unverified_header(token.strip()).get("kid")
            key = next(k for k in self._keys.keys if k.key_id == kid)
            if key.algorithm_name not in _ASYMMETRIC:
                raise Unauthorized("The token is not valid.")
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                key=key.key,
                algorithms=[key.algorithm_name],
                issuer=self.issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
            )
        except (jwt.PyJWTError, StopIteration, ValueError) as exc:
            raise Unauthorized("The token is not valid or has expired.") from exc
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud] if aud else []
        if self.audience not in audiences and claims.get("client_id") != self.audience:
            raise Unauthorized("The token is not for this API.")
        return {name: _claim_text(value) for name, value in claims.items()}
