"""The published DocumentResult JSON Schema matches the code, and error codes stay stable."""

from __future__ import annotations

import sys
from pathlib import Path

from healthchat.domain.errors import ERROR_CODES, HealthChatError, error_class_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from export_schema import SCHEMA_PATH, schema_text  # noqa: E402


def test_published_schema_is_current() -> None:
    # regenerate with: .venv/bin/python scripts/export_schema.py
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_document_result_fields_are_the_contract() -> None:
    import json

    props = json.loads(schema_text())["properties"]
    assert set(props) >= {
        "schema_version",
        "document_id",
        "owner_id",
        "status",
        "error",
        "source",
        "text",
        "entities",
        "labs",
        "medications",
        "conditions",
        "summary",
        "plain_language",
        "tips",
        "engines",
        "timings_ms",
        "cost",
    }


def test_error_codes_are_the_documented_ones() -> None:
    assert ERROR_CODES == (
        "EMPTY_FILE",
        "TOO_LARGE",
        "UNSUPPORTED_TYPE",
        "CORRUPT_FILE",
        "ENCRYPTED_PDF",
        "TOO_MANY_PAGES",
        "NO_TEXT_FOUND",
        "ENGINE_UNAVAILABLE",
        "THROTTLED",
        "INTERNAL",
    )

    def every_subclass(cls: type[HealthChatError]) -> list[type[HealthChatError]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in every_subclass(sub))]

    for cls in every_subclass(HealthChatError):
        assert cls.code in ERROR_CODES
        assert error_class_for(cls.__name__) is cls
