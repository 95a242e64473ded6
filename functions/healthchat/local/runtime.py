"""The embedded runtime: statemachines/document_pipeline.asl.json executed by moto's Step Functions
interpreter in this process, its Lambda tasks answered by :mod:`healthchat.local.lambda_endpoint`.

Only Step Functions is mocked (``service_whitelist``): any other AWS call an adapter makes goes to
the real service, so a user who configures Comprehend Medical or Textract gets the real thing.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ulid import ULID

from healthchat.config import Settings
from healthchat.local.lambda_endpoint import ACCOUNT, REGION, FunctionRegistry, LambdaEndpoint, function_arn
from healthchat.local.template import load_template

PIPELINE_RESOURCE = "DocumentPipeline"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def project_root() -> Path:
    """The checkout that holds template.yaml (``HEALTHCHAT_PROJECT_ROOT`` overrides)."""
    env = os.environ.get("HEALTHCHAT_PROJECT_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[3]
    if not (root / "template.yaml").is_file():
        raise FileNotFoundError(f"template.yaml not found under {root}; set HEALTHCHAT_PROJECT_ROOT")
    return root


def _state_machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::StateMachine":
            return logical_id, resource.get("Properties", {})
    raise ValueError("template.yaml has no AWS::Serverless::StateMachine")


def _substitution_value(value: Any) -> str:
    """A DefinitionSubstitutions value made concrete: ``!GetAtt Fn.Arn`` -> the local function ARN."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn in ("Fn::GetAtt", "GetAtt"):
            target = arg.split(".")[0] if isinstance(arg, str) else arg[0]
            return function_arn(target)
        if fn in ("Ref", "Fn::Ref"):
            return str(arg)
    return str(value)


def render_definition(root: Path) -> str:
    """The ASL from ``DefinitionUri`` with every ``${X}`` replaced from ``DefinitionSubstitutions``."""
    template = load_template(root / "template.yaml")
    _, props = _state_machine(template)
    asl = (root / props["DefinitionUri"]).read_text(encoding="utf-8")
    subs = {k: _substitution_value(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
    missing = sorted(set(_PLACEHOLDER.findall(asl)) - set(subs))
    if missing:
        raise ValueError(f"no DefinitionSubstitutions for {missing}")
    return _PLACEHOLDER.sub(lambda m: subs[m.group(1)], asl)


@dataclass
class ExecutionOutcome:
    execution_arn: str
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: dict[str, Any] | None


class EmbeddedRuntime(AbstractContextManager["EmbeddedRuntime"]):
    """Runs the pipeline in-process. Use as a context manager; ``start`` + ``wait`` per document."""

    def __init__(self, settings: Settings | None = None, root: Path | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.root = root or project_root()
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None
        self._endpoint: LambdaEndpoint | None = None
        self._client: Any = None
        self.state_machine_arn = ""

    # -- lifecycle -------------------------------------------------------------------------------
    def _set_env(self, **values: str) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def __enter__(self) -> EmbeddedRuntime:
        home = self.settings.home
        (home / "logs").mkdir(parents=True, exist_ok=True, mode=0o700)
        registry = FunctionRegistry(self.root / "template.yaml")
        self._endpoint = LambdaEndpoint(registry).start()
        self._set_env(
            AWS_ENDPOINT_URL_LAMBDA=self._endpoint.url,
            HEALTHCHAT_HOME=str(home),
            HEALTHCHAT_LOG_FILE=os.environ.get("HEALTHCHAT_LOG_FILE") or str(home / "logs" / "pipeline.log"),
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_METRICS_DISABLED="true",
            POWERTOOLS_SERVICE_NAME="healthchat",
            AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION") or REGION,
        )
        # moto's interpreter needs credentials to sign its (local) Lambda calls; real ones are kept.
        s = self.settings
        all_local = s.storage != "aws" and s.ocr == "local" and s.medical == "local"
        if all_local and not os.environ.get("AWS_ACCESS_KEY_ID"):
            self._set_env(AWS_ACCESS_KEY_ID="embedded", AWS_SECRET_ACCESS_KEY="embedded")
        from moto import mock_aws

        self._mock = mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "core": {"service_whitelist": ["stepfunctions"]},
            }
        )
        self._mock.start()
        import boto3

        self._client = boto3.client("stepfunctions", region_name=REGION)
        self.state_machine_arn = self._client.create_state_machine(
            name=PIPELINE_RESOURCE,
            definition=render_definition(self.root),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/embedded",
        )["stateMachineArn"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._endpoint is not None:
            self._endpoint.stop()
            self._endpoint = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # -- executions ------------------------------------------------------------------------------
    def start(self, trigger: dict[str, Any], name: str | None = None) -> str:
        """Start one execution of the pipeline (a :class:`~healthchat.ports.PipelineStarter`)."""
        response = self._client.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=name or str(ULID()),
            input=json.dumps(trigger),
        )
        return str(response["executionArn"])

    def poll(self, execution_arn: str) -> ExecutionOutcome | None:
        desc = self._client.describe_execution(executionArn=execution_arn)
        if desc["status"] == "RUNNING":
            return None
        output = json.loads(desc["output"]) if desc.get("output") else None
        return ExecutionOutcome(execution_arn, desc["status"], output)

    def wait(self, execution_arn: str, timeout: float = 3600.0) -> ExecutionOutcome:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = self.poll(execution_arn)
            if outcome is not None:
                return outcome
            time.sleep(0.05)
        raise TimeoutError("the pipeline did not finish in time")

    def history(self, execution_arn: str) -> Iterator[dict[str, Any]]:
        paginator_args: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self._client.get_execution_history(**paginator_args)
            yield from page["events"]
            if not page.get("nextToken"):
                return
            paginator_args["nextToken"] = page["nextToken"]
