"""AskQuestion: the Q&A routes of the same HTTP API (``POST /documents/{id}/questions``, ``POST /questions``).

The same resolver as QueryApi; this function carries the LangChain layer, more memory and the model
permissions, so the polling function stays small and fast to start.
"""

from __future__ import annotations

from healthchat.api.app import lambda_handler

__all__ = ["lambda_handler"]
