"""``healthchat serve``: the HTTP API, the web app and local upload URLs on one local port.

Werkzeug serves it: its threaded WSGI server plus its ``Request``/``Response`` give correct HTTP/1.1
parsing (chunked bodies, keep-alive, HEAD), and ``send_from_directory`` serves ``web/`` with ``safe_join``
(no path traversal, no directory listing). Each API request becomes an API Gateway HTTP API (payload
v2) event for :func:`healthchat.api.app.lambda_handler` (:mod:`healthchat.local.http_event`), so routes,
validation and OpenAPI are defined once for the cloud and for this server. ``PUT /uploads/{id}?token=``
stands in for the presigned S3 PUT: it checks the HMAC token, stores the bytes and queues the pipeline
on one long-lived :class:`~healthchat.local.runtime.EmbeddedRuntime` (:mod:`healthchat.local.jobs`,
:mod:`healthchat.local.upload_endpoint`); the browser policy (CSP, headers) is in
:mod:`healthchat.local.web_security`.

Use :func:`serve` from the CLI, or :class:`LocalServer` (a context manager; port 0 picks a free port)
from tests.

With the default local sign-in anyone who can send it a request reads every document, so the server
listens on a non-loopback address only with ``HEALTHCHAT_AUTH=jwt``, and answers only requests whose
``Host`` names it (localhost, 127.0.0.1, [::1] or the listening address, with the port): a web page
on another site that rebinds its DNS name to 127.0.0.1 sends its own name and is refused.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from werkzeug.exceptions import NotFound
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from healthchat.config import Settings
from healthchat.local.http_event import (
    JwtVerifier,
    Unauthorized,
    error_response,
    http_api_event,
    lambda_response,
)
from healthchat.local.jobs import PipelineJobs
from healthchat.local.upload_endpoint import handle_upload
from healthchat.local.web_security import secure
from healthchat.wiring import reset_services, services

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from healthchat.local.runtime import EmbeddedRuntime

logger = logging.getLogger("healthchat.serve")

API_PREFIXES = ("/documents", "/questions", "/glossary", "/openapi.json", "/swagger")
PUBLIC_API_PATHS = ("/openapi.json", "/swagger")  # no JWT, as on API Gateway
MAX_API_BODY = 1024 * 1024
_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_UPLOAD_PATH = re.compile(r"/uploads/([^/]+)")
_READ_CHUNK = 64 * 1024
_MIMETYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain",
    ".woff2": "font/woff2",
}
_WILDCARD = ("", "0.0.0.0", "::")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a listening address or name) is this machine only: localhost, 127/8, ::1."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class UnsafeBindError(RuntimeError):
    """Listening beyond this machine without sign-in would expose every document."""


def default_web_root() -> Path:
    """``web/`` of this checkout (``HEALTHCHAT_WEB_ROOT`` overrides)."""
    env = os.environ.get("HEALTHCHAT_WEB_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "web"


def loggable_path(path: str) -> str:
    """A request path safe for logs: no query string (upload tokens), ids and terms replaced."""
    path = path.split("?", 1)[0]
    path = re.sub(r"^/glossary/.*", "/glossary/{term}", path)
    return _ULID.sub("{id}", path)


_running: set[int] = set()
_running_lock = threading.Lock()


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs method, redacted path and status only: query strings carry upload tokens, paths carry ids."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info("%s %s %s", self.command, loggable_path(getattr(self, "path", "")), code)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        logger.warning("malformed or interrupted request")


class LocalServer:
    """The local API + web app server; ``with LocalServer(port=0) as server: server.url``.

    One per process at a time: it reads the process's Settings from the environment again and runs the
    pipeline on the process-wide Services, as the Lambda handlers it calls expect.

    Parameters
    ----------
    host, port:
        Where to listen (127.0.0.1 by default; port 0 picks a free one). A non-loopback address needs
        ``HEALTHCHAT_AUTH=jwt`` (else :class:`UnsafeBindError`).
    web_root:
        The static web app folder (default: ``web/`` of this checkout).
    concurrency:
        Pipeline executions running at once; further uploads wait in the queue.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, web_root: Path | None = None, concurrency: int = 2
    ) -> None:
        self.host = host
        self.port = port
        self.web_root = (web_root or default_web_root()).resolve()
        self.concurrency = concurrency
        self.url = ""
        self.jobs: PipelineJobs | None = None
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._runtime: EmbeddedRuntime | None = None
        self._verifier: JwtVerifier | None = None
        self._allowed_hosts: frozenset[str] | None = None  # None: any Host (see _allowed_host_names)
        # The Powertools resolver keeps per-event state on the module-level app, like one Lambda execution
        # environment, so the API handler takes one event at a time.
        self._api_lock = threading.Lock()
        self._upload_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalServer:
        """Bind, start the embedded runtime and the pipeline worker, and serve in a background thread."""
        if not (self.web_root / "index.html").is_file():
            raise FileNotFoundError("web/index.html not found; set HEALTHCHAT_WEB_ROOT")
        settings = Settings.from_env()
        if not is_loopback(self.host) and settings.auth != "jwt":
            raise UnsafeBindError(
                f"refusing to listen on {self.host or 'every address'} without sign-in: anyone who can "
                "reach it could read every document. Set HEALTHCHAT_AUTH=jwt (with HEALTHCHAT_JWKS_FILE, "
                "HEALTHCHAT_JWT_ISSUER and HEALTHCHAT_JWT_AUDIENCE) or listen on 127.0.0.1."
            )
        with _running_lock:
            if _running:
                raise RuntimeError("another LocalServer is running in this process; stop it first")
            _running.add(id(self))
        try:
            self._bind_and_start(settings)
        except BaseException:
            with _running_lock:
                _running.discard(id(self))
            raise
        return self

    def _bind_and_start(self, settings: Settings) -> None:
        self._httpd = make_server(
            self.host, self.port, self._wsgi, threaded=True, request_handler=_QuietRequestHandler
        )
        self.port = self._httpd.server_port
        url_host = _bracketed(
            {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        )
        self.url = f"http://{url_host}:{self.port}"
        self._allowed_hosts = self._allowed_host_names(settings)
        try:
            self._start_backend()
        except BaseException:
            self._httpd.server_close()
            self._httpd = None
            reset_services()
            raise
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="healthchat-serve", daemon=True
        )
        self._thread.start()

    def _allowed_host_names(self, settings: Settings) -> frozenset[str] | None:
        """The ``Host`` values this server answers: its loopback names and listening address, each with
        the port (bare too on port 80), and the host of ``HEALTHCHAT_PUBLIC_URL`` if set.

        None (any Host) only with JWT sign-in on a wildcard address: clients then reach the machine by
        names the server cannot list, and without a token a request reads nothing anyway.
        """
        if settings.auth == "jwt" and self.host in _WILDCARD:
            return None
        names = {"localhost", "127.0.0.1", "[::1]"}
        if self.host not in _WILDCARD:
            names.add(_bracketed(self.host).lower())
        allowed = {f"{name}:{self.port}" for name in names}
        if self.port == 80:
            allowed |= names
        public = urlsplit(settings.public_url.strip())
        if public.netloc:
            allowed.add(public.netloc.lower())
        return frozenset(allowed)

    def _start_backend(self) -> None:
        # Settings are read again from the environment. Upload URLs stay relative (``/uploads/...``)
        # unless the user set HEALTHCHAT_PUBLIC_URL: a page opened at http://localhost:PORT must upload to
        # its own origin, not to 127.0.0.1 (another origin to the browser).
        reset_services()
        settings = services().settings
        if settings.auth == "jwt":
            self._verifier = JwtVerifier.from_settings(settings)
        from healthchat.local.runtime import EmbeddedRuntime

        self._runtime = EmbeddedRuntime(settings)
        self._runtime.__enter__()
        self.jobs = PipelineJobs(self._runtime, services, concurrency=self.concurrency).start()

    def stop(self) -> None:
        """Stop serving, stop the pipeline worker and the runtime, and restore the environment."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.jobs is not None:
            self.jobs.stop()
            self.jobs = None
        if self._runtime is not None:
            self._runtime.__exit__(None, None, None)
            self._runtime = None
        reset_services()
        with _running_lock:
            _running.discard(id(self))

    # -- WSGI ----------------------------------------------------------------------------------------
    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            if self._allowed_hosts is not None and (
                str(environ.get("HTTP_HOST", "")).strip().lower() not in self._allowed_hosts
            ):
                # DNS rebinding: a page of another site calling this server under its own name
                response = error_response(
                    400, "BAD_HOST", "This server only answers requests addressed to it (e.g. localhost)."
                )
            else:
                response = self._dispatch(request)
        except Exception as exc:  # noqa: BLE001 - any failure is a PHI-free 500, never a traceback page
            # the type only: an exception's message or traceback may quote document data
            logger.error("request failed (%s)", type(exc).__name__)
            response = error_response(500, "INTERNAL", "Something went wrong on the server.")
        secure(request, response, self.web_root, API_PREFIXES)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if any(path == p or path.startswith(p + "/") for p in API_PREFIXES):
            return self._api(request)
        upload = _UPLOAD_PATH.fullmatch(path)
        if upload:
            assert self.jobs is not None
            return handle_upload(request, upload.group(1), self.jobs, self._upload_lock)
        if request.method in ("GET", "HEAD"):
            return self._static(request)
        return error_response(404, "NOT_FOUND", "There is nothing at this address.")

    # -- API -----------------------------------------------------------------------------------------
    def _api(self, request: Request) -> Response:
        claims: dict[str, str] | None = None
        if self._verifier is not None and request.path not in PUBLIC_API_PATHS:
            try:
                claims = self._verifier.claims(request.headers.get("Authorization"))
            except Unauthorized as exc:
                return error_response(401, "UNAUTHORIZED", str(exc), {"WWW-Authenticate": "Bearer"})
        if (request.content_length or 0) > MAX_API_BODY:
            return error_response(413, "TOO_LARGE", "The request body is too large.")
        event = http_api_event(request, claims)
        from healthchat.api.app import lambda_handler
        from healthchat.local.lambda_endpoint import LocalLambdaContext

        # LocalLambdaContext has the attributes Powertools reads from Lambda's context object.
        context = cast("LambdaContext", LocalLambdaContext(function_name="QueryApiFunction"))
        with self._api_lock:
            result = lambda_handler(event, context)
        return lambda_response(result)

    # -- static files --------------------------------------------------------------------------------
    def _static(self, request: Request) -> Response:
        path = request.path.lstrip("/") or "index.html"
        if any(part.startswith(".") for part in path.split("/")):
            return error_response(404, "NOT_FOUND", "There is nothing at this address.")
        mimetype = _MIMETYPES.get(Path(path).suffix.lower(), "application/octet-stream")
        try:
            return send_from_directory(self.web_root, path, request.environ, mimetype=mimetype, max_age=0)
        except NotFound:
            return error_response(404, "NOT_FOUND", "There is nothing at this address.")


def _bracketed(host: str) -> str:
    """An IPv6 address in brackets, as it appears in URLs and Host headers; other hosts unchanged."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until Ctrl-C (or SIGTERM), then stop cleanly."""
    if not logger.handlers:  # one line per request on stderr; other libraries' logging stays as configured
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    server = LocalServer(host, port)
    try:
        server.start()
    except UnsafeBindError as exc:
        raise SystemExit(f"healthchat serve: {exc}") from None
    except OSError as exc:
        raise SystemExit(f"healthchat serve: cannot listen on {host}:{port} ({exc.strerror})") from None

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    sys.stderr.write(f"HealthChat is serving {server.url}  (Ctrl-C to stop)\n")
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        sys.stderr.write("Stopping...\n")
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
