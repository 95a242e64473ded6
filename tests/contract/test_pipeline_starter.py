"""PipelineStarter contract: AWS Step Functions (under moto) and the embedded runtime start the pipeline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from healthchat.adapters.aws.stepfunctions import StepFunctionsStarter
from healthchat.config import Settings
from healthchat.domain.errors import ThrottlingError
from healthchat.local.runtime import EmbeddedRuntime
from healthchat.ports import PipelineStarter
from healthchat.wiring import Services, reset_services

TRIGGER = {"owner_id": "u1", "document_id": "01JC0000000000000000000009", "upload_key": "uploads/u1/x/y.txt"}


@pytest.fixture(params=["aws", "embedded"])
def starter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PipelineStarter, Any]]:
    if request.param == "aws":
        with mock_aws():
            client = boto3.client("stepfunctions", region_name="us-east-1")
            arn = client.create_state_machine(
                name="pipeline",
                definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
                roleArn="arn:aws:iam::123456789012:role/x",
            )["stateMachineArn"]
            yield StepFunctionsStarter(arn, boto3_client=client), client
    else:
        settings = Settings(home=tmp_path, storage="memory")
        reset_services(Services(settings))
        with EmbeddedRuntime(settings) as runtime:
            yield runtime, runtime._client
        reset_services(None)


def test_start_returns_an_execution_with_the_trigger_as_input(starter: tuple[PipelineStarter, Any]) -> None:
    pipeline, client = starter
    arn = pipeline.start(TRIGGER)
    assert arn.startswith("arn:aws:states:")
    assert json.loads(client.describe_execution(executionArn=arn)["input"]) == TRIGGER


def test_each_start_is_a_new_execution(starter: tuple[PipelineStarter, Any]) -> None:
    pipeline, _ = starter
    assert pipeline.start(TRIGGER) != pipeline.start(TRIGGER)


def test_aws_throttling_becomes_a_domain_error() -> None:
    from botocore.stub import Stubber

    client = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "start_execution", service_error_code="ThrottlingException", http_status_code=400
        )
        with pytest.raises(ThrottlingError):
            StepFunctionsStarter("arn:aws:states:us-east-1:123456789012:stateMachine:p", client).start(
                TRIGGER
            )
