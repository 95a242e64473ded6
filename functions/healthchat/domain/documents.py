"""Upload validation: the content type by magic bytes, size, page count and damage checks, with coded errors.

Types are sniffed by hand rather than with ``filetype``/``python-magic``: we accept five types, one of
them (plain text) that those libraries do not detect, and PDF whose ``%PDF-`` header may sit anywhere in
the first 1024 bytes (as PDF readers allow), which ``filetype`` misses; libmagic is a system library a
Lambda does not have. PDFs are opened with pypdfium2, images with Pillow, both imported lazily.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from healthchat.domain.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedPdfError,
    TooLargeError,
    TooManyPagesError,
    UnsupportedTypeError,
)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
TEXT = "text/plain"
SUPPORTED_TYPES: tuple[str, ...] = (PDF, PNG, JPEG, TIFF, TEXT)

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
_UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but \t \n \f \r
_MAX_CONTROL_RATIO = 0.01  # a stray ^Z or ^K is tolerated; binary data is full of controls
_PDFIUM_ERR_PASSWORD = 4  # FPDF_ERR_PASSWORD
_PDFIUM_ERR_SECURITY = 5  # FPDF_ERR_SECURITY: unsupported security handler


@dataclass
class DocumentInfo:
    content_type: str
    pages: int
    sha256: str
    bytes: int


def sniff_content_type(data: bytes) -> str:
    """The content type of ``data`` judged by its leading bytes (never by a file name).

    Raises ``EmptyFileError`` for no bytes and ``UnsupportedTypeError`` for anything that is not a
    PDF, PNG, JPEG, TIFF or UTF-8 text (a BOM is allowed; NUL bytes or >1% control characters are not).
    """
    if not data:
        raise EmptyFileError()
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(_PNG_MAGIC):
        return PNG
    if data.startswith(_JPEG_MAGIC):
        return JPEG
    if data[:4] in _TIFF_MAGICS:
        return TIFF
    if _looks_like_text(data):
        return TEXT
    raise UnsupportedTypeError()


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text.strip():
        return bool(text)  # whitespace only is text (extraction then reports NO_TEXT_FOUND)
    controls = len(_CONTROL_CHARS.findall(text))
    return controls / len(text) <= _MAX_CONTROL_RATIO


def inspect_document(data: bytes, *, max_bytes: int, max_pages: int) -> DocumentInfo:
    """Validate an upload and describe it: type, page count, SHA-256 and size.

    Raises ``EmptyFileError``, ``TooLargeError``, ``UnsupportedTypeError``, ``CorruptFileError``,
    ``EncryptedPdfError`` or ``TooManyPagesError``. Pages are the PDF's pages, the TIFF's frames, and 1
    for PNG, JPEG and text.
    """
    if not data:
        raise EmptyFileError()
    if len(data) > max_bytes:
        raise TooLargeError(_size_message(max_bytes))
    content_type = sniff_content_type(data)
    if content_type == PDF:
        pages = count_pdf_pages(data)
    elif content_type == TEXT:
        pages = 1
    else:
        pages = count_image_frames(data)
    if pages > max_pages:
        raise TooManyPagesError(f"The document has more than {max_pages} pages, the maximum allowed.")
    return DocumentInfo(
        content_type=content_type, pages=pages, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data)
    )


def _size_message(max_bytes: int) -> str:
    mib = 1024 * 1024
    if max_bytes >= mib:
        return f"The file is larger than the {max_bytes / mib:g} MB limit."
    return f"The file is larger than the {max_bytes:,} byte limit."


def count_pdf_pages(data: bytes) -> int:
    """Page count of a PDF: ``EncryptedPdfError`` if it needs a password, ``CorruptFileError`` if damaged."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) in (_PDFIUM_ERR_PASSWORD, _PDFIUM_ERR_SECURITY):
            raise EncryptedPdfError() from None
        raise CorruptFileError() from None
    try:
        pages = len(pdf)
        if pages < 1:
            raise CorruptFileError()
        try:
            pdf[0].close()  # a PDF whose page tree is broken opens but cannot give its first page
        except pdfium.PdfiumError:
            raise CorruptFileError() from None
        return pages
    finally:
        pdf.close()


def count_image_frames(data: bytes) -> int:
    """Frames of a PNG/JPEG/TIFF (1 unless a multi-page TIFF); ``CorruptFileError`` if it does not decode."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = int(getattr(image, "n_frames", 1))
            image.verify()  # checksums and structure, without decoding every pixel
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() misses truncated pixel data; decoding the first frame finds it
    except Image.DecompressionBombError:
        raise TooLargeError("The image has more pixels than the maximum allowed.") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise CorruptFileError() from None
    return max(frames, 1)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def upload_key(owner_id: str, document_id: str, filename: str) -> str:
    """``uploads/{owner}/{document_id}/{safe file name}``: the key of a document's upload, for the CLI, the
    inbox watcher and the API alike (directory part and unsafe characters removed, <= 200 chars)."""
    safe = _UNSAFE_NAME.sub("_", PurePosixPath(filename).name).strip("._") or "document"
    return f"uploads/{owner_id}/{document_id}/{safe[-200:]}"


def check_upload_grant(
    owner_id: str, document_id: str, key: str, max_bytes: int, declared_bytes: int | None
) -> None:
    """What every ``UploadUrls`` adapter checks before granting an upload: the key is this document's
    upload key and a declared size lies within the limit (``ValueError`` otherwise)."""
    if not key.startswith(f"uploads/{owner_id}/{document_id}/"):
        raise ValueError("An upload key must sit under uploads/{owner}/{document_id}/.")
    if declared_bytes is not None and not 0 < declared_bytes <= max_bytes:
        raise ValueError("The declared size must be between 1 byte and the size limit.")
