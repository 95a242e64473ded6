"""Cloud OCR: Amazon Textract DetectDocumentText on one page image, LINE blocks rebuilt into rows.

Textract returns each table cell as its own LINE; lines whose vertical centres fall inside one
another's box are put back on one row, left to right, two spaces apart, so a lab row reads
``Hemoglobin A1c  7.2  H  %  4.0-5.6`` as it does from the text layer and from tesseract.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from healthchat.adapters.aws.errors import translate_client_error
from healthchat.domain.errors import (
    CorruptFileError,
    EngineUnavailableError,
    HealthChatError,
    ThrottlingError,
    TooLargeError,
    TransientError,
)
from healthchat.ports import OcrPage

if TYPE_CHECKING:
    from mypy_boto3_textract import TextractClient

MAX_BYTES = 10 * 1024 * 1024  # DetectDocumentText's limit for Document.Bytes
_THROTTLED = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException"}
)
_TRANSIENT = frozenset({"InternalServerError"})
_BAD_DOCUMENT = frozenset(
    {"UnsupportedDocumentException", "BadDocumentException", "InvalidParameterException"}
)
_TOO_LARGE = frozenset({"DocumentTooLargeException"})


class TextractOcr:
    """``OcrEngine`` over Amazon Textract's synchronous DetectDocumentText.

    Parameters
    ----------
    boto3_client:
        A ``textract`` client (moto, Stubber or a custom endpoint plug in here); created on first
        use when omitted.
    """

    name = "textract"

    def __init__(self, boto3_client: TextractClient | None = None) -> None:
        self._client = boto3_client

    @property
    def client(self) -> TextractClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("textract")
        return self._client

    def read_page(self, image: bytes) -> OcrPage:
        """Text of one page image (PNG/JPEG/TIFF bytes) and the mean LINE confidence (0..100).

        Images over Textract's 10 MB synchronous limit are sent as a grayscale JPEG instead.
        """
        response = self._detect(fit_size(image))
        lines = [b for b in response.get("Blocks", []) if b.get("BlockType") == "LINE" and b.get("Text")]
        confidences = [float(b["Confidence"]) for b in lines if b.get("Confidence") is not None]
        confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
        return OcrPage(text=lines_to_text(lines), confidence=confidence)

    def _detect(self, image: bytes) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return dict(self.client.detect_document_text(Document={"Bytes": image}))
        except ClientError as exc:
            raise _translate(exc) from None
        except NoCredentialsError:
            raise EngineUnavailableError("Textract is not available: no AWS credentials.") from None
        except BotoCoreError:  # connection failures, read timeouts
            raise TransientError() from None


def fit_size(image: bytes, limit: int = MAX_BYTES) -> bytes:
    """``image`` if within ``limit``, else the same page re-encoded as a grayscale JPEG."""
    if len(image) <= limit:
        return image
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as opened:
            page = opened.convert("L")
    except (OSError, ValueError, SyntaxError, EOFError):
        raise CorruptFileError() from None
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=85)
    if out.tell() > limit:
        raise TooLargeError("A page image is larger than Textract accepts.")
    return out.getvalue()


def _translate(exc: Any) -> HealthChatError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in _THROTTLED:
        return ThrottlingError()
    if code in _TRANSIENT:
        return TransientError()
    if code in _BAD_DOCUMENT:
        return CorruptFileError()
    if code in _TOO_LARGE:
        return TooLargeError("A page image is larger than Textract accepts.")
    return translate_client_error(exc)


def lines_to_text(lines: list[dict[str, Any]]) -> str:
    """LINE blocks as text rows: blocks side by side on the page share a row (two spaces apart).

    Blocks without geometry keep Textract's own (reading) order, one per row.
    """
    boxes = [(b, b.get("Geometry", {}).get("BoundingBox")) for b in lines]
    if not all(box for _, box in boxes):
        return "\n".join(str(b["Text"]) for b in lines)
    rows: list[list[tuple[float, float, float, str]]] = []  # (top, bottom, left, text)
    for block, box in sorted(boxes, key=lambda item: float(item[1]["Top"])):
        top, height, left = float(box["Top"]), float(box["Height"]), float(box["Left"])
        centre = top + height / 2
        row = rows[-1] if rows else None
        if row is not None and _same_row(row, top, top + height, centre):
            row.append((top, top + height, left, str(block["Text"])))
        else:
            rows.append([(top, top + height, left, str(block["Text"]))])
    return "\n".join("  ".join(cell[3] for cell in sorted(row, key=lambda c: c[2])) for row in rows)


def _same_row(row: list[tuple[float, float, float, str]], top: float, bottom: float, centre: float) -> bool:
    row_top = min(c[0] for c in row)
    row_bottom = max(c[1] for c in row)
    return row_top <= centre <= row_bottom or top <= (row_top + row_bottom) / 2 <= bottom
