"""InterpretLabs: every lab result with its range and flag."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.analysis import run_interpret_labs

lambda_handler = stage_handler(run_interpret_labs)
