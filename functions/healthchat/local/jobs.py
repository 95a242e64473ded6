"""Background pipeline runs for ``healthchat serve``: uploads queue here and run on one EmbeddedRuntime.

One worker thread owns every call to the runtime (its boto3 client and moto's interpreter are then
used from one thread), starts at most ``concurrency`` executions at a time, like
:func:`healthchat.local.batch.run_jobs`, and watches them finish. The pipeline records each outcome
itself (PublishResult / RecordFailure); an execution that ends without doing so (a crash outside every
Catch) would leave its record PROCESSING for ever, so the worker marks such a record FAILED (INTERNAL).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from healthchat.domain.models import ErrorInfo, Status
from healthchat.local.runtime import ExecutionOutcome
from healthchat.wiring import Services

logger = logging.getLogger("healthchat.serve")

_POLL_SECONDS = 0.05


class ExecutionRunner(Protocol):
    """The part of :class:`~healthchat.local.runtime.EmbeddedRuntime` the worker needs."""

    def start(self, trigger: dict[str, Any], name: str | None = None) -> str: ...

    def poll(self, execution_arn: str) -> ExecutionOutcome | None: ...


class PipelineJobs:
    """A queue of pipeline triggers run in the background.

    Parameters
    ----------
    runtime:
        Starts and polls executions (an entered :class:`~healthchat.local.runtime.EmbeddedRuntime`).
    services:
        Returns the process's Services (record store used to repair records left PROCESSING).
    concurrency:
        Executions running at once; the rest wait in the queue.
    """

    def __init__(
        self, runtime: ExecutionRunner, services: Callable[[], Services], concurrency: int = 2
    ) -> None:
        self._runtime = runtime
        self._services = services
        self._concurrency = max(1, concurrency)
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._running: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self.finished = 0

    def start(self) -> PipelineJobs:
        self._thread = threading.Thread(target=self._work, name="healthchat-pipeline", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker; executions still running are left to moto (their records stay PROCESSING)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit(self, trigger: dict[str, Any]) -> None:
        """Queue ``{owner_id, document_id, upload_key}`` for a pipeline run."""
        self._queue.put(trigger)

    @property
    def pending(self) -> int:
        """Triggers queued or running."""
        return self._queue.qsize() + len(self._running)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is queued or running (True), or until ``timeout`` (False)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.2))
        return True

    # -- worker ------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            self._start_queued()
            self._collect_finished()
            time.sleep(_POLL_SECONDS)

    def _start_queued(self) -> None:
        while len(self._running) < self._concurrency:
            try:
                trigger = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                arn = self._runtime.start(trigger)
            except Exception as exc:  # noqa: BLE001 - one bad start must not stop the worker
                # the type only: an exception's message or traceback may quote document data
                logger.error("could not start a pipeline execution (%s)", type(exc).__name__)
                self._mark_failed(trigger)
                self._notify()
                continue
            self._running[arn] = trigger

    def _collect_finished(self) -> None:
        for arn, trigger in list(self._running.items()):
            try:
                outcome = self._runtime.poll(arn)
            except Exception as exc:  # noqa: BLE001
                logger.error("could not poll a pipeline execution (%s)", type(exc).__name__)
                outcome = ExecutionOutcome(arn, "FAILED", None)
            if outcome is None:
                continue
            del self._running[arn]
            self.finished += 1
            if outcome.status != "SUCCEEDED":
                self._mark_failed(trigger)
            self._notify()

    def _mark_failed(self, trigger: dict[str, Any]) -> None:
        """A record still PROCESSING after its execution ended becomes FAILED with INTERNAL."""
        try:
            records = self._services().records
            record = records.get(trigger["owner_id"], trigger["document_id"])
            if record is not None and record.status == Status.PROCESSING:
                records.update(
                    trigger["owner_id"],
                    trigger["document_id"],
                    status=Status.FAILED,
                    error=ErrorInfo(code="INTERNAL", message="Processing stopped unexpectedly."),
                )
        except Exception as exc:  # noqa: BLE001
            logger.error("could not record a failed pipeline execution (%s)", type(exc).__name__)

    def _notify(self) -> None:
        with self._idle:
            self._idle.notify_all()
