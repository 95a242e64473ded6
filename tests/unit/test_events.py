"""The sample events in events/ (used with sam local/remote invoke) parse with the code that reads them."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from healthchat.stages.register import parse_trigger
from healthchat.stages.reprocess import ReprocessRequest

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, object]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def test_s3_object_created_event_names_an_upload() -> None:
    trigger = parse_trigger(load_event("s3_object_created.json"))
    assert trigger.upload_key.startswith(f"uploads/{trigger.owner_id}/")
    assert trigger.version


def test_reprocess_event_is_a_valid_request() -> None:
    request = ReprocessRequest.model_validate(load_event("reprocess.json"))
    assert request.document_ids or request.all or request.failed


def test_api_event_carries_a_jwt_subject() -> None:
    event = APIGatewayProxyEventV2(load_event("api_get_document.json"))
    assert event.request_context.authorizer.jwt_claim["sub"]
    assert event.path_parameters.get("id") or event.raw_path.startswith("/documents/")
