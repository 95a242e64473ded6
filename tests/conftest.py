"""Shared fixtures: every test runs with fake AWS credentials and a private HEALTHCHAT_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def tmp_home(tmp_path: Path) -> Path:
    """The HEALTHCHAT_HOME of this test (created, empty)."""
    home = tmp_path / "healthchat-home"
    home.mkdir()
    return home


@pytest.fixture(autouse=True)
def fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_home: Path) -> None:
    """No test can reach a real AWS account or the user's ~/.healthchat."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "HEALTHCHAT_HOME": str(tmp_home),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
