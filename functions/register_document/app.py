"""RegisterDocument: validate the upload, record PROCESSING, idempotent per upload object."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthchat.observability import logger, metrics, phi_safe_errors, tracer
from healthchat.stages.register import register_document
from healthchat.wiring import services


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@phi_safe_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = register_document(event, services())
    metrics.add_metric(name="register_document_count", unit=MetricUnit.Count, value=1)
    return output.model_dump()
