"""Powertools Logger, Tracer and Metrics shared by every handler, configured from the environment.

On the embedded runtime the CLI owns stdout, so log lines go to ``HEALTHCHAT_LOG_FILE`` when it
is set. Log only ids, counts and timings: never document text, names or file names (PHI).

The X-Ray SDK costs about 200 ms of import, so the real Tracer is built only where it can trace
(inside Lambda, tracing not disabled); elsewhere a pass-through stands in for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])


def _log_handler() -> logging.Handler | None:
    path = os.environ.get("HEALTHCHAT_LOG_FILE", "").strip()
    return logging.FileHandler(path, encoding="utf-8") if path else None


class _PassThroughTracer:
    """Stands in for Powertools' Tracer where there is no X-Ray daemon to send to."""

    def capture_lambda_handler(
        self, lambda_handler: F, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> F:
        return lambda_handler

    def capture_method(self, method: F) -> F:
        return method


def _tracer() -> Tracer:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    if in_lambda and not disabled:
        from aws_lambda_powertools import Tracer

        return Tracer(service="healthchat")
    return cast("Tracer", _PassThroughTracer())


logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "healthchat"), logger_handler=_log_handler()
)
tracer = _tracer()
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "HealthChat"), service="healthchat"
)


def trace_handler(lambda_handler: F) -> F:
    """Trace ``lambda_handler`` in X-Ray without recording its response or its error.

    Powertools' default stores the whole response (DocumentResults, FHIR bundles, answers) and the
    exception as subsegment metadata: health data in traces. Only the timing and the cold-start and
    service annotations are kept.
    """
    traced = tracer.capture_lambda_handler(lambda_handler, capture_response=False, capture_error=False)
    return cast(F, traced)


def phi_safe_errors(lambda_handler: F) -> F:
    """Re-raise any exception that is not a HealthChatError as a generic one, without its message.

    A library's message can quote its input (document text, names); Lambda logs the message of an
    unhandled exception and Step Functions stores it in the execution's Cause. Only the exception's
    type and where it happened are logged. Our own errors pass through: their messages are PHI-free
    by construction and their class names drive Retry and the error codes.
    """
    import functools

    from healthchat.domain.errors import HealthChatError

    @functools.wraps(lambda_handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return lambda_handler(*args, **kwargs)
        except HealthChatError:
            raise
        except Exception as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
            logger.error("unhandled error", extra={"error_type": type(exc).__name__, "where": where})
            raise HealthChatError() from None

    return cast(F, wrapper)
