"""RecordFailure: status FAILED with the stable error code and a PHI-free message."""

from __future__ import annotations

from healthchat.handlers import event_handler
from healthchat.stages.publish import record_failure

lambda_handler = event_handler(record_failure)
