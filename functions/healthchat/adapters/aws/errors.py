"""Translate botocore ClientError codes into domain errors (shared by every AWS adapter)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from healthchat.domain.errors import HealthChatError, NotFoundError, ThrottlingError, TransientError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "LimitExceededException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound", "ResourceNotFoundException"})


def translate_client_error(exc: ClientError) -> HealthChatError:
    """The domain error for a ClientError; the AWS message is dropped (it may quote input)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in THROTTLING_CODES or status == 429:
        return ThrottlingError()
    if code in NOT_FOUND_CODES:
        return NotFoundError()
    if code in TRANSIENT_CODES or status >= 500:
        return TransientError()
    return HealthChatError(f"An AWS service rejected the request ({code or status}).")


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """Re-raise botocore ``ClientError`` as the domain error (botocore is imported only on failure)."""
    try:
        yield
    except Exception as exc:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            raise translate_client_error(exc) from exc
        raise
