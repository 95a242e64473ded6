"""Shared fixtures: every test runs with fake AWS credentials and a private HEALTHCHAT_HOME."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _create_records_table(dynamodb: Any, name: str) -> None:
    """The records table exactly as template.yaml declares it: ``pk`` (S) HASH, ``sk`` (S) RANGE."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def create_records_table() -> Callable[[Any, str], None]:
    """``create_records_table(dynamodb_client, name)`` inside a moto session."""
    return _create_records_table


MEDQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "medquad"


@pytest.fixture(scope="session")
def medquad_subset(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple[str, ...]], Path]:
    """``medquad_subset(("6_NINDS_QA/0000148.xml", ...))``: a folder with copies of those MedQuAD files."""

    def copy(names: tuple[str, ...]) -> Path:
        src = tmp_path_factory.mktemp("medquad")
        for name in names:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(MEDQUAD / name, src / name)
        return src

    return copy
