"""The public data contracts: DocumentResult (DESIGN.md section 4), records, and stage artifacts."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Status(StrEnum):
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ErrorInfo(BaseModel):
    code: str
    message: str


# ---- Comprehend Medical DetectEntitiesV2 shape (field names are AWS's, PascalCase) ----------------


class Trait(BaseModel):
    Name: str
    Score: float


class Attribute(BaseModel):
    model_config = ConfigDict(extra="allow")

    Type: str
    Score: float
    RelationshipScore: float | None = None
    RelationshipType: str | None = None
    Id: int
    BeginOffset: int
    EndOffset: int
    Text: str
    Category: str | None = None
    Traits: list[Trait] = Field(default_factory=list)


class Entity(BaseModel):
    """One entity exactly as DetectEntitiesV2 returns it (plus optional ICD10CMConcepts/RxNormConcepts)."""

    model_config = ConfigDict(extra="allow")

    Id: int
    BeginOffset: int
    EndOffset: int
    Score: float
    Text: str
    Category: str
    Type: str
    Traits: list[Trait] = Field(default_factory=list)
    Attributes: list[Attribute] = Field(default_factory=list)


# ---- DocumentResult ------------------------------------------------------------------------------


class SourceInfo(BaseModel):
    filename: str
    content_type: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    pages: int | None = None


class TextInfo(BaseModel):
    chars: int
    method: Literal["text-layer", "ocr", "mixed", "plain-text"]
    ocr_confidence: float | None = None


class ReferenceRange(BaseModel):
    low: float | None = None
    high: float | None = None
    text: str | None = None
    # Extension of DESIGN section 4: where the range came from. "report" = printed on the document;
    # "typical" = HealthChat's curated adult range (data/lab_ranges.json), named in ``citation``.
    source: Literal["report", "typical"] | None = None
    citation: str | None = None


class LabResult(BaseModel):
    name: str
    value: str
    unit: str | None = None
    reference_range: ReferenceRange | None = None
    flag: Literal["low", "normal", "high", "abnormal", "unknown"] = "unknown"
    explanation: str | None = None
    begin_offset: int
    end_offset: int
    # Extensions: the laboratory's own marker (H, L, A, ...) as printed, and a note when our computed
    # flag disagrees with it or rests on a typical range rather than the printed one.
    report_flag: str | None = None
    flag_note: str | None = None


class Medication(BaseModel):
    name: str
    strength: str | None = None
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    begin_offset: int
    end_offset: int


class Condition(BaseModel):
    name: str
    negated: bool = False
    icd10cm: str | None = None
    begin_offset: int
    end_offset: int
    # named only as past history ("Iron deficiency anemia in 2021, treated"), not as a current problem
    history: bool = False


class SourceSpan(BaseModel):
    begin_offset: int
    end_offset: int


class SummarySentence(BaseModel):
    text: str
    source_spans: list[SourceSpan] = Field(default_factory=list)


class Summary(BaseModel):
    text: str
    sentences: list[SummarySentence] = Field(default_factory=list)
    # Extension: why a configured model's summary was not used (then this is the extractive summary).
    fallback_reason: str | None = None


class GlossaryEntry(BaseModel):
    term: str
    plain: str


class PlainLanguage(BaseModel):
    text: str
    reading_grade: float | None = None
    source_reading_grade: float | None = None
    glossary: list[GlossaryEntry] = Field(default_factory=list)
    # Extension: why a configured model's rewrite was not used (then ``text`` is the deterministic one).
    fallback_reason: str | None = None


class Tip(BaseModel):
    text: str
    reason: str
    source: str
    # Extension: "urgent" (red-flag value: contact your clinician now), "tip", or "notice".
    kind: Literal["urgent", "tip", "notice"] = "tip"


class UnsupportedClaim(BaseModel):
    """Something a generated text states that the source document does not support."""

    kind: Literal["number", "drug", "dose", "diagnosis", "negation"]
    text: str
    reason: str


class FaithfulnessReport(BaseModel):
    """Result of checking one generated text (summary or plain language) against the source."""

    passed: bool
    checked: dict[str, int] = Field(default_factory=dict)
    unsupported: list[UnsupportedClaim] = Field(default_factory=list)


class CostLine(BaseModel):
    units: int = 0
    usd: float = 0.0


class DocumentResult(BaseModel):
    """What a user gets for one document. Field names and meanings are a public contract."""

    schema_version: str = SCHEMA_VERSION
    document_id: str
    owner_id: str
    status: Status
    error: ErrorInfo | None = None
    source: SourceInfo
    text: TextInfo | None = None
    entities: list[Entity] = Field(default_factory=list)
    labs: list[LabResult] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list)
    summary: Summary | None = None
    plain_language: PlainLanguage | None = None
    tips: list[Tip] = Field(default_factory=list)
    # Extension: faithfulness check per generated text ("summary", "plain_language").
    faithfulness: dict[str, FaithfulnessReport] = Field(default_factory=dict)
    notice: str | None = None
    engines: dict[str, str] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    cost: dict[str, CostLine] = Field(default_factory=dict)


# ---- records and state payloads ------------------------------------------------------------------


class DocumentRecord(BaseModel):
    """The row kept per document in the record store (DynamoDB / SQLite)."""

    owner_id: str
    document_id: str
    status: Status
    filename: str
    upload_key: str
    content_type: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    pages: int | None = None
    error: ErrorInfo | None = None
    result_key: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DocRef(BaseModel):
    """The claim check every stage receives: ids and keys, never document text."""

    owner_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:-]+$")
    document_id: str = Field(min_length=26, max_length=26)
    upload_key: str = Field(min_length=1, max_length=1024)


class StageEvent(BaseModel):
    """Input of every stage after RegisterDocument."""

    doc: DocRef


class StageOutput(BaseModel):
    """What a stage returns into the state: where its artifact is and small counts."""

    artifact: str
    ms: float
    engine: str
    counts: dict[str, int] = Field(default_factory=dict)


class Artifact(BaseModel):
    """Common envelope of the JSON artifacts written under ``{owner}/{document_id}/``."""

    stage: str
    engine: str
    ms: float
    data: dict[str, Any]
    cost: dict[str, CostLine] = Field(default_factory=dict)
