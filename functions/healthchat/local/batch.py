"""Submitting local files to the embedded pipeline and collecting their DocumentResults."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ulid import ULID

from healthchat.domain.documents import upload_key
from healthchat.domain.models import DocumentResult, Status
from healthchat.local.runtime import EmbeddedRuntime
from healthchat.stages.publish import failed_result
from healthchat.wiring import Services


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the files under named folders (sorted; hidden ones skipped)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith("."))
        else:
            out.append(path)
    return out


def upload_file(svc: Services, path: Path, owner_id: str) -> dict[str, Any]:
    """Copy a file into the upload store under a new document id; returns the pipeline trigger.

    A file over the size limit is stored cut just past the limit: RegisterDocument then records
    TOO_LARGE without this process reading gigabytes into memory (the original stays on disk).
    """
    document_id = str(ULID())
    key = upload_key(owner_id, document_id, path.name)
    limit = svc.settings.max_bytes
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    svc.uploads.put(key, data)
    return {"owner_id": owner_id, "document_id": document_id, "upload_key": key}


def load_result(svc: Services, owner_id: str, document_id: str) -> DocumentResult | None:
    record = svc.records.get(owner_id, document_id)
    if record is None:
        return None
    if record.status == Status.SUCCEEDED and record.result_key:
        return DocumentResult.model_validate(json.loads(svc.data.get(record.result_key)))
    return failed_result(record)


@dataclass
class Job:
    trigger: dict[str, Any]
    label: str
    execution_arn: str | None = None
    result: DocumentResult | None = None


def run_jobs(
    runtime: EmbeddedRuntime,
    svc: Services,
    jobs: Sequence[Job],
    concurrency: int = 2,
    on_done: Callable[[Job], None] | None = None,
) -> list[Job]:
    """Run each job's trigger through the pipeline, at most ``concurrency`` at a time, in order."""
    pending = list(jobs)
    running: list[Job] = []
    while pending or running:
        while pending and len(running) < concurrency:
            job = pending.pop(0)
            job.execution_arn = runtime.start(job.trigger)
            running.append(job)
        for job in list(running):
            assert job.execution_arn is not None
            if runtime.poll(job.execution_arn) is None:
                continue
            running.remove(job)
            trigger = job.trigger
            job.result = load_result(svc, trigger["owner_id"], trigger["document_id"])
            if on_done:
                on_done(job)
        time.sleep(0.05)
    return list(jobs)
