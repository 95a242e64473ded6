"""Seeded generator of varied, realistic lab reports (fictional patients) and their gold lab tuples.

    python benchmarks/content/lab_reports.py OUTDIR SEED [SEED ...]

writes ``lab_<seed>.pdf`` (text layer), ``lab_<seed>.png`` (the page "scanned" at 300 dpi) and
``lab_<seed>.txt`` (the gold rows) for a look. Each seed picks a unit system (US or SI), panels, a
column layout (Test / Result / Flag / Units / Reference Range in varying order, merged "7.2 H", units
inside the range cell, cumulative current/previous columns), range notations, fonts, spacing, header and
footer noise, and low/normal/high values. Some rows print no range; their gold flag comes from the
generator's own typical-range table (lab_catalog.py), so the benchmark checks the shipped one.

Hand-written because no library produces lab-report layouts with gold; reportlab draws the PDF (as
scripts/make_samples.py does) and make_samples.scan_like makes the scan, so both share one look.
"""

from __future__ import annotations

import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from lab_catalog import PANELS, TESTS, Range, TestSpec, UnitSpec
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[2]
SCAN_DPI = 300
LAYOUTS = ("standard", "flag_last", "merged", "range_first", "no_flag", "unit_in_range", "cumulative")
FONTS = (("Helvetica", "Helvetica-Bold"), ("Courier", "Courier-Bold"), ("Times-Roman", "Times-Bold"))
MIN_ROWS, MAX_ROWS = 10, 30


@dataclass(frozen=True)
class GoldRow:
    """One printed lab row and what a reader should get from it. ``name`` is the lab_tests.json name
    (the printed name for tests it lacks); ``range_text`` is the printed range without its unit (None:
    no range printed, then ``flag`` comes from the typical table); ``flag`` is low|normal|high|abnormal."""

    name: str
    printed_name: str
    value: str
    unit: str | None
    range_text: str | None
    flag: str
    printed_flag: str
    prior: str = ""  # cumulative layout: the previous result cell, e.g. "6.8 H"


@dataclass(frozen=True)
class LabReport:
    seed: int
    system: str  # "US" | "SI"
    layout: str
    font: tuple[str, str]
    size: float
    gap: float  # points between columns
    title: str
    header: tuple[str, ...]
    columns: tuple[str, ...]
    panels: tuple[tuple[str, tuple[GoldRow, ...]], ...]
    footer: tuple[str, ...]

    @property
    def rows(self) -> list[GoldRow]:
        return [row for _, rows in self.panels for row in rows]


# --- values and flags -------------------------------------------------------------------------------


def flag_of(x: float, rng: Range) -> str:
    """low/normal/high of a number against a numeric range, by the printed bound's inclusiveness."""
    if rng.lo is not None and (x < float(rng.lo) or (x == float(rng.lo) and not rng.lo_incl)):
        return "low"
    if rng.hi is not None and (x > float(rng.hi) or (x == float(rng.hi) and not rng.hi_incl)):
        return "high"
    return "normal"


def _draw(r: random.Random, rng: Range, status: str, typical: bool) -> float:
    """A number of the wanted status, off the range by a realistic amount (a fraction of its width);
    for a typical (unprinted) range, well clear of its bounds, so a table whose limits differ a little
    from ours still agrees on the flag."""
    lo = float(rng.lo) if rng.lo is not None else None
    hi = float(rng.hi) if rng.hi is not None else None
    u, v = (r.uniform(0.3, 0.6), r.uniform(0.08, 0.15)) if typical else (r.uniform(0.02, 0.4), 0.0)
    if lo is not None and hi is not None:
        w = hi - lo
        if status == "low":
            return max(lo - max(u * w, v * lo), lo * 0.2)
        if status == "high":
            return hi + max(u * w, v * hi)
        inner = 0.3 * w if typical else 0.0
        return r.uniform(lo + inner, hi - inner)
    if hi is not None:
        if status == "high":
            return hi * (1 + max(u, v) + (0.1 if typical else 0.0))
        return r.uniform(hi * 0.45, hi * (0.85 if typical else 1.0))
    assert lo is not None
    if status == "low":
        return lo * (1 - max(u, v) * (1.0 if typical else 0.8))
    return r.uniform(lo * (1.2 if typical else 1.0), lo * 1.9)


def _status(r: random.Random, test: TestSpec, rng: Range) -> str:
    status = r.choices(("low", "normal", "high"), (0.2, 0.6, 0.2))[0]
    if status == "low" and (not test.low_ok or rng.lo is None or float(rng.lo) <= 0):
        return "normal"
    return "normal" if status == "high" and rng.hi is None else status


def _value(r: random.Random, test: TestSpec, spec: UnitSpec, rng: Range, typical: bool) -> tuple[str, str]:
    """(printed value, gold flag)."""
    if test.qualitative:
        if r.random() < 0.7:
            return "Negative", "normal"
        return r.choice(("Trace", "Positive")), "abnormal"
    status = _status(r, test, rng)
    if not typical and status == "normal" and r.random() < 0.2:
        if test.key == "egfr":
            return ">90", "normal"
        if test.key == "psa":
            return "<0.10", "normal"
    x = round(_draw(r, rng, status, typical), spec.decimals)
    flag = flag_of(x, rng)
    if typical:
        assert flag == status, (test.key, x, rng)  # clear of the bounds by construction
    return f"{x:.{spec.decimals}f}", flag


# --- printed notation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    dash: str  # two-sided separator
    op_space: str  # between "<"/">=" and the number
    flags: dict[str, str]  # gold flag -> printed flag


def range_text(rng: Range, style: Style) -> str:
    if rng.qual is not None:
        return rng.qual
    if rng.lo is not None and rng.hi is not None:
        return f"{rng.lo}{style.dash}{rng.hi}"
    if rng.hi is not None:
        return f"{'<=' if rng.hi_incl else '<'}{style.op_space}{rng.hi}"
    return f"{'>=' if rng.lo_incl else '>'}{style.op_space}{rng.lo}"


def _style(r: random.Random) -> Style:
    letters = r.random() < 0.8
    flags = {"low": "L" if letters else "Low", "high": "H" if letters else "High", "normal": ""}
    flags["abnormal"] = "A" if r.random() < 0.6 else ""
    return Style(r.choice(("-", "-", " - ", " to ")), r.choice(("", " ")), flags)


def _row(
    r: random.Random, test: TestSpec, spec: UnitSpec, style: Style, no_range: bool, unit: str | None
) -> GoldRow:
    printed_name = r.choice(test.names)
    name = test.canonical or printed_name
    # only tests lab_tests.json knows can get a typical range; a report may then print none
    if no_range and spec.typical is not None and test.canonical and not test.qualitative:
        value, flag = _value(r, test, spec, spec.typical, typical=True)
        prior, _ = _value(r, test, spec, spec.typical, typical=True)
        return GoldRow(name, printed_name, value, unit, None, flag, "", prior)
    rng = r.choice(spec.ranges)
    value, flag = _value(r, test, spec, rng, typical=False)
    prior_value, prior_flag = _value(r, test, spec, rng, typical=False)
    prior = f"{prior_value} {style.flags[prior_flag]}".strip()
    return GoldRow(name, printed_name, value, unit, range_text(rng, style), flag, style.flags[flag], prior)


def _panels(r: random.Random) -> tuple[list[str], int]:
    """Panel keys: the picked ones in print order (at most one chemistry panel and 2-4 others), then
    spares; and how many were picked."""
    chem = r.choice(("cmp", "bmp", "bmp", None))
    others = [k for k in PANELS if k not in ("cmp", "bmp")]
    r.shuffle(others)
    picked = others[: r.randint(2, 4)] + ([chem] if chem else [])
    return [k for k in PANELS if k in picked] + [k for k in others if k not in picked], len(picked)


def _build_panels(r: random.Random, system: str, style: Style) -> list[tuple[str, tuple[GoldRow, ...]]]:
    """Rows of the picked panels; spare panels are added until the page holds at least MIN_ROWS."""
    sparse = r.random() < 0.4
    out: list[tuple[str, tuple[GoldRow, ...]]] = []
    keys, n_picked = _panels(r)
    total = 0
    for n, key in enumerate(keys):
        if n >= n_picked and total >= MIN_ROWS:
            break
        titles, test_keys = PANELS[key]
        rows = []
        for test_key in test_keys:
            test = TESTS[test_key]
            spec = test.us if system == "US" else test.si
            if spec is not None:
                rows.append(_row(r, test, spec, style, sparse and r.random() < 0.3, r.choice(spec.units)))
        if total + len(rows) <= MAX_ROWS:
            total += len(rows)
            out.append((r.choice(titles), tuple(rows)))
    return out


# --- header and footer noise (all fictional) --------------------------------------------------------

_LABS = ("Riverside Clinical Laboratory", "Northgate Medical Labs", "Lakeview Pathology Services",
         "St. Placeholder Hospital - Clinical Biochemistry", "Summit Diagnostics, Inc.")  # fmt: skip
_FIRST = ("Jane", "John", "Maria", "Ahmed", "Li", "Olga", "Samuel", "Priya", "Tomas", "Grace")
_LAST = ("Sample", "Example", "Testcase", "Placeholder", "Specimen", "Doe", "Fictional", "Mock")


def _date(r: random.Random, year: tuple[int, int]) -> str:
    return f"{r.randint(1, 12):02d}/{r.randint(1, 27):02d}/{r.randint(*year)}"


def _next_day(date: str) -> str:
    month, day, year = date.split("/")
    return f"{month}/{int(day) + 1:02d}/{year}"


def _noise(r: random.Random) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    name = f"{r.choice(_FIRST)} {r.choice(_LAST)}"
    mrn = "".join(r.choice("0123456789") for _ in range(8))
    collected = _date(r, (2023, 2025))
    header = [
        f"{r.randint(10, 9999)} {r.choice(('Main St', 'Oak Avenue', 'Harbor Road'))}, "
        f"Suite {r.randint(1, 400)}",
        f"Patient: {name}     DOB: {_date(r, (1940, 2004))}     Sex: {r.choice('FM')}     MRN: {mrn}",
        f"Collected: {collected} {r.randint(6, 11):02d}:{r.randint(0, 59):02d}     "
        f"Reported: {_next_day(collected)}",
        f"Ordering provider: Dr. {r.choice(_FIRST)} {r.choice(_LAST)}",
    ]
    if r.random() < 0.5:
        header.append(f"Specimen: {r.choice(('Serum', 'Blood, venous', 'Plasma'))}     Fasting: Yes")
    footer = [
        "H = above reference range, L = below reference range.",
        "This report is fictional, generated for software testing.",
    ]
    if r.random() < 0.5:
        footer.insert(0, "eGFR calculated with the CKD-EPI 2021 equation.")
    footer.append(f"Page 1 of 1     CLIA #{r.randint(10, 99)}D{r.randint(1000000, 9999999)}")
    return r.choice(_LABS), tuple(header[: r.randint(2, len(header))]), tuple(footer)


# --- layout ------------------------------------------------------------------------------------------


def _columns(r: random.Random, layout: str) -> tuple[str, ...]:
    test = r.choice(("Test", "Test Name", "Analyte", "Component"))
    result = r.choice(("Result", "Value", "Your Value"))
    flag = r.choice(("Flag", "Abn"))
    unit = r.choice(("Units", "Unit"))
    ref = r.choice(("Reference Range", "Ref Range", "Normal Range", "Reference Interval"))
    return {
        "standard": (test, result, flag, unit, ref),
        "flag_last": (test, result, unit, ref, flag),
        "merged": (test, f"{result}  {flag}", unit, ref),
        "range_first": (test, result, flag, ref, unit),
        "no_flag": (test, result, unit, ref),
        "unit_in_range": (test, result, flag, ref),
        "cumulative": (test, *r.choice((("Current", "Previous"), ("Latest", "Prior"))), unit, ref),
    }[layout]


def cells(report: LabReport, row: GoldRow) -> tuple[str, ...]:
    """The printed cells of a row, in column order."""
    value, flag, unit, rng = row.value, row.printed_flag, row.unit or "", row.range_text or ""
    merged = f"{value} {flag}".strip()
    in_range = f"{rng} {unit}".strip() if rng else ""
    return {
        "standard": (row.printed_name, value, flag, unit, rng),
        "flag_last": (row.printed_name, value, unit, rng, flag),
        "merged": (row.printed_name, merged, unit, rng),
        "range_first": (row.printed_name, value, flag, rng, unit),
        "no_flag": (row.printed_name, value, unit, rng),
        "unit_in_range": (row.printed_name, value, flag, in_range if rng else unit),
        "cumulative": (row.printed_name, merged, row.prior, unit, rng),
    }[report.layout]


def generate(seed: int) -> LabReport:
    """The report of ``seed``: same seed, same report."""
    r = random.Random(seed)
    # consecutive seeds cycle through unit systems and layouts, so any 14 seeds cover every pairing
    system = ("US", "SI")[seed % 2]
    layout = LAYOUTS[seed % len(LAYOUTS)]
    style = _style(r)
    if layout == "no_flag":
        style = Style(style.dash, style.op_space, dict.fromkeys(style.flags, ""))
    font = r.choice(FONTS)
    size = r.choice((8.5, 9.0, 9.5, 10.0))
    gap = r.uniform(1.6, 3.5) * size
    title, header, footer = _noise(r)
    panels = _build_panels(r, system, style)
    return LabReport(seed, system, layout, font, size, gap, title, header, _columns(r, layout),
                     tuple(panels), footer)  # fmt: skip


def _column_x(report: LabReport, left: float, right: float) -> tuple[list[float], float]:
    """Column positions and font size: each column starts a gap after the widest cell before it."""
    size = report.size
    table = [report.columns, *(cells(report, row) for row in report.rows)]
    while True:
        xs, x, gap = [], left, report.gap * size / report.size
        for col in range(len(report.columns)):
            xs.append(x)
            x += gap + max(stringWidth(row[col], report.font[i == 0], size) for i, row in enumerate(table))
        if x - gap <= right or size <= 6:
            return xs, size
        size -= 0.5


def render_pdf(report: LabReport) -> bytes:
    """A one-page text-layer PDF (reportlab, invariant: byte-identical per seed)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=True)
    c.setTitle("Laboratory report (fictional patient)")
    width, height = letter
    left, right = 54.0, width - 54.0
    xs, size = _column_x(report, left, right)
    regular, bold = report.font
    y = height - 60
    c.setFont(bold, size + 4)
    c.drawString(left, y, report.title)
    y -= size * 2.0
    c.setFont(regular, size)
    for line in report.header:
        c.drawString(left, y, line)
        y -= size * 1.5
    c.line(left, y + size * 0.6, right, y + size * 0.6)
    y -= size * 0.8
    c.setFont(bold, size)
    for x, label in zip(xs, report.columns, strict=True):
        c.drawString(x, y, label)
    y -= size * 1.8
    for title, rows in report.panels:
        c.setFont(bold, size)
        c.drawString(left, y, title)
        y -= size * 1.5
        c.setFont(regular, size)
        for row in rows:
            for x, cell in zip(xs, cells(report, row), strict=True):
                c.drawString(x, y, cell)
            y -= size * 1.5
        y -= size * 0.6
    c.line(left, y + size, right, y + size)
    for line in report.footer:
        y -= size * 1.5
        c.drawString(left, y, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def render_scan_png(report: LabReport, pdf: bytes | None = None) -> bytes:
    """The page printed and scanned: 300 dpi grayscale with make_samples.scan_like's tilt, blur, grain."""
    import pypdfium2 as pdfium

    sys.path.insert(0, str(ROOT / "scripts"))
    from make_samples import scan_like

    doc = pdfium.PdfDocument(pdf or render_pdf(report))
    try:
        page = doc[0]
        image = page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("L")
        page.close()
    finally:
        doc.close()
    out = io.BytesIO()
    scan_like(image, report.seed).save(out, format="PNG", dpi=(SCAN_DPI, SCAN_DPI))
    return out.getvalue()


def gold_lines(report: LabReport) -> list[str]:
    head = (
        f"seed {report.seed}: {report.system} units, layout {report.layout}, {report.font[0]} {report.size}"
    )
    return [head, *(f"  {row}" for row in report.rows)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python benchmarks/content/lab_reports.py OUTDIR SEED [SEED ...]", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    for seed in map(int, args[1:]):
        report = generate(seed)
        pdf = render_pdf(report)
        (out / f"lab_{seed}.pdf").write_bytes(pdf)
        (out / f"lab_{seed}.png").write_bytes(render_scan_png(report, pdf))
        (out / f"lab_{seed}.txt").write_text("\n".join(gold_lines(report)) + "\n", encoding="utf-8")
        print(f"wrote {out}/lab_{seed}.pdf, .png, .txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
