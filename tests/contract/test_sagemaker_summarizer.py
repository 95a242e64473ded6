"""One Summarizer contract over the extractive engine and the SageMaker endpoint adapter; its specifics.

The endpoint is answered by moto (its replies queued through moto's API,
``/moto-api/static/sagemaker/endpoint-results``) for the round trip, and by a botocore Stubber where
the request itself or an error reply is under test (the Stubber checks both against the service model).
The generated summary is a fixed paraphrase of NOTE, as a model would write it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from healthchat.adapters.aws.sagemaker_summarizer import SageMakerSummarizer, parse_response
from healthchat.adapters.local.extractive_summarizer import ExtractiveSummarizer
from healthchat.adapters.local.seq2seq_summarizer import summary_from_generated
from healthchat.domain.errors import EngineUnavailableError, HealthChatError, ThrottlingError, TransientError
from healthchat.domain.models import Summary
from healthchat.ports import Summarizer

ENDPOINT = "healthchat-summarizer"
NOTE = (
    "Visit note\n"
    "Patient Jane Roe seen for type 2 diabetes mellitus.\n"
    "Hemoglobin A1c was 7.2 %, above goal.\n"
    "Blood pressure is controlled on lisinopril 10 mg daily.\n"
    "Increase metformin to 1000 mg PO BID.\n"
    "Follow up in 3 months with repeat A1c.\n"
)
GENERATED = (
    "The A1c of 7.2 % is above goal. Metformin is increased to 1000 mg twice daily, "
    "and blood pressure is controlled on lisinopril. Follow up in 3 months."
)
Factory = Callable[[], Summarizer]


def _sentence(fragment: str) -> tuple[int, int]:
    begin = NOTE.index(fragment)
    return begin, NOTE.index("\n", begin)


def _client() -> Any:
    return boto3.client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def _queue_moto_results(*bodies: str) -> None:
    results = [{"Body": body, "ContentType": "application/json"} for body in bodies]
    reply = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"region": "us-east-1", "results": results},
        timeout=5,
    )
    assert reply.status_code == 201


@pytest.fixture
def moto_endpoint() -> Iterator[SageMakerSummarizer]:
    with mock_aws():
        _queue_moto_results(json.dumps([{"summary_text": GENERATED}]))
        yield SageMakerSummarizer(ENDPOINT, boto3_client=_client())


@pytest.fixture(params=["extractive", "sagemaker"])
def summarizer(request: pytest.FixtureRequest) -> Summarizer:
    if request.param == "extractive":
        return ExtractiveSummarizer()
    engine: Summarizer = request.getfixturevalue("moto_endpoint")
    return engine


# -- the contract ---------------------------------------------------------------------------------


def test_is_a_summarizer_with_a_name(summarizer: Summarizer) -> None:
    assert isinstance(summarizer, Summarizer)
    assert summarizer.name


def test_summary_sentences_make_up_the_text(summarizer: Summarizer) -> None:
    summary = summarizer.summarize(NOTE, [], [])
    assert isinstance(summary, Summary)
    assert summary.sentences
    assert " ".join(s.text for s in summary.sentences) == summary.text


def test_every_sentence_points_into_the_source(summarizer: Summarizer) -> None:
    summary = summarizer.summarize(NOTE, [], [])
    for sentence in summary.sentences:
        assert sentence.source_spans
        for span in sentence.source_spans:
            assert 0 <= span.begin_offset < span.end_offset <= len(NOTE)
            assert NOTE[span.begin_offset : span.end_offset].strip()


def test_blank_text_gives_an_empty_summary(summarizer: Summarizer) -> None:
    assert summarizer.summarize("  \n ", [], []).text == ""


# -- SageMaker specifics --------------------------------------------------------------------------


def test_generated_text_is_kept_and_each_sentence_cites_its_best_sources(
    moto_endpoint: SageMakerSummarizer,
) -> None:
    summary = moto_endpoint.summarize(NOTE, [], [])
    assert summary.text == GENERATED
    assert [s.text for s in summary.sentences] == [
        "The A1c of 7.2 % is above goal.",
        "Metformin is increased to 1000 mg twice daily, and blood pressure is controlled on lisinopril.",
        "Follow up in 3 months.",
    ]
    spans = [[(x.begin_offset, x.end_offset) for x in s.source_spans] for s in summary.sentences]
    assert spans[0] == [_sentence("Hemoglobin A1c")]
    # one generated sentence drawn from two source sentences cites both, in document order
    assert spans[1] == [_sentence("Blood pressure"), _sentence("Increase metformin")]
    assert spans[2] == [_sentence("Follow up")]


def test_the_request_is_the_handler_contract() -> None:
    client = _client()
    adapter = SageMakerSummarizer(ENDPOINT, boto3_client=client, parameters={"num_beams": 2})
    payload = json.dumps([{"summary_text": "Follow up in 3 months."}]).encode()
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
            {
                "EndpointName": ENDPOINT,
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": json.dumps({"inputs": NOTE, "parameters": {"num_beams": 2}}).encode(),
            },
        )
        summary = adapter.summarize(NOTE, [], [])
        stubber.assert_no_pending_responses()
    assert summary.text == "Follow up in 3 months."


def test_blank_text_makes_no_call() -> None:
    client = _client()
    with Stubber(client) as stubber:  # no response queued: any call would fail
        assert SageMakerSummarizer(ENDPOINT, boto3_client=client).summarize(" ", [], []).sentences == []
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "extra", "expected"),
    [
        ("ThrottlingException", 400, None, ThrottlingError),
        ("TooManyRequestsException", 429, None, ThrottlingError),
        ("ModelNotReadyException", 429, None, TransientError),
        ("ServiceUnavailable", 503, None, TransientError),
        ("InternalFailure", 500, None, TransientError),
        ("ModelError", 424, {"OriginalStatusCode": 500}, TransientError),
        ("ModelError", 424, {"OriginalStatusCode": 400}, EngineUnavailableError),
        ("ValidationError", 400, None, EngineUnavailableError),
    ],
)
def test_service_errors_become_domain_errors(
    code: str, status: int, extra: dict[str, Any] | None, expected: type[HealthChatError]
) -> None:
    client = _client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message=f"Received client error from model with message {NOTE!r}",
            http_status_code=status,
            modeled_fields=extra,
        )
        with pytest.raises(expected) as info:
            SageMakerSummarizer(ENDPOINT, boto3_client=client).summarize(NOTE, [], [])
    assert type(info.value) is expected
    assert "Jane" not in info.value.message and "metformin" not in info.value.message.lower()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"[]", "no summary_text"),
        (b'[{"generated_text": "x"}]', "no summary_text"),
        (b'{"summary_text": 3}', "no summary_text"),
    ],
)
def test_unexpected_responses_are_engine_errors(payload: bytes, message: str) -> None:
    with pytest.raises(EngineUnavailableError, match=message):
        parse_response(payload)


def test_a_bare_object_response_is_accepted() -> None:
    assert parse_response(b'{"summary_text": "Follow up."}') == "Follow up."


def test_the_client_is_created_on_first_use_only() -> None:
    adapter = SageMakerSummarizer(ENDPOINT)
    assert adapter._client is None
    assert adapter.client.meta.service_model.service_name == "sagemaker-runtime"
    assert adapter.client is adapter.client


def test_sentences_without_shared_words_cite_nothing() -> None:
    summary = summary_from_generated("Unrelated words entirely. Follow up in 3 months.", NOTE)
    assert summary.sentences[0].source_spans == []
    assert [(x.begin_offset, x.end_offset) for x in summary.sentences[1].source_spans] == [
        _sentence("Follow up")
    ]


def test_numbers_inside_sentences_do_not_split_them() -> None:
    summary = summary_from_generated("A1c 7.2 % is high. Dose 2.5 mg. Done", NOTE)
    assert [s.text for s in summary.sentences] == ["A1c 7.2 % is high.", "Dose 2.5 mg.", "Done"]
