"""Handlers never let a foreign exception's message (which may quote a document) escape."""

from __future__ import annotations

from typing import Any

import pytest

from healthchat.domain.errors import HealthChatError, TooLargeError
from healthchat.observability import phi_safe_errors


def test_foreign_exception_becomes_generic_without_its_message() -> None:
    @phi_safe_errors
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        raise ValueError(f"could not parse {event['text']}")

    with pytest.raises(HealthChatError) as info:
        handler({"text": "Jane Doe, DOB 01/02/1960"}, None)
    assert type(info.value) is HealthChatError
    assert "Jane" not in str(info.value) and info.value.__cause__ is None and info.value.__suppress_context__


def test_our_errors_pass_through_with_their_class() -> None:
    @phi_safe_errors
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        raise TooLargeError("The file is larger than the 20 MB limit.")

    with pytest.raises(TooLargeError, match="20 MB"):
        handler({}, None)


def test_results_pass_through() -> None:
    assert phi_safe_errors(lambda event, context: {"ok": event["n"]})({"n": 1}, None) == {"ok": 1}
