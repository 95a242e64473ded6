"""The local trigger: an inbox folder whose new files run through the embedded pipeline.

Polling, not inotify: it works the same on every OS and on network folders, and a scan of a
folder every two seconds costs nothing next to OCR. A file counts as new per (path, size, mtime):
the claim in the record store makes a file that stays in the inbox run once, and a file that
is replaced by a new version run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from healthchat.local.batch import Job, expand_paths, run_jobs, upload_file
from healthchat.local.runtime import EmbeddedRuntime
from healthchat.wiring import Services

SETTLE_SECONDS = 1.0  # a file still being written (mtime this recent) waits for the next scan


def new_files(svc: Services, inbox: Path, owner_id: str, now: float | None = None) -> Iterator[Path]:
    """Files in the inbox not claimed before; claims them as it yields them."""
    now = time.time() if now is None else now
    for path in expand_paths([inbox]):
        stat = path.stat()
        if now - stat.st_mtime < SETTLE_SECONDS:
            continue
        source = f"inbox:{path.resolve()}#{stat.st_size}:{stat.st_mtime_ns}"
        token = f"inbox-{stat.st_mtime_ns}"
        if (
            svc.records.claimed(owner_id, source) is None
            and svc.records.claim(owner_id, source, token) == token
        ):
            yield path


def watch(
    runtime: EmbeddedRuntime,
    svc: Services,
    inbox: Path,
    on_done: Callable[[Job], None],
    once: bool = False,
    interval: float = 2.0,
) -> int:
    """Process new inbox files until interrupted (or after one scan with ``once``); returns the count."""
    inbox.mkdir(parents=True, exist_ok=True)
    owner = svc.settings.default_owner
    processed = 0
    while True:
        jobs = [
            Job(trigger=upload_file(svc, path, owner), label=path.name)
            for path in new_files(svc, inbox, owner)
        ]
        if jobs:
            run_jobs(runtime, svc, jobs, on_done=on_done)
            processed += len(jobs)
        if once:
            return processed
        time.sleep(interval)
