"""RecordFailure: status FAILED with the stable error code and a PHI-free message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthchat.observability import logger, metrics, phi_safe_errors, tracer
from healthchat.stages.publish import record_failure
from healthchat.wiring import services


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@phi_safe_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    output = record_failure(event, services())
    metrics.add_metric(name="record_failure_count", unit=MetricUnit.Count, value=1)
    return output.model_dump()
