"""Where each stage's JSON artifact lives in the data store, and reading/writing it."""

from __future__ import annotations

import json
import time
from typing import Any

from healthchat.domain.models import Artifact, CostLine, DocRef, StageOutput
from healthchat.ports import BlobStore

STAGES = ("extract_text", "extract_medical", "summarize", "simplify", "interpret_labs", "suggest_tips")


def artifact_key(doc: DocRef, name: str) -> str:
    return f"{doc.owner_id}/{doc.document_id}/{name}.json"


def result_key(doc: DocRef) -> str:
    return artifact_key(doc, "result")


def write_artifact(
    store: BlobStore,
    doc: DocRef,
    stage: str,
    engine: str,
    started: float,
    data: dict[str, Any],
    counts: dict[str, int] | None = None,
    cost: dict[str, CostLine] | None = None,
) -> StageOutput:
    """Store one stage's output and return the small claim-check record that goes into the state."""
    ms = round((time.perf_counter() - started) * 1000, 1)
    artifact = Artifact(stage=stage, engine=engine, ms=ms, data=data, cost=cost or {})
    key = artifact_key(doc, stage)
    store.put(key, artifact.model_dump_json().encode(), "application/json")
    return StageOutput(artifact=key, ms=ms, engine=engine, counts=counts or {})


def read_artifact(store: BlobStore, doc: DocRef, stage: str) -> Artifact:
    return Artifact.model_validate(json.loads(store.get(artifact_key(doc, stage))))
