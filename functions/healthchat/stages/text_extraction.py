"""Text of an upload: plain text decoded, PDF text layer per page (OCR for pages without one), images OCR'd.

Pages are joined with a blank line (``PAGE_SEPARATOR = "\\n\\n"``), not a form feed, so sentence and lab
parsers downstream never meet a control character; page boundaries live in ``ExtractedText.pages``.
Table rows stay on one line, and a wide gap between two words (a column gap) becomes two spaces, so
``Hemoglobin A1c  7.2  H  %  4.0-5.6`` keeps its columns in both the text layer and OCR output.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from healthchat.domain.documents import JPEG, PDF, PNG, TEXT, TIFF
from healthchat.domain.errors import (
    CorruptFileError,
    EncryptedPdfError,
    NoTextFoundError,
    UnsupportedTypeError,
)
from healthchat.ports import OcrEngine

PAGE_SEPARATOR = "\n\n"
OCR_DPI = 300
MIN_LAYER_CHARS = 20  # a page with fewer non-space characters in its text layer is treated as scanned
MIN_WORDS = 3  # fewer words of 2+ letters/digits in the whole document: nothing readable was found
MIN_OCR_CONFIDENCE = 30.0  # an OCR-only document below this mean word confidence is noise, not text
COLUMN_GAP_EM = 0.8  # a gap wider than this many font heights between words separates table columns
_LINE_TOLERANCE = 3.0  # points: words whose tops differ by less share a line (pdfplumber's default)
_WORD = re.compile(r"[^\W_]{2,}")


@dataclass
class PageText:
    number: int  # 1-based
    method: str  # "text-layer" | "ocr" | "plain-text"
    begin: int  # offsets of the page's text in ExtractedText.text
    end: int
    confidence: float | None = None  # OCR mean word confidence, 0..100


@dataclass
class ExtractedText:
    text: str
    method: str  # "text-layer" | "ocr" | "mixed" | "plain-text"
    pages: list[PageText] = field(default_factory=list)
    ocr_confidence: float | None = None  # mean over the OCR'd pages

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractedText:
        pages = [PageText(**page) for page in data.get("pages", [])]
        return cls(
            text=str(data["text"]),
            method=str(data["method"]),
            pages=pages,
            ocr_confidence=data.get("ocr_confidence"),
        )


def extract_text(data: bytes, content_type: str, ocr: Callable[[], OcrEngine]) -> ExtractedText:
    """The document's text with per-page provenance.

    ``ocr`` is called (once) only when a page needs OCR, so text documents never load an OCR engine.
    Raises ``NoTextFoundError`` when nothing readable comes out, ``CorruptFileError`` /
    ``EncryptedPdfError`` for PDFs that cannot be read, ``UnsupportedTypeError`` for other types.
    """
    if content_type == TEXT:
        text = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        result = ExtractedText(text, "plain-text", [PageText(1, "plain-text", 0, len(text))])
    elif content_type == PDF:
        result = _assemble(_pdf_pages(data, _Lazy(ocr)))
    elif content_type in (PNG, JPEG, TIFF):
        engine = _Lazy(ocr)
        result = _assemble(_ocr_page(engine, frame) for frame in _image_frames(data))
    else:
        raise UnsupportedTypeError()
    _check_readable(result)
    return result


class _Lazy:
    """Builds the OCR engine on first use only."""

    def __init__(self, factory: Callable[[], OcrEngine]) -> None:
        self._factory = factory
        self._engine: OcrEngine | None = None

    def get(self) -> OcrEngine:
        if self._engine is None:
            self._engine = self._factory()
        return self._engine


def _ocr_page(engine: _Lazy, png: bytes) -> tuple[str, str, float | None]:
    page = engine.get().read_page(png)
    return _tidy(page.text), "ocr", page.confidence


def _assemble(pages: Iterator[tuple[str, str, float | None]]) -> ExtractedText:
    parts: list[str] = []
    infos: list[PageText] = []
    offset = 0
    for number, (text, method, confidence) in enumerate(pages, start=1):
        if parts:
            offset += len(PAGE_SEPARATOR)
        parts.append(text)
        infos.append(PageText(number, method, offset, offset + len(text), confidence))
        offset += len(text)
    methods = {p.method for p in infos}
    method = methods.pop() if len(methods) == 1 else "mixed"
    confidences = [p.confidence for p in infos if p.method == "ocr" and p.confidence is not None]
    mean = round(sum(confidences) / len(confidences), 2) if confidences else None
    return ExtractedText(PAGE_SEPARATOR.join(parts), method, infos, mean)


def _check_readable(result: ExtractedText) -> None:
    if len(_WORD.findall(result.text)) < MIN_WORDS:
        raise NoTextFoundError()
    confidence = result.ocr_confidence
    if result.method == "ocr" and confidence is not None and confidence < MIN_OCR_CONFIDENCE:
        raise NoTextFoundError()


def _tidy(text: str) -> str:
    """Trailing spaces off each line, blank lines at the page's ends dropped."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


# ---- PDF -----------------------------------------------------------------------------------------


def _pdf_pages(data: bytes, engine: _Lazy) -> Iterator[tuple[str, str, float | None]]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many unrelated types for damaged files; pdfplumber wraps them
        if isinstance(exc, PDFPasswordIncorrect) or any(
            isinstance(a, PDFPasswordIncorrect) for a in exc.args
        ):
            raise EncryptedPdfError() from None
        raise CorruptFileError() from None
    with pdf:
        try:
            pages = list(pdf.pages)
        except Exception:  # a broken page tree
            raise CorruptFileError() from None
        renderer = _Renderer(data)
        try:
            for index, page in enumerate(pages):
                try:
                    layer = _tidy(_page_text(page))
                finally:
                    page.close()
                if len(re.sub(r"\s", "", layer)) >= MIN_LAYER_CHARS:
                    yield layer, "text-layer", None
                    continue
                text, method, confidence = _ocr_page(engine, renderer.png(index))
                if not text.strip() and layer:  # OCR found nothing: keep what the layer had
                    yield layer, "text-layer", None
                else:
                    yield text, method, confidence
        finally:
            renderer.close()


def _page_text(page: Any) -> str:
    """The page's words as lines in reading order (top to bottom), column gaps as two spaces."""
    try:
        words = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
    except Exception:
        raise CorruptFileError() from None
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (round(float(w["top"]), 1), float(w["x0"]))):
        if lines and abs(float(word["top"]) - float(lines[-1][0]["top"])) < _LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return "\n".join(join_words([(w["x0"], w["x1"], w["text"]) for w in line], _em(line)) for line in lines)


def _em(line: list[dict[str, Any]]) -> float:
    sizes = [float(w.get("size") or (float(w["bottom"]) - float(w["top"]))) for w in line]
    return max(sum(sizes) / len(sizes), 1.0)


def join_words(words: list[tuple[float, float, str]], em: float) -> str:
    """Words of one line (x0, x1, text), left to right, joined by one space or two across a column gap."""
    out: list[str] = []
    last_x1: float | None = None
    for x0, x1, text in sorted(words, key=lambda w: float(w[0])):
        if last_x1 is not None:
            out.append("  " if float(x0) - last_x1 > COLUMN_GAP_EM * em else " ")
        out.append(text)
        last_x1 = float(x1)
    return "".join(out)


class _Renderer:
    """Renders PDF pages to grayscale PNG at OCR_DPI with pypdfium2, opening the PDF only if asked."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf: Any = None

    def png(self, index: int) -> bytes:
        import pypdfium2 as pdfium

        try:
            if self._pdf is None:
                self._pdf = pdfium.PdfDocument(self._data)
            page = self._pdf[index]
            try:
                image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
            finally:
                page.close()
        except pdfium.PdfiumError:
            raise CorruptFileError() from None
        out = io.BytesIO()
        image.convert("L").save(out, format="PNG", dpi=(OCR_DPI, OCR_DPI), compress_level=1)
        return out.getvalue()

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()


# ---- images --------------------------------------------------------------------------------------


def _image_frames(data: bytes) -> Iterator[bytes]:
    """Each frame as PNG (PNG/JPEG without EXIF rotation pass through unchanged)."""
    from PIL import Image, ImageOps

    try:
        image = Image.open(io.BytesIO(data))
        frames = int(getattr(image, "n_frames", 1))
        if frames == 1 and image.format in ("PNG", "JPEG") and image.getexif().get(0x0112, 1) == 1:
            yield data
            return
        for index in range(frames):
            image.seek(index)
            frame = ImageOps.exif_transpose(image.copy())
            out = io.BytesIO()
            frame.convert("L").save(out, format="PNG")
            yield out.getvalue()
    except (OSError, ValueError, SyntaxError, EOFError):
        raise CorruptFileError() from None
