"""ExtractText's logic: text layer first, OCR only for pages without one, offsets and methods per page."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from healthchat.domain.errors import CorruptFileError, EncryptedPdfError, NoTextFoundError
from healthchat.ports import OcrEngine, OcrPage
from healthchat.stages.text_extraction import PAGE_SEPARATOR, ExtractedText, extract_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import make_samples  # noqa: E402

PDF = "application/pdf"


class FakeOcr:
    """An OcrEngine that answers each page with the next canned reply and keeps what it was shown."""

    name = "fake-ocr"

    def __init__(self, *replies: OcrPage) -> None:
        self.replies = list(replies)
        self.seen: list[bytes] = []

    def read_page(self, image: bytes) -> OcrPage:
        self.seen.append(image)
        return self.replies.pop(0) if self.replies else OcrPage("", None)


def factory(engine: FakeOcr, calls: list[int] | None = None) -> Callable[[], OcrEngine]:
    def build() -> OcrEngine:
        if calls is not None:
            calls.append(1)
        return engine

    return build


def no_ocr() -> OcrEngine:
    raise AssertionError("the OCR engine must not be loaded")


def pdf_of(*pages: str | None, scanned_text: str = "") -> bytes:
    """A PDF with a text layer page for each string and an image-only page for each None."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=True)
    for page in pages:
        if page is None:
            image = Image.new("L", (85, 110), 255)  # a blank "scan": pixels only
            c.drawImage(ImageReader(image), 0, 0, width=letter[0], height=letter[1])
        else:
            y = 720.0
            for line in page.split("\n"):
                c.drawString(72, y, line)
                y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


LAYER_PAGE = "Glucose 142 mg/dL is above the fasting range.\nPotassium 5.4 mmol/L is high."
OCR_REPLY = OcrPage("Ferritin  12  L  ng/mL  15-150", 91.5)


def test_text_layer_pdf_keeps_every_lab_row_on_one_line() -> None:
    # GIVEN the sample lab report (a reportlab table with Test/Result/Flag/Units/Range columns)
    data = make_samples.lab_report_pdf()
    # WHEN its text is extracted (no OCR engine available)
    result = extract_text(data, PDF, no_ocr)
    # THEN each ground-truth row is one line, its columns two spaces apart, in print order
    lines = result.text.split("\n")
    expected = make_samples.expected_labs()["lab_report.pdf"]
    positions = []
    for lab in expected:
        cells = [lab.name, lab.value, lab.printed_flag, lab.unit, lab.range_text]
        row = "  ".join(cell for cell in cells if cell)
        assert row in lines
        positions.append(lines.index(row))
    assert positions == sorted(positions)
    assert "Hemoglobin A1c  7.2  H  %  4.0-5.6" in lines
    assert result.method == "text-layer"
    assert result.ocr_confidence is None
    assert [(p.number, p.method, p.begin, p.end) for p in result.pages] == [
        (1, "text-layer", 0, len(result.text))
    ]


def test_text_only_pdf_never_loads_the_ocr_engine() -> None:
    calls: list[int] = []
    extract_text(pdf_of(LAYER_PAGE, LAYER_PAGE), PDF, factory(FakeOcr(), calls))
    assert calls == []


def test_image_only_pdf_is_rendered_at_300_dpi_and_ocrd() -> None:
    # GIVEN a scanned PDF (one page image, no text layer)
    engine = FakeOcr(OCR_REPLY)
    # WHEN extracted
    result = extract_text(pdf_of(None), PDF, factory(engine))
    # THEN the page went to OCR as a US-letter PNG at 300 dpi, and the OCR text is the document's
    assert len(engine.seen) == 1
    image = Image.open(io.BytesIO(engine.seen[0]))
    assert image.format == "PNG"
    assert abs(image.width - 2550) <= 1 and abs(image.height - 3300) <= 1  # 8.5 x 11 in at 300 dpi
    assert result.text == OCR_REPLY.text
    assert result.method == "ocr"
    assert result.ocr_confidence == 91.5
    assert result.pages[0].confidence == 91.5


def test_mixed_pdf_ocrs_only_the_scanned_page_and_offsets_point_into_the_text() -> None:
    # GIVEN page 1 with a text layer, page 2 scanned, page 3 with a text layer
    engine = FakeOcr(OCR_REPLY)
    result = extract_text(
        pdf_of(LAYER_PAGE, None, "Plan: recheck potassium in one week."), PDF, factory(engine)
    )
    # THEN one OCR call, methods per page, and each page's offsets slice out its own text
    assert len(engine.seen) == 1
    assert result.method == "mixed"
    assert [p.method for p in result.pages] == ["text-layer", "ocr", "text-layer"]
    texts = [result.text[p.begin : p.end] for p in result.pages]
    assert texts == [LAYER_PAGE, OCR_REPLY.text, "Plan: recheck potassium in one week."]
    assert result.text == PAGE_SEPARATOR.join(texts)
    assert result.ocr_confidence == 91.5


def test_page_with_a_sparse_text_layer_is_ocrd() -> None:
    # GIVEN a scanned page whose only text layer is a stamped page number
    engine = FakeOcr(OcrPage("Hemoglobin  10.9  L  g/dL  12.0-15.5\nIron  45  L  ug/dL  60-170", 88.0))
    result = extract_text(pdf_of("Page 1"), PDF, factory(engine))
    assert result.method == "ocr"
    assert "Iron  45" in result.text


def test_sparse_layer_is_kept_when_ocr_finds_nothing_more() -> None:
    text = "Seen today. No changes."
    result = extract_text(pdf_of(LAYER_PAGE, text), PDF, factory(FakeOcr(OcrPage("", None))))
    assert result.text.endswith(text)
    assert result.method == "text-layer"


def test_images_are_ocrd_frame_by_frame() -> None:
    # GIVEN a two-frame TIFF
    frames = [Image.new("L", (200, 100), 255), Image.new("L", (200, 100), 250)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    engine = FakeOcr(OcrPage("Page one text here", 80.0), OcrPage("Page two text here", 90.0))
    # WHEN extracted THEN two OCR calls (PNG each), pages in order, mean confidence
    result = extract_text(buf.getvalue(), "image/tiff", factory(engine))
    assert [Image.open(io.BytesIO(b)).format for b in engine.seen] == ["PNG", "PNG"]
    assert result.text == "Page one text here" + PAGE_SEPARATOR + "Page two text here"
    assert result.ocr_confidence == 85.0


def test_png_bytes_reach_the_engine_unchanged() -> None:
    buf = io.BytesIO()
    Image.new("L", (120, 60), 255).save(buf, format="PNG")
    engine = FakeOcr(OcrPage("TSH 6.8 uIU/mL high", 93.0))
    extract_text(buf.getvalue(), "image/png", factory(engine))
    assert engine.seen == [buf.getvalue()]


def test_blank_image_has_no_text() -> None:
    buf = io.BytesIO()
    Image.new("L", (300, 300), 255).save(buf, format="PNG")
    with pytest.raises(NoTextFoundError) as err:
        extract_text(buf.getvalue(), "image/png", factory(FakeOcr(OcrPage("", None))))
    assert err.value.code == "NO_TEXT_FOUND"


def test_low_confidence_ocr_noise_is_no_text() -> None:
    buf = io.BytesIO()
    Image.new("L", (300, 300), 128).save(buf, format="PNG")
    noise = OcrPage("~ ,. ii Ww;: mM ,, ee re io — ll", 12.0)
    with pytest.raises(NoTextFoundError):
        extract_text(buf.getvalue(), "image/png", factory(FakeOcr(noise)))


def test_whitespace_text_file_has_no_text() -> None:
    with pytest.raises(NoTextFoundError):
        extract_text(b" \n\t\n", "text/plain", no_ocr)


def test_plain_text_drops_the_bom_and_normalises_newlines() -> None:
    result = extract_text("\ufeffLine one here\r\nLine two\rLine three".encode(), "text/plain", no_ocr)
    assert result.text == "Line one here\nLine two\nLine three"
    assert result.method == "plain-text"
    assert [(p.method, p.begin, p.end) for p in result.pages] == [("plain-text", 0, len(result.text))]


def test_encrypted_and_corrupt_pdfs_raise_their_errors() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="pw")
    c.drawString(72, 720, LAYER_PAGE)
    c.save()
    with pytest.raises(EncryptedPdfError):
        extract_text(buf.getvalue(), PDF, no_ocr)
    with pytest.raises(CorruptFileError):
        extract_text(b"%PDF-1.4\n" + bytes(range(256)) * 4, PDF, no_ocr)


def test_round_trip_through_dict() -> None:
    result = extract_text(pdf_of(LAYER_PAGE, None), PDF, factory(FakeOcr(OCR_REPLY)))
    assert ExtractedText.from_dict(result.to_dict()) == result
    assert result.to_dict()["pages"][1] == {
        "number": 2,
        "method": "ocr",
        "begin": result.pages[1].begin,
        "end": result.pages[1].end,
        "confidence": 91.5,
    }
