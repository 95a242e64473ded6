"""SuggestTips: health tips keyed to the findings, each with its reason and source."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthchat.domain.models import StageEvent
from healthchat.observability import logger, metrics, phi_safe_errors, tracer
from healthchat.stages.analysis import run_suggest_tips
from healthchat.wiring import services


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@phi_safe_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = StageEvent.model_validate(event)
    logger.append_keys(document_id=request.doc.document_id)
    output = run_suggest_tips(request.doc, services())
    metrics.add_metric(name="suggest_tips_ms", unit=MetricUnit.Milliseconds, value=output.ms)
    return output.model_dump()
