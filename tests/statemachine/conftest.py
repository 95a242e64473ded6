"""Fixtures for running the real ASL on the embedded interpreter with the real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from healthchat.config import Settings
from healthchat.local.runtime import EmbeddedRuntime
from healthchat.wiring import Services, reset_services


@pytest.fixture
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make the interpreter's Retry backoff instant, recording each wait it asked for."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    waits: list[float] = []
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture
def embedded(tmp_path: Path, retry_waits: list[float]) -> Iterator[tuple[EmbeddedRuntime, Services]]:
    settings = Settings(home=tmp_path / "home", storage="local")
    svc = Services(settings)
    reset_services(svc)
    with EmbeddedRuntime(settings) as runtime:
        yield runtime, svc
    reset_services(None)
