"""PublishResult: the DocumentResult JSON to the data store; record SUCCEEDED."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.publish import publish_result

lambda_handler = stage_handler(publish_result)
