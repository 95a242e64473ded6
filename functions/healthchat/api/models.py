"""The HTTP API's wire shapes: request and response models (Powertools validates requests and builds
/openapi.json from them) and the errors that become ``{"error": {"code", "message"}}`` bodies.

Error codes here are HTTP-level (NOT_FOUND, NOT_READY, VALIDATION_ERROR, UNAUTHORIZED); the codes a
DocumentResult carries stay in ``healthchat.domain.errors``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from healthchat.domain.models import DocumentResult, ErrorInfo, Status

UPLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain")


class _Wire(BaseModel):
    # Validators are built on first use, not at import: a cold Lambda serves one kind of request
    # first, and the models of the other routes cost it nothing.
    model_config = ConfigDict(defer_build=True)


# ---- requests ------------------------------------------------------------------------------------


# C0/C1 controls and the bidi overrides that can make "gpj.exe" display as "exe.jpg".
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def base_filename(name: str) -> str:
    """Only the last part of a path ('/' or '\\'), without control characters; 'document' if nothing is left.

    A browser sends a bare name, but another client may send 'C:\\scans\\labs.pdf' or '../../etc/passwd';
    the name is only shown back, and a directory part there would mislead.
    """
    last = re.split(r"[/\\]", _CONTROL.sub("", name))[-1].strip()
    return last if last not in ("", ".", "..") else "document"


class CreateDocumentRequest(_Wire):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    filename: Annotated[str, AfterValidator(base_filename)] = Field(
        min_length=1,
        max_length=255,
        description=(
            "The file's name, shown back to you. Only its base name is kept: any directory part (after the "
            "last / or \\) and control characters are removed, and a name with nothing left becomes "
            "'document'."
        ),
    )
    # A plain string, not a Literal: an unknown type is 415 UNSUPPORTED_TYPE, not a validation error;
    # parameters (``text/plain; charset=utf-8``) are allowed, so the schema lists examples, not an enum.
    content_type: str = Field(
        min_length=1,
        max_length=100,
        description=(
            f"The file's media type ({', '.join(UPLOAD_TYPES)}), parameters such as charset allowed; "
            "the upload must send exactly this Content-Type."
        ),
        examples=list(UPLOAD_TYPES),
    )
    bytes: int | None = Field(
        default=None,
        ge=1,
        description=(
            "The file's size in bytes, if known: checked against the limit, and the upload must then be "
            "exactly this size (in the cloud S3 refuses any other, as Content-Length is signed)."
        ),
    )


# ---- responses -----------------------------------------------------------------------------------


class CreateDocumentResponse(_Wire):
    document_id: str
    upload_url: str = Field(description="PUT the file's bytes here, with exactly upload_headers.")
    upload_method: Literal["PUT"] = "PUT"
    upload_headers: dict[str, str]
    expires_in: int = Field(description="Seconds the upload URL stays valid.")
    status_url: str = Field(description="Poll this path for the document's status and result.")


class DocumentItem(_Wire):
    document_id: str
    filename: str
    status: Status
    error: ErrorInfo | None = None
    created_at: datetime
    updated_at: datetime


class DocumentPage(_Wire):
    documents: list[DocumentItem]
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page.")


class DocumentDetail(DocumentItem):
    result: DocumentResult | None = Field(
        default=None, description="Set once the document SUCCEEDED; for FAILED it carries the error."
    )


class GlossaryTerm(_Wire):
    term: str
    plain: str = Field(description="What the term means, in plain words.")
    senses: list[str] = Field(
        default_factory=list, description="For an abbreviation with several meanings: each meaning."
    )


class ErrorBody(_Wire):
    error: ErrorInfo


# ---- errors --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered with ``status`` and ``{"error": {"code", "message"}}``; messages are PHI-free."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "An internal error occurred."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"
    default_message = "Sign in to use this API."


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    default_message = "No document with this id."


class NotReady(ApiError):
    status = 409
    code = "NOT_READY"
    default_message = "The document has not been processed successfully yet."


class TooLarge(ApiError):
    status = 413
    code = "TOO_LARGE"
    default_message = "The file is larger than the maximum size allowed."


class UnsupportedType(ApiError):
    status = 415
    code = "UNSUPPORTED_TYPE"
    default_message = "The file type is not supported (PDF, PNG, JPEG, TIFF and plain text are)."


class Throttled(ApiError):
    status = 503
    code = "THROTTLED"
    default_message = "The question service is busy; try again in a few seconds."


class InvalidRequest(ApiError):
    status = 422
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."


def openapi_responses(
    status: int, description: str, model: type[BaseModel] | None, *errors: type[ApiError]
) -> dict[int, Any]:
    """The OpenAPI ``responses`` of a route: its success (``model`` as JSON, or no body), the errors it
    can answer with, and 422 VALIDATION_ERROR (Powertools would otherwise document its own 422 shape)."""
    # An empty content map: without one Powertools documents the return annotation (None) as a body.
    success: dict[str, Any] = {"description": description, "content": {}}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    out: dict[int, Any] = {status: success}
    kinds: tuple[type[ApiError], ...] = (*errors, InvalidRequest)
    for error in kinds:
        out[error.status] = {
            "description": f"{error.code}: {error.default_message}",
            "content": {"application/json": {"model": ErrorBody}},
        }
    return out
