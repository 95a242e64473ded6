"""Amazon Comprehend Medical adapter: DetectEntitiesV2 over texts of any length, errors as domain errors.

The API takes at most 20,000 characters (InferICD10CM/InferRxNorm: 10,000) per call, so text is cut
at line or sentence boundaries, each chunk is sent on its own, and offsets and Ids are re-mapped onto
the whole text. boto3 is imported on first use only.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from healthchat.domain.errors import HealthChatError, ThrottlingError, TransientError
from healthchat.ports import EntityResult

if TYPE_CHECKING:
    from mypy_boto3_comprehendmedical import ComprehendMedicalClient

DETECT_MAX_CHARS = 19_000  # under the 20,000 limit, with room for multi-byte characters
INFER_MAX_CHARS = 9_500
MAX_BYTES = 19_999
USD_PER_UNIT = 0.01  # DetectEntitiesV2 (NERe): one unit = 100 characters, minimum 1 unit per call
# Assumed equal to NERe for ICD-10-CM / RxNorm linking: check the current AWS price list.
INFER_USD_PER_UNIT = 0.01

_THROTTLE = {"ThrottlingException", "TooManyRequestsException"}
_TRANSIENT = {"InternalServerException", "ServiceUnavailableException"}
_INVALID = {"InvalidRequestException", "TextSizeLimitExceededException", "InvalidEncodingException"}
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s")


def chunk_spans(text: str, max_chars: int = DETECT_MAX_CHARS) -> list[tuple[int, int]]:
    """(begin, end) spans covering ``text``: each under ``max_chars`` characters and ``MAX_BYTES`` bytes.

    Cuts after the last newline in the window, else after the last sentence end, else at the last
    whitespace, else hard at the limit (a single over-long token).
    """
    spans: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        limit = max_chars
        while True:
            end = min(n, start + limit)
            if end < n:
                end = _cut(text, start, end)
            if len(text[start:end].encode("utf-8")) <= MAX_BYTES or limit <= 1:
                break
            limit //= 2
        spans.append((start, end))
        start = end
    return spans


def _cut(text: str, start: int, end: int) -> int:
    half = start + (end - start) // 2
    nl = text.rfind("\n", half, end)
    if nl != -1:
        return nl + 1
    last = None
    for m in _SENTENCE_END.finditer(text, half, end):
        last = m.end()
    if last is not None:
        return last
    for i in range(end - 1, half, -1):
        if text[i].isspace():
            return i + 1
    return end


def units_for(chars: int) -> int:
    """Billed units for one request of ``chars`` characters (100 characters a unit, at least 1)."""
    return max(1, math.ceil(chars / 100))


def _shift(item: dict[str, Any], offset: int, next_id: list[int]) -> dict[str, Any]:
    out = dict(item)
    out["BeginOffset"] = int(item["BeginOffset"]) + offset
    out["EndOffset"] = int(item["EndOffset"]) + offset
    out["Id"] = next_id[0]
    next_id[0] += 1
    if "Attributes" in item:
        out["Attributes"] = [_shift(a, offset, next_id) for a in item["Attributes"] or []]
    return out


def _error(exc: Exception) -> HealthChatError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    if code in _THROTTLE:
        return ThrottlingError()
    if code in _TRANSIENT:
        return TransientError("Comprehend Medical had a temporary failure.")
    if code in _INVALID:
        return HealthChatError("Comprehend Medical rejected the text (size or encoding).")
    return HealthChatError(f"Comprehend Medical failed ({code or type(exc).__name__}).")


class ComprehendMedicalExtractor:
    """MedicalExtractor port on Amazon Comprehend Medical (DetectEntitiesV2).

    Parameters
    ----------
    boto3_client : optional
        A ``comprehendmedical`` client (tests pass a Stubber-wrapped one); built lazily with adaptive
        retries (5 attempts) when omitted.
    infer_icd10 : bool
        Also call InferICD10CM and attach ``ICD10CMConcepts`` to the matching condition entities.
    infer_rxnorm : bool
        Also call InferRxNorm and attach ``RxNormConcepts`` to the matching medication entities.
    """

    name = "comprehend-medical"

    def __init__(
        self, boto3_client: Any | None = None, infer_icd10: bool = False, infer_rxnorm: bool = False
    ) -> None:
        self._client = boto3_client
        self.infer_icd10 = infer_icd10
        self.infer_rxnorm = infer_rxnorm

    @property
    def client(self) -> ComprehendMedicalClient:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "comprehendmedical", config=Config(retries={"mode": "adaptive", "max_attempts": 5})
            )
        return self._client

    def _call(self, operation: str, chunk: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(Text=chunk)
        except ClientError as exc:
            raise _error(exc) from None
        except BotoCoreError as exc:
            raise TransientError(f"Comprehend Medical could not be reached ({type(exc).__name__}).") from None
        return response

    def detect_entities(self, text: str) -> EntityResult:
        """Entities of the whole text; ``units``/``usd`` add up every call made (detect and infer)."""
        entities: list[dict[str, Any]] = []
        next_id, units, usd, version = [0], 0, 0.0, ""
        for begin, end in chunk_spans(text):
            chunk = text[begin:end]
            if not chunk.strip():
                continue
            resp = self._call("detect_entities_v2", chunk)
            version = str(resp.get("ModelVersion", version))
            entities.extend(_shift(e, begin, next_id) for e in resp.get("Entities", []))
            u = units_for(len(chunk))
            units, usd = units + u, usd + u * USD_PER_UNIT
        for wanted, op, key in (
            (self.infer_icd10, "infer_icd10_cm", "ICD10CMConcepts"),
            (self.infer_rxnorm, "infer_rx_norm", "RxNormConcepts"),
        ):
            if wanted and entities:
                u = self._link(text, entities, op, key)
                units, usd = units + u, usd + u * INFER_USD_PER_UNIT
        return EntityResult(entities=entities, model_version=version, units=units, usd=round(usd, 6))

    def _link(self, text: str, entities: list[dict[str, Any]], operation: str, key: str) -> int:
        """Attach ontology concepts from an Infer* call to entities with the same span; returns units."""
        by_span = {(e["BeginOffset"], e["EndOffset"]): e for e in entities}
        units = 0
        for begin, end in chunk_spans(text, INFER_MAX_CHARS):
            chunk = text[begin:end]
            if not chunk.strip():
                continue
            resp = self._call(operation, chunk)
            units += units_for(len(chunk))
            for linked in resp.get("Entities", []):
                span = (int(linked["BeginOffset"]) + begin, int(linked["EndOffset"]) + begin)
                target = by_span.get(span)
                if target is not None and linked.get(key):
                    target[key] = linked[key]
        return units
