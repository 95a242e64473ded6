"""Summarize: a short summary led by what matters, every sentence tied to its source."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.analysis import run_summarize

lambda_handler = stage_handler(run_summarize)
