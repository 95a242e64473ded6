"""One contract suite over every MedicalExtractor: local rules and Comprehend Medical (botocore Stubber).

The Stubber validates each canned response against the real service model (ModelVersion required);
the canned entities are the local extractor's output per chunk, so both adapters answer the same
questions the same way and the Comprehend adapter's chunking/offset re-mapping is what is under test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from healthchat.adapters.aws.comprehend_medical import ComprehendMedicalExtractor, chunk_spans
from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor
from healthchat.domain.clinical import conditions_from, medications_from
from healthchat.domain.errors import HealthChatError, ThrottlingError, TransientError
from healthchat.domain.models import Entity
from healthchat.ports import MedicalExtractor

NOTE = (
    "Patient denies chest pain. History of hypertension.\n"
    "Medications: metformin 500 mg PO BID; Lantus 20 units at bedtime.\n"
    "Allergies: penicillin.\n"
    "Hemoglobin A1c   7.2  H  %  4.0-5.6\n"
)
Factory = Callable[[str], MedicalExtractor]


def _client() -> Any:
    return boto3.client(
        "comprehendmedical", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = _client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _queue_like_local(stubber: Stubber, text: str) -> None:
    local = LocalMedicalExtractor()
    for b, e in chunk_spans(text):
        # DetectEntitiesV2 itself carries no ICD10CMConcepts (InferICD10CM does; see infer_icd10)
        entities = [
            {k: v for k, v in ent.items() if k != "ICD10CMConcepts"}
            for ent in local.detect_entities(text[b:e]).entities
        ]
        stubber.add_response(
            "detect_entities_v2", {"Entities": entities, "ModelVersion": "2.4.0"}, {"Text": text[b:e]}
        )


@pytest.fixture(params=["local", "comprehend"])
def make(request: pytest.FixtureRequest, stubbed: tuple[Any, Stubber]) -> Factory:
    if request.param == "local":
        return lambda text: LocalMedicalExtractor()
    client, stubber = stubbed

    def factory(text: str) -> MedicalExtractor:
        _queue_like_local(stubber, text)
        return ComprehendMedicalExtractor(boto3_client=client)

    return factory


def test_is_a_medical_extractor(make: Factory) -> None:
    extractor = make(NOTE)
    assert isinstance(extractor, MedicalExtractor)
    extractor.detect_entities(NOTE)


def test_entities_have_the_detect_entities_v2_shape_and_offsets(make: Factory) -> None:
    result = make(NOTE).detect_entities(NOTE)
    assert result.model_version
    ids = []
    for e in result.entities:
        Entity.model_validate(e)
        assert NOTE[e["BeginOffset"] : e["EndOffset"]] == e["Text"]
        ids += [e["Id"], *(a["Id"] for a in e["Attributes"])]
    assert len(ids) == len(set(ids))


def test_clinical_facts_are_the_same_through_every_adapter(make: Factory) -> None:
    entities = make(NOTE).detect_entities(NOTE).entities
    meds = {m.name: m for m in medications_from(entities)}
    assert set(meds) == {"metformin", "Lantus"}
    assert (meds["metformin"].strength, meds["metformin"].route, meds["metformin"].frequency) == (
        "500 mg", "PO", "BID"
    )  # fmt: skip
    conds = {(c.name, c.negated) for c in conditions_from(entities)}
    assert {("chest pain", True), ("hypertension", False)} <= conds


def test_long_text_is_chunked_and_offsets_are_remapped(make: Factory) -> None:
    # GIVEN a 45,000-character document WHEN extracted THEN every entity's offsets point into the full text
    filler = "The patient walked in the park and felt fine today.\n"
    text = ""
    while len(text) < 45_000:
        text += filler * 40 + NOTE
    text = text[:45_000]
    extractor = make(text)
    result = extractor.detect_entities(text)
    mets = [e for e in result.entities if e["Text"] == "metformin"]
    assert len(mets) == text.count("metformin")
    assert max(e["BeginOffset"] for e in mets) > 40_000
    for e in result.entities:
        assert text[e["BeginOffset"] : e["EndOffset"]] == e["Text"]
        for a in e["Attributes"]:
            assert text[a["BeginOffset"] : a["EndOffset"]] == a["Text"]
    if isinstance(extractor, ComprehendMedicalExtractor):
        spans = chunk_spans(text)
        assert len(spans) == 3 and all(e - b <= 20_000 for b, e in spans)
        assert result.units == sum(math.ceil((e - b) / 100) for b, e in spans)
        assert result.usd == pytest.approx(result.units * 0.01)


# ---- Comprehend-only behaviour --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ThrottlingException", ThrottlingError),
        ("TooManyRequestsException", ThrottlingError),
        ("InternalServerException", TransientError),
        ("ServiceUnavailableException", TransientError),
        ("TextSizeLimitExceededException", HealthChatError),
        ("InvalidRequestException", HealthChatError),
    ],
)
def test_service_errors_map_to_domain_errors(stubbed: tuple[Any, Stubber], code: str, error: type) -> None:
    client, stubber = stubbed
    stubber.add_client_error("detect_entities_v2", service_error_code=code, http_status_code=400)
    with pytest.raises(error) as info:
        ComprehendMedicalExtractor(boto3_client=client).detect_entities("Jane Doe has diabetes.")
    assert "Jane" not in str(info.value) and "diabetes" not in str(info.value)
    if error is HealthChatError:
        assert not isinstance(info.value, ThrottlingError | TransientError)


def test_units_minimum_one_per_call_and_empty_text_costs_nothing(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("detect_entities_v2", {"Entities": [], "ModelVersion": "2.4.0"})
    cm = ComprehendMedicalExtractor(boto3_client=client)
    result = cm.detect_entities("ok")
    assert (result.units, result.usd, result.model_version) == (1, 0.01, "2.4.0")
    empty = cm.detect_entities("")
    assert (empty.entities, empty.units) == ([], 0)


def test_icd10_concepts_are_attached_to_matching_conditions(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    text = "History of hypertension."
    entity = {"Id": 0, "BeginOffset": 11, "EndOffset": 23, "Score": 0.99, "Text": "hypertension",
              "Category": "MEDICAL_CONDITION", "Type": "DX_NAME", "Traits": [], "Attributes": []}  # fmt: skip
    stubber.add_response("detect_entities_v2", {"Entities": [entity], "ModelVersion": "2.4.0"})
    linked = dict(
        entity, ICD10CMConcepts=[{"Code": "I10", "Description": "Essential hypertension", "Score": 0.9}]
    )
    del linked["Attributes"]
    stubber.add_response("infer_icd10_cm", {"Entities": [linked], "ModelVersion": "0.1.0"})
    result = ComprehendMedicalExtractor(boto3_client=client, infer_icd10=True).detect_entities(text)
    (cond,) = conditions_from(result.entities)
    assert cond.icd10cm == "I10"
    assert result.units == 2


def test_chunking_hard_splits_long_lines_and_respects_bytes() -> None:
    assert [e - b for b, e in chunk_spans("x" * 50_000)] == [19_000, 19_000, 12_000]
    wide = "é漢" * 15_000  # 30,000 characters, 75,000 UTF-8 bytes
    spans = chunk_spans(wide)
    assert spans[0][0] == 0 and spans[-1][1] == len(wide)
    assert all(len(wide[b:e].encode()) < 20_000 for b, e in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


def test_chunks_end_at_line_boundaries() -> None:
    text = ("line of clinical text\n" * 2_000)[:44_000]
    for _b, e in chunk_spans(text)[:-1]:
        assert text[e - 1] == "\n"
