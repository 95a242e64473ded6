"""The one decorator stack every Lambda handler shares: Powertools logging, tracing, metrics, PHI-safe errors.

``functions/<stage>/app.py`` is then one line of wiring: which stage function its event goes to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from healthchat.domain.models import DocRef, StageEvent
from healthchat.observability import logger, metrics, phi_safe_errors, trace_handler
from healthchat.wiring import Services, services

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _decorate(name: str, body: Callable[[dict[str, Any]], BaseModel]) -> LambdaHandler:
    @logger.inject_lambda_context(clear_state=True)
    @trace_handler
    @metrics.log_metrics
    @phi_safe_errors
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        output = body(event)
        metrics.add_metric(name=f"{name}_completed", unit=MetricUnit.Count, value=1)
        return output.model_dump(mode="json")

    return lambda_handler


def stage_handler(run: Callable[[DocRef, Services], BaseModel]) -> LambdaHandler:
    """A handler for a stage that takes ``{"doc": DocRef}`` (pydantic-validated) and returns a claim check."""

    def body(event: dict[str, Any]) -> BaseModel:
        request = StageEvent.model_validate(event)
        logger.append_keys(document_id=request.doc.document_id)
        return run(request.doc, services())

    return _decorate(run.__name__.removeprefix("run_"), body)


def event_handler(run: Callable[[dict[str, Any], Services], BaseModel]) -> LambdaHandler:
    """A handler for a stage that parses the raw event itself (a trigger, or the state after a Catch)."""
    return _decorate(run.__name__, lambda event: run(event, services()))
