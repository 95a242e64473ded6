"""Domain errors: each user-causable failure has a stable code (DESIGN.md section 4) and a PHI-free message.

The exception class name is what Lambda reports as ``errorType``; the state machine's Retry
blocks match ``ThrottlingError`` and ``TransientError`` by that name, and RecordFailure maps
every other name back to its code with :func:`code_for_error_type`.
"""

from __future__ import annotations

from typing import ClassVar


class HealthChatError(Exception):
    """Base of every error HealthChat raises on purpose. Messages must never contain PHI."""

    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "An internal error occurred while processing the document."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class EmptyFileError(HealthChatError):
    code = "EMPTY_FILE"
    default_message = "The file is empty."


class TooLargeError(HealthChatError):
    code = "TOO_LARGE"
    default_message = "The file is larger than the maximum size allowed."


class UnsupportedTypeError(HealthChatError):
    code = "UNSUPPORTED_TYPE"
    default_message = "The file type is not supported (PDF, PNG, JPEG, TIFF and plain text are)."


class CorruptFileError(HealthChatError):
    code = "CORRUPT_FILE"
    default_message = "The file is damaged and could not be read."


class EncryptedPdfError(HealthChatError):
    code = "ENCRYPTED_PDF"
    default_message = "The PDF is password-protected; upload a copy without a password."


class TooManyPagesError(HealthChatError):
    code = "TOO_MANY_PAGES"
    default_message = "The document has more pages than the maximum allowed."


class NoTextFoundError(HealthChatError):
    code = "NO_TEXT_FOUND"
    default_message = "We could not read any text in this document."


class EngineUnavailableError(HealthChatError):
    code = "ENGINE_UNAVAILABLE"
    default_message = "A processing engine is not available; try again later."


class ThrottlingError(HealthChatError):
    """A service asked us to slow down; the state machine retries it with backoff."""

    code = "THROTTLED"
    default_message = "A processing service is busy; the document could not be processed in time."


class TransientError(HealthChatError):
    """A failure that is expected to pass (timeouts, 5xx); retried by the state machine."""

    code = "INTERNAL"
    default_message = "A temporary failure interrupted processing."


class NotFoundError(HealthChatError):
    code = "INTERNAL"
    default_message = "A stored item was not found."


ERROR_CODES: tuple[str, ...] = (
    "EMPTY_FILE",
    "TOO_LARGE",
    "UNSUPPORTED_TYPE",
    "CORRUPT_FILE",
    "ENCRYPTED_PDF",
    "TOO_MANY_PAGES",
    "NO_TEXT_FOUND",
    "ENGINE_UNAVAILABLE",
    "THROTTLED",
    "INTERNAL",
)

_BY_NAME: dict[str, type[HealthChatError]] = {}


def _collect(cls: type[HealthChatError]) -> None:
    for sub in cls.__subclasses__():
        _BY_NAME[sub.__name__] = sub
        _collect(sub)


_collect(HealthChatError)

# Step Functions' own error names for Lambda service failures and timeouts.
_SERVICE_ERRORS = {
    "States.Timeout": EngineUnavailableError,
    "States.TaskFailed": EngineUnavailableError,
    "Lambda.ServiceException": EngineUnavailableError,
    "Lambda.AWSLambdaException": EngineUnavailableError,
    "Lambda.SdkClientException": EngineUnavailableError,
    "Lambda.TooManyRequestsException": ThrottlingError,
    "ThrottlingException": ThrottlingError,
}


def error_class_for(error_type: str) -> type[HealthChatError]:
    """The HealthChat error class for a Step Functions ``Error`` / Lambda ``errorType`` name."""
    return _BY_NAME.get(error_type) or _SERVICE_ERRORS.get(error_type) or HealthChatError


def code_for_error_type(error_type: str) -> str:
    return error_class_for(error_type).code
