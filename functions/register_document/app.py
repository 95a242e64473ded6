"""RegisterDocument: validate the upload, record PROCESSING, idempotent per upload object."""

from __future__ import annotations

from healthchat.handlers import event_handler
from healthchat.stages.register import register_document

lambda_handler = event_handler(register_document)
