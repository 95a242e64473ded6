"""Write the DocumentResult JSON Schema (the public contract of DESIGN.md section 4) to docs/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from healthchat.domain.models import DocumentResult

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "document_result.schema.json"


def schema_text() -> str:
    schema = DocumentResult.model_json_schema(mode="serialization")
    schema["$id"] = "https://healthchat.invalid/schemas/document_result.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    out.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {out}")
