"""Starts the document pipeline on AWS Step Functions (the reprocess entry point uses it)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ulid import ULID

from healthchat.adapters.aws.errors import translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StepFunctionsStarter:
    """``start(trigger)`` -> execution ARN.

    Parameters
    ----------
    state_machine_arn:
        The document pipeline's ARN (``STATE_MACHINE_ARN`` in the Lambda environment).
    boto3_client:
        An ``stepfunctions`` client to use instead of creating one (tests, custom endpoints).
    """

    def __init__(self, state_machine_arn: str, boto3_client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = boto3_client

    @property
    def client(self) -> SFNClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions")
        return self._client

    def start(self, trigger: dict[str, Any], name: str | None = None) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=name or f"{trigger.get('document_id', 'doc')}-{ULID()}"[:80],
                input=json.dumps(trigger),
            )
        except ClientError as exc:
            raise translate_client_error(exc) from exc
        return response["executionArn"]
