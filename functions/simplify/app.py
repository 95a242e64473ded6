"""Simplify: the summary in plain language, with a glossary."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.analysis import run_simplify

lambda_handler = stage_handler(run_simplify)
