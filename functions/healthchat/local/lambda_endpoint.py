"""An in-process Lambda Invoke endpoint on 127.0.0.1 that calls the handlers named in template.yaml.

moto's Step Functions interpreter invokes Lambda tasks through botocore; with
``AWS_ENDPOINT_URL_LAMBDA`` pointing here, every ``Invoke`` lands in :class:`LambdaEndpoint`,
which imports ``<CodeUri>/<module>.py`` and calls the handler, replying the way the Lambda service
does (``X-Amz-Function-Error: Unhandled`` with ``errorType``/``errorMessage`` on an exception).
Hand-written because no library serves Lambda's Invoke API in-process over our own handlers
(moto's Lambda runs code in Docker, which this runtime must not need).
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from healthchat.local.template import function_handlers, load_template

Handler = Callable[[dict[str, Any], Any], Any]
REGION = "us-east-1"
ACCOUNT = "123456789012"


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class FunctionRegistry:
    """Logical id -> handler callable, resolved from template.yaml and imported on first call."""

    def __init__(self, template_path: Path) -> None:
        self.root = template_path.parent
        self.specs = function_handlers(load_template(template_path))
        self._loaded: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: list[str] = []

    def resolve(self, name_or_arn: str) -> tuple[str, Handler]:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        if name not in self.specs:
            raise KeyError(name)
        with self._lock:
            if name not in self._loaded:
                code_uri, handler = self.specs[name]
                code_dir = str((self.root / code_uri).resolve())
                if code_dir not in sys.path:
                    sys.path.insert(0, code_dir)
                module_name, _, attr = handler.rpartition(".")
                module = importlib.import_module(module_name.replace("/", "."))
                self._loaded[name] = getattr(module, attr)
            self.invocations.append(name)
            return name, self._loaded[name]


def _make_request_handler(registry: FunctionRegistry) -> type[BaseHTTPRequestHandler]:
    class InvokeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = self.path.split("/")
            if len(parts) < 5 or parts[2] != "functions" or not parts[4].startswith("invocations"):
                self._reply(404, {"Message": "unknown path"})
                return
            try:
                name, handler = registry.resolve(unquote(parts[3]))
            except KeyError:
                self._reply(
                    404,
                    {"Type": "User", "Message": "Function not found"},
                    {"x-amzn-ErrorType": "ResourceNotFoundException"},
                )
                return
            try:
                event = json.loads(raw) if raw else {}
                result = handler(event, LocalLambdaContext(function_name=name))
            except Exception as exc:  # noqa: BLE001 - reported to the caller exactly as Lambda does
                body = {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_tb(exc.__traceback__)[-3:],
                }
                self._reply(200, body, {"X-Amz-Function-Error": "Unhandled"})
                return
            self._reply(200, result)

        def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # request lines would reach the user's terminal

    return InvokeHandler


class LambdaEndpoint:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) answering Lambda Invoke calls."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(registry))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lambda-endpoint", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LambdaEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
