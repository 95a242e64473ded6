"""QueryApi: the HTTP API of DESIGN.md section 4 behind API Gateway (routes in healthchat.api.app).

Imports no model and no LangChain: the Q&A routes load their engine lazily, and API Gateway sends
them to the AskQuestion function, which has the LangChain layer.
"""

from __future__ import annotations

from healthchat.api.app import lambda_handler

__all__ = ["lambda_handler"]
