"""Reprocess: start the document pipeline again for chosen documents, all of an owner's, or all FAILED ones.

Started with ``sam remote invoke ReprocessFunction --event-file events/reprocess.json``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthchat.observability import logger, metrics, phi_safe_errors, tracer
from healthchat.stages.reprocess import ReprocessRequest, start_reprocessing
from healthchat.wiring import services


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@phi_safe_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReprocessRequest.model_validate(event)
    svc = services()
    started = start_reprocessing(request, svc.records, svc.pipeline)
    metrics.add_metric(name="reprocess_started", unit=MetricUnit.Count, value=len(started))
    return {"started": len(started), "document_ids": started}
