"""Reprocess: start the document pipeline again for chosen documents, all of an owner's, or all FAILED ones.

Started with ``sam remote invoke ReprocessFunction --event-file events/reprocess.json``.
"""

from __future__ import annotations

from healthchat.handlers import event_handler
from healthchat.stages.reprocess import reprocess

lambda_handler = event_handler(reprocess)
