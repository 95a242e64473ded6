"""Generates the sample documents (fictional patients) the demo and the tests run through the pipeline.

    python scripts/make_samples.py OUTDIR

Writes lab_report.pdf (text layer), lab_report_scan.png (a different report "scanned" at 300 dpi),
lab_report_scan.pdf (that scan as an image-only PDF) and doctor_note.txt. Output is byte-for-byte
deterministic (fixed seeds, reportlab invariant mode). The lab rows come from sample_truth.py.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_truth import (  # noqa: E402
    LAB_REPORT_PANELS,
    SCAN_REPORT_PANELS,
    ExpectedLab,
    expected_labs,
)

__all__ = [
    "doctor_note",
    "expected_labs",
    "image_only_pdf",
    "lab_report_pdf",
    "main",
    "scan_like",
    "scan_png",
]

SCAN_DPI = 300
SCAN_SEED = 20240305
COLUMNS = (("Test", 72), ("Result", 250), ("Flag", 310), ("Units", 350), ("Reference Range", 450))


def _report_pdf(
    title: str, header: list[str], panels: dict[str, list[ExpectedLab]], footer: list[str], size: float
) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=True)
    c.setTitle("Sample laboratory report (fictional patient)")
    width, height = letter
    y = height - 72
    c.setFont("Helvetica-Bold", size + 4)
    c.drawString(72, y, title)
    y -= size * 2.2
    c.setFont("Helvetica", size)
    for line in header:
        c.drawString(72, y, line)
        y -= size * 1.5
    y -= size * 0.5
    c.line(72, y + size, width - 72, y + size)
    c.setFont("Helvetica-Bold", size)
    for label, x in COLUMNS:
        c.drawString(x, y, label)
    y -= size * 1.8
    for panel, rows in panels.items():
        c.setFont("Helvetica-Bold", size)
        c.drawString(72, y, panel)
        y -= size * 1.5
        c.setFont("Helvetica", size)
        for row in rows:
            cells = (row.name, row.value, row.printed_flag, row.unit, row.range_text)
            for (_, x), cell in zip(COLUMNS, cells, strict=True):
                c.drawString(x, y, cell)
            y -= size * 1.5
        y -= size * 0.6
    c.line(72, y + size, width - 72, y + size)
    for line in footer:
        y -= size * 1.5
        c.drawString(72, y, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def lab_report_pdf() -> bytes:
    """A one-page text-layer lab report: CBC, CMP, lipid panel and HbA1c with H/L flags."""
    return _report_pdf(
        "Riverside Clinical Laboratory",
        [
            "Patient: Jane Sample          MRN: 00012345          DOB: 01/02/1970 (F)",
            "Collected: 03/05/2024 08:15    Reported: 03/05/2024 14:40",
            "Ordering provider: Dr. Alex Placeholder, MD      Specimen: Blood, venous",
        ],
        LAB_REPORT_PANELS,
        [
            "H = above reference range, L = below reference range. Fasting specimen.",
            "This report is a fictional sample generated for software testing.",
        ],
        size=10,
    )


def _scan_source_pdf() -> bytes:
    return _report_pdf(
        "Northgate Medical Labs",
        [
            "Patient: John Example     MRN: 00098765     DOB: 07/14/1962 (M)",
            "Collected: 11/20/2023     Reported: 11/21/2023",
            "Ordering provider: Dr. Sam Testcase, DO",
        ],
        SCAN_REPORT_PANELS,
        ["H = high, L = low.", "Fictional sample report for software testing."],
        size=11,
    )


def _noise(size: tuple[int, int], rng: random.Random) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def scan_like(image: Image.Image, seed: int) -> Image.Image:
    """A clean grayscale page made to look scanned: 0.6 degree tilt, slight blur, paper grain, dust specks."""
    rng = random.Random(seed)
    image = image.convert("L").rotate(0.6, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.7))
    # paper grain (blotches of a few pixels, darkening up to 32 levels) and ~1% dark dust specks
    small = (max(image.width // 3, 1), max(image.height // 3, 1))
    grain = _noise(small, rng).point(lambda v: v // 8).resize(image.size, Image.Resampling.BILINEAR)
    image = ImageChops.subtract(image, grain)
    specks = _noise(image.size, rng).point(lambda v: 255 if v < 253 else 0)
    return ImageChops.darker(image, specks.point(lambda v: 255 if v else 60))


def scan_png() -> bytes:
    """The second report printed, then scanned: 300 dpi grayscale, slight tilt, blur, grain and specks."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(_scan_source_pdf())
    try:
        page = pdf[0]
        image = page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("L")
        page.close()
    finally:
        pdf.close()
    image = scan_like(image, SCAN_SEED)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(SCAN_DPI, SCAN_DPI))
    return out.getvalue()


def image_only_pdf(png: bytes, dpi: int = SCAN_DPI) -> bytes:
    """A PDF whose only content is the page image (no text layer), as a scanner writes it."""
    image = Image.open(io.BytesIO(png))
    page_size = (image.width * 72 / dpi, image.height * 72 / dpi)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=page_size, invariant=True)
    c.drawImage(ImageReader(image), 0, 0, width=page_size[0], height=page_size[1])
    c.showPage()
    c.save()
    return buf.getvalue()


def doctor_note() -> str:
    """A primary-care clinic note with negations, medications with doses, allergies and a plan."""
    return """\
CLINIC NOTE - FAMILY MEDICINE
Patient: Jane Sample    MRN: 00012345    Date of visit: 03/12/2024
Provider: Dr. Alex Placeholder, MD (fictional sample for software testing)

CHIEF COMPLAINT:
Follow-up of type 2 diabetes and review of recent lab results.

HISTORY OF PRESENT ILLNESS:
Ms. Sample is a 54-year-old woman with type 2 diabetes mellitus, hypertension and
hyperlipidemia who returns to review labs drawn on 03/05/2024. Her hemoglobin A1c is 7.2%,
up from 6.8% in September. She reports increased fatigue over the past two months and
occasional tingling in both feet. She denies chest pain, shortness of breath, palpitations
or fainting. No polyuria or polydipsia. She denies blurred vision. She has not had any
episodes of low blood sugar. Diet has been irregular since starting a new night-shift job.

PAST MEDICAL HISTORY:
Type 2 diabetes mellitus, diagnosed 2017.
Essential hypertension.
Hyperlipidemia.
Iron deficiency anemia in 2021, treated.

MEDICATIONS:
1. metformin 500 mg PO BID with meals
2. lisinopril 10 mg daily
3. atorvastatin 20 mg PO nightly
4. aspirin 81 mg PO daily

ALLERGIES:
Penicillin (hives). Sulfa drugs (rash).

FAMILY HISTORY:
Mother had breast cancer at age 61. Father had a myocardial infarction at 58.
No family history of colon cancer.

SOCIAL HISTORY:
Never smoker. Drinks alcohol rarely. Walks 20 minutes three times a week.

REVIEW OF SYSTEMS:
Negative for fever, weight loss, cough, abdominal pain and dysuria.

PHYSICAL EXAM:
BP 142/88, HR 78, Temp 98.4 F, Wt 182 lb, BMI 31.2.
Heart regular rate and rhythm, no murmurs. Lungs clear to auscultation.
Feet: decreased monofilament sensation on the left great toe; no ulcers.

ASSESSMENT AND PLAN:
1. Type 2 diabetes mellitus, not at goal (A1c 7.2%). Increase metformin to 1000 mg PO BID.
   Referred to diabetes education for meal planning around shift work.
2. Peripheral neuropathy, likely diabetic. Daily foot checks; podiatry referral.
3. Hypertension, above goal. Increase lisinopril to 20 mg daily. Recheck potassium in one
   week because the last potassium was 5.4 mmol/L.
4. Hyperlipidemia with LDL 155 mg/dL. Increase atorvastatin to 40 mg PO nightly.
5. Mild anemia (hemoglobin 11.2 g/dL). Check iron studies and vitamin B12.
6. Elevated ALT (52 U/L), likely fatty liver. Repeat liver tests in 3 months.

FOLLOW-UP:
Return in 4 weeks for a blood pressure check, sooner if symptoms worsen. Go to the emergency
department for chest pain, trouble breathing, or blood sugar above 400 mg/dL. Repeat A1c and
lipid panel in 3 months.
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python scripts/make_samples.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    scan = scan_png()
    files: dict[str, bytes] = {
        "lab_report.pdf": lab_report_pdf(),
        "lab_report_scan.png": scan,
        "lab_report_scan.pdf": image_only_pdf(scan),
        "doctor_note.txt": doctor_note().encode("utf-8"),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
