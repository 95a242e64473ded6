"""Powertools Logger, Tracer and Metrics shared by every handler, configured from the environment.

On the embedded runtime the CLI owns stdout, so log lines go to ``HEALTHCHAT_LOG_FILE`` when it
is set. Log only ids, counts and timings: never document text, names or file names (PHI).
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger, Metrics, Tracer


def _log_handler() -> logging.Handler | None:
    path = os.environ.get("HEALTHCHAT_LOG_FILE", "").strip()
    return logging.FileHandler(path, encoding="utf-8") if path else None


logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "healthchat"), logger_handler=_log_handler()
)
tracer = Tracer(service="healthchat")
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "HealthChat"), service="healthchat"
)
