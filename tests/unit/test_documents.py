"""Upload validation: every way a user's file can be refused has its error (and code), and good files pass."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas

from healthchat.domain.documents import DocumentInfo, inspect_document, sniff_content_type
from healthchat.domain.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedPdfError,
    HealthChatError,
    TooLargeError,
    TooManyPagesError,
    UnsupportedTypeError,
)

MB = 1024 * 1024
SECRET_WORD = "Zyxwvutsample"  # appears in documents; must never appear in an error message


def make_pdf(pages: int = 1, encrypt: str | pdfencrypt.StandardEncryption | None = None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True, encrypt=encrypt)
    for number in range(pages):
        c.drawString(72, 720, f"{SECRET_WORD} page {number + 1}: Hemoglobin A1c 7.2 % 4.0-5.6")
        c.showPage()
    c.save()
    return buf.getvalue()


def make_image(fmt: str, frames: int = 1) -> bytes:
    images = [Image.new("L", (64, 32), 255 - 40 * i) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, format=fmt, save_all=frames > 1, append_images=images[1:])
    return buf.getvalue()


def inspect(data: bytes, max_bytes: int = 10 * MB, max_pages: int = 20) -> DocumentInfo:
    return inspect_document(data, max_bytes=max_bytes, max_pages=max_pages)


# ---- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_pdf(), "application/pdf"),
        (b"\r\n" * 100 + make_pdf(), "application/pdf"),  # header may follow junk in the first 1 KB
        (make_image("PNG"), "image/png"),
        (make_image("JPEG"), "image/jpeg"),
        (make_image("TIFF"), "image/tiff"),
        (b"MM\x00*" + b"\x00" * 16, "image/tiff"),  # big-endian TIFF magic
        (b"Glucose 142 mg/dL\n", "text/plain"),
        ("\ufeffHémoglobine 11,2 g/dL\n".encode(), "text/plain"),  # UTF-8 BOM and accents
    ],
)
def test_sniff_recognises_supported_types_by_magic_bytes(data: bytes, expected: str) -> None:
    # GIVEN bytes of a supported type WHEN sniffed THEN the type comes from the bytes themselves
    assert sniff_content_type(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),  # an executable
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4,  # a zip (or .docx)
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # GIF is not accepted
        "Glucose 142".encode("utf-16"),  # UTF-16 text has NUL bytes
        b"caf\xe9 au lait, not utf-8\n",  # Latin-1
        b"text\x01\x02\x03\x04\x05 with many control characters\x06\x07\x08",
    ],
)
def test_sniff_rejects_other_content(data: bytes) -> None:
    with pytest.raises(UnsupportedTypeError) as err:
        sniff_content_type(data)
    assert err.value.code == "UNSUPPORTED_TYPE"


def test_sniff_of_nothing_is_empty_file() -> None:
    with pytest.raises(EmptyFileError):
        sniff_content_type(b"")


# ---- inspect_document: good files ----------------------------------------------------------------


def test_pdf_reports_pages_hash_and_size() -> None:
    data = make_pdf(pages=3)
    info = inspect(data)
    assert info == DocumentInfo("application/pdf", 3, hashlib.sha256(data).hexdigest(), len(data))


def test_png_and_text_are_one_page() -> None:
    assert inspect(make_image("PNG")).pages == 1
    assert inspect(make_image("JPEG")).pages == 1
    assert inspect(b"BP 142/88, HR 78\n").pages == 1


def test_multipage_tiff_counts_frames() -> None:
    assert inspect(make_image("TIFF", frames=3)).pages == 3


def test_pdf_with_only_an_owner_password_opens_without_a_password() -> None:
    # GIVEN a PDF restricted by an owner password only (any reader opens it)
    data = make_pdf(encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner", canPrint=0))
    # THEN it is accepted
    assert inspect(data).pages == 1


def test_the_file_name_plays_no_part() -> None:
    # GIVEN a PDF "renamed" to .txt and an executable "renamed" to .pdf: only bytes reach validation
    assert inspect(make_pdf()).content_type == "application/pdf"
    with pytest.raises(UnsupportedTypeError):
        inspect(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))


# ---- inspect_document: refused files -------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(EmptyFileError) as err:
        inspect(b"")
    assert err.value.code == "EMPTY_FILE"


def test_oversized_file_names_only_the_limit() -> None:
    with pytest.raises(TooLargeError) as err:
        inspect(b"x" * (MB + 1), max_bytes=MB)
    assert err.value.code == "TOO_LARGE"
    assert err.value.message == "The file is larger than the 1 MB limit."


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_truncated_pdf_is_corrupt(keep: float) -> None:
    data = make_pdf(pages=2)
    with pytest.raises(CorruptFileError) as err:
        inspect(data[: int(len(data) * keep)])
    assert err.value.code == "CORRUPT_FILE"


def test_garbage_after_a_pdf_header_is_corrupt() -> None:
    with pytest.raises(CorruptFileError):
        inspect(b"%PDF-1.7\n" + bytes(range(256)) * 8)


def test_truncated_png_is_corrupt() -> None:
    image = Image.effect_noise((400, 400), 60)  # noise does not compress: the pixel data is long
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    with pytest.raises(CorruptFileError):
        inspect(buf.getvalue()[: len(buf.getvalue()) // 2])


def test_jpeg_with_only_a_header_is_corrupt() -> None:
    with pytest.raises(CorruptFileError):
        inspect(b"\xff\xd8\xff\xe0" + b"\x00" * 40)


def test_password_protected_pdf() -> None:
    with pytest.raises(EncryptedPdfError) as err:
        inspect(make_pdf(encrypt="secret"))
    assert err.value.code == "ENCRYPTED_PDF"


def test_too_many_pages_names_only_the_limit() -> None:
    with pytest.raises(TooManyPagesError) as err:
        inspect(make_pdf(pages=4), max_pages=3)
    assert err.value.code == "TOO_MANY_PAGES"
    assert "3 pages" in err.value.message


def test_too_many_tiff_frames() -> None:
    with pytest.raises(TooManyPagesError):
        inspect(make_image("TIFF", frames=3), max_pages=2)


def test_error_messages_never_quote_the_document() -> None:
    # GIVEN documents that fail in different ways, all containing a recognisable word
    bad = [
        make_pdf(pages=2)[:400],
        make_pdf(encrypt="pw"),
        make_pdf(pages=2),
        f"{SECRET_WORD}\x01\x02\x03\x04".encode(),
    ]
    for data in bad:
        with pytest.raises(HealthChatError) as err:
            inspect(data, max_pages=1)
        assert SECRET_WORD not in err.value.message
