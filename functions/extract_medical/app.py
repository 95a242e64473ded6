"""ExtractMedical: entities in Comprehend Medical DetectEntitiesV2 shape."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.text import run_extract_medical

lambda_handler = stage_handler(run_extract_medical)
