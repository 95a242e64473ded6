"""The web app in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python).

Upload a generated lab report, wait for SUCCEEDED, check the rendered lab flags and their charts, ask a
question and open its citation; then the same page at phone width (390 px) and with the keyboard only;
and a drag-and-drop upload whose file name and text try to inject markup.

Playwright's own browser download (``playwright install``) is never used: the machine's Chromium is.
In CI (``CI=true``) a missing Chromium fails these tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthchat.local.server import LocalServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
READY_TIMEOUT_MS = 60_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: scripts/setup_tools.sh installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    home = tmp_path_factory.mktemp("web-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHCHAT_HOME", str(home))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.delenv("HEALTHCHAT_PUBLIC_URL", raising=False)
        mp.delenv("HEALTHCHAT_AUTH", raising=False)
        with LocalServer(port=0) as running:
            yield running


@pytest.fixture(scope="module")
def lab_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_samples import lab_report_pdf
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path = tmp_path_factory.mktemp("samples") / "lab_report.pdf"
    path.write_bytes(lab_report_pdf())
    return path


def _new_page(browser: Any, width: int = 1280, height: int = 900) -> tuple[Any, list[str]]:
    """A page in a fresh context, with a list that collects console errors and page errors (CSP included)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _wait_ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#result-status")).to_contain_text("ready", timeout=READY_TIMEOUT_MS)


def _lab_row(page: Any, name: str) -> Any:
    return page.locator("#labs-body tr").filter(has=page.locator(".lab-name", has_text=name)).first


@pytest.fixture(scope="module")
def processed(browser: Any, server: LocalServer, lab_report: Path) -> Iterator[Any]:
    """The page after uploading the lab report through the file picker and waiting for SUCCEEDED."""
    page, errors = _new_page(browser)
    page.goto(server.url)
    page.set_input_files("#file-input", str(lab_report))
    _wait_ready(page)
    yield page, errors
    page.context.close()


def test_upload_shows_lab_flags_and_charts(processed: Any) -> None:
    page, errors = processed
    # THEN the status was announced and the document is listed as ready
    assert "ready" in page.locator("#upload-status").inner_text()
    assert page.locator("#upload-status").get_attribute("aria-live") == "polite"
    listed = page.locator(".doc-button", has_text="lab_report.pdf")
    assert "ready" in listed.inner_text()
    # AND the lab table flags high and low values in words and draws each against its range
    cholesterol = _lab_row(page, "Total Cholesterol")
    assert cholesterol.locator(".lab-flag").inner_text() == "high"
    chart = cholesterol.locator("svg.range-chart")
    assert chart.get_attribute("data-flag") == "high"
    assert "high" in chart.get_attribute("aria-label")
    assert chart.locator("rect.value-bar").count() == 1
    assert _lab_row(page, "Hemoglobin").locator(".lab-flag").inner_text() == "low"
    assert _lab_row(page, "Platelets").locator(".lab-flag").inner_text() == "normal"
    # bar colours differ by flag
    high_fill = chart.locator("rect.value-bar").get_attribute("fill")
    low_fill = _lab_row(page, "Hemoglobin").locator("rect.value-bar").get_attribute("fill")
    assert high_fill and low_fill and high_fill != low_fill
    # AND the summary and the plain-language text (with glossary terms marked) are shown
    assert "Cholesterol" in page.locator("#summary-text").inner_text()
    assert page.locator("#plain-text abbr.term").count() >= 1
    assert errors == []


def test_question_answer_and_citation(processed: Any) -> None:
    page, errors = processed
    # WHEN a question is asked about the document
    page.fill("#qa-input", "Was my cholesterol high?")
    page.click("#qa-submit")
    page.wait_for_selector("#answer-text", timeout=READY_TIMEOUT_MS)
    answer = page.locator("#answer-text").inner_text()
    # THEN the answer speaks to it and cites passages
    assert "cholesterol" in answer.lower()
    citations = page.locator(".citation-button")
    assert citations.count() >= 1
    # WHEN the first citation is opened THEN its passage is shown, marked and focused
    first = citations.first
    first.click()
    assert first.get_attribute("aria-pressed") == "true"
    assert page.locator("#passage").is_visible()
    marked = " ".join(page.locator("#passage-text mark").inner_text().split())
    assert marked and marked[:40] in first.inner_text()
    # AND the lab row read from that passage is highlighted too
    if "Total Cholesterol" in marked:
        assert "cited" in (_lab_row(page, "Total Cholesterol").get_attribute("class") or "")
    assert page.evaluate("document.activeElement.id") == "passage-heading"
    assert errors == []


def test_phone_width_has_no_sideways_scroll(browser: Any, server: LocalServer, processed: Any) -> None:
    # GIVEN the processed report opened on a 390 px wide screen
    page, errors = _new_page(browser, width=390, height=844)
    page.goto(server.url)
    page.locator(".doc-button", has_text="lab_report.pdf").click()
    page.wait_for_selector("#labs-body tr")
    # THEN nothing is wider than the screen and each lab is a card with its flag and chart visible
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = _lab_row(page, "Total Cholesterol")
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert row.locator(".lab-flag").is_visible() and row.locator("svg.range-chart").is_visible()
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert errors == []
    page.context.close()


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_keyboard_only(browser: Any, server: LocalServer, processed: Any) -> None:
    page, errors = _new_page(browser)
    page.goto(server.url)
    page.wait_for_selector(".doc-button")
    # the first Tab reaches the skip link, then the file picker, with a visible focus indicator
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    _tab_to(page, "#file-input")
    _tab_to(page, ".doc-button")
    # Enter opens the document and moves focus to its heading
    page.keyboard.press("Enter")
    page.wait_for_selector("#labs-body tr")
    assert page.evaluate("document.activeElement.id") == "result-heading"
    # a glossary term is reachable; focusing it shows its explanation, Escape hides it
    _tab_to(page, "abbr.term")
    tip_display = "document.activeElement.parentElement.querySelector('.tip').checkVisibility()"
    assert page.evaluate(tip_display) is True
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Escape")
    assert page.evaluate(tip_display) is False
    # the question box works from the keyboard, and so does opening a citation
    _tab_to(page, "#qa-input")
    page.keyboard.type("What does eGFR mean?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#answer-text", timeout=READY_TIMEOUT_MS)
    _tab_to(page, ".citation-button")
    page.keyboard.press("Enter")
    assert page.locator("#passage").is_visible()
    assert errors == []
    page.context.close()


def test_drag_and_drop_upload_escapes_document_text(browser: Any, server: LocalServer) -> None:
    page, errors = _new_page(browser)
    page.goto(server.url)
    page.wait_for_selector("#drop-zone")
    # WHEN a note whose name and text hold markup is dropped on the drop zone
    name = "<img src=x onerror=window.__pwned=1>.txt"
    text = "Assessment: hypertension <script>window.__pwned=1</script>. Plan: lisinopril 10 mg daily."
    page.evaluate(
        """([name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, { type: "text/plain" }));
            const zone = document.getElementById("drop-zone");
            const drop = new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
            zone.dispatchEvent(drop);
        }""",
        [name, text],
    )
    _wait_ready(page)
    # THEN the name is shown as text, no markup from the document ran or was inserted
    assert page.locator(".doc-button", has_text=name).count() == 1
    assert name in page.locator("#result-heading").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    assert errors == []
    page.context.close()
