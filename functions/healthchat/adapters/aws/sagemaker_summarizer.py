"""Summarizer port on a SageMaker real-time endpoint serving models/summarizer (Hugging Face seq2seq).

The request and response are the handler's JSON contract (``{"inputs", "parameters"}`` ->
``[{"summary_text"}]``); chunking of long notes happens inside the endpoint. The generated text is
kept word for word and each sentence gets the spans of its best-matching source sentences
(:func:`healthchat.adapters.local.seq2seq_summarizer.summary_from_generated`); the stage checks
faithfulness. boto3 is imported on first use only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from healthchat.adapters.aws.errors import translate_client_error
from healthchat.adapters.local.seq2seq_summarizer import summary_from_generated
from healthchat.domain.errors import EngineUnavailableError, HealthChatError, TransientError
from healthchat.domain.models import Summary

JSON = "application/json"


def _error(exc: Exception) -> HealthChatError:
    """The domain error for an InvokeEndpoint ClientError (throttling -> ThrottlingError, retried)."""
    response: dict[str, Any] = getattr(exc, "response", {})
    code = str(response.get("Error", {}).get("Code", ""))
    if code == "ModelNotReadyException":
        return TransientError("The summary endpoint is starting; try again.")
    if code == "ModelError":
        # the container answered with an error status; its message is dropped (it may quote input)
        status = int(response.get("OriginalStatusCode", 0) or 0)
        if status >= 500:
            return TransientError("The summary model had a temporary failure.")
        return EngineUnavailableError("The summary model could not summarize this document.")
    if code == "ValidationError":
        return EngineUnavailableError("The summary endpoint is not available (check its name and status).")
    return translate_client_error(exc)  # type: ignore[arg-type]


def parse_response(payload: bytes) -> str:
    """``summary_text`` from the endpoint's ``[{"summary_text": str}]`` (a bare object is accepted too)."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EngineUnavailableError("The summary endpoint returned a response that is not JSON.") from None
    first = body[0] if isinstance(body, list) and body else body
    text = first.get("summary_text") if isinstance(first, dict) else None
    if not isinstance(text, str):
        raise EngineUnavailableError("The summary endpoint returned no summary_text.")
    return text


class SageMakerSummarizer:
    """Summarizer port over ``sagemaker-runtime`` InvokeEndpoint.

    Parameters
    ----------
    endpoint_name : str
        The endpoint created by ``models/summarizer/deploy.py``.
    boto3_client : optional
        A ``sagemaker-runtime`` client (tests pass one under moto or a Stubber); built lazily with
        adaptive retries (5 attempts) when omitted.
    parameters : Mapping, optional
        Generation parameters sent with every request (see ``DEFAULT_PARAMETERS`` in inference.py).
    """

    name = "sagemaker-summarizer"

    def __init__(
        self, endpoint_name: str, boto3_client: Any | None = None, parameters: Mapping[str, Any] | None = None
    ) -> None:
        self.endpoint_name = endpoint_name
        self._client = boto3_client
        self.parameters = dict(parameters or {})

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "sagemaker-runtime", config=Config(retries={"mode": "adaptive", "max_attempts": 5})
            )
        return self._client

    def _invoke(self, body: bytes) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name, ContentType=JSON, Accept=JSON, Body=body
            )
            payload: bytes = response["Body"].read()
        except ClientError as exc:
            raise _error(exc) from None
        except BotoCoreError as exc:
            raise TransientError(
                f"The summary endpoint could not be reached ({type(exc).__name__})."
            ) from None
        return payload

    def summarize(self, text: str, entities: Sequence[dict[str, Any]], labs: Sequence[Any]) -> Summary:
        if not text.strip():
            return Summary(text="", sentences=[])
        request: dict[str, Any] = {"inputs": text}
        if self.parameters:
            request["parameters"] = self.parameters
        generated = parse_response(self._invoke(json.dumps(request).encode("utf-8")))
        return summary_from_generated(generated, text)
