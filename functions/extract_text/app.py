"""ExtractText: PDF text layer, else OCR per page."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.text import run_extract_text

lambda_handler = stage_handler(run_extract_text)
