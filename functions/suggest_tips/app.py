"""SuggestTips: health tips keyed to the findings, each with its reason and source."""

from __future__ import annotations

from healthchat.handlers import stage_handler
from healthchat.stages.analysis import run_suggest_tips

lambda_handler = stage_handler(run_suggest_tips)
