"""Browser-facing security of ``healthchat serve``: the Content-Security-Policy (no inline script; connect-src
widened only to the origins the web app's ``config.json`` names), the other security headers, and caching
(API answers hold health data: never cached)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Powertools' Swagger UI page is one HTML file with its script and styles inline.
_SWAGGER_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def config_origins(web_root: Path) -> tuple[str, ...]:
    """Origins the web app's ``config.json`` makes it call (API base URL, Cognito Hosted UI), for connect-src.

    https origins, or http for loopback only (as the app itself accepts); re-read when the file changes.
    """
    config = web_root / "config.json"
    try:
        stat = config.stat()
    except OSError:
        return ()
    return _origins_of(str(config), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _origins_of(path: str, _mtime: int, _size: int) -> tuple[str, ...]:
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    origins: list[str] = []
    for key in ("apiBaseUrl", "cognitoDomain"):
        value = config.get(key) if isinstance(config, dict) else None
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if "://" not in value:
            host = urlsplit(f"//{value}").hostname or ""
            value = f"{'http' if host in LOOPBACK else 'https'}://{value}"
        parts = urlsplit(value)
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(dict.fromkeys(origins))


_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def secure(request: Request, response: Response, web_root: Path, api_prefixes: tuple[str, ...]) -> None:
    """Security headers and the CSP (connect-src widened to config.json's origins) on every response."""
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path == "/swagger":
        csp = _SWAGGER_CSP
    else:
        extra = " ".join(config_origins(web_root))
        csp = _CSP.replace("connect-src 'self'", f"connect-src 'self' {extra}") if extra else _CSP
    response.headers["Content-Security-Policy"] = csp
    if "Cache-Control" not in response.headers:
        # API answers hold health data: never cache them; the app's files are revalidated
        static = not request.path.startswith(api_prefixes) and response.mimetype != "application/json"
        response.headers["Cache-Control"] = "no-cache" if static else "no-store"
