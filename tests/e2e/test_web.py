"""The web app in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright for Python).

Upload a generated lab report, wait for SUCCEEDED, check the rendered lab flags and their charts, ask a
question and open its citation; then the same page at phone width (390 px) and with the keyboard only;
and a drag-and-drop upload whose file name and text try to inject markup.

Playwright's own browser download (``playwright install``) is never used: the machine's Chromium is.
In CI (``CI=true``) a missing Chromium fails these tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_support import (
    READY_TIMEOUT_MS,
    lab_report,
    lab_row,
    local_server,
    new_page,
    upload_and_wait,
    wait_ready,
)

from healthchat.local.server import LocalServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with local_server(tmp_path_factory.mktemp("web-home")) as running:
        yield running


@pytest.fixture(scope="module")
def processed(browser: Any, server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The page after uploading the lab report through the file picker and waiting for SUCCEEDED."""
    page, errors = new_page(browser)
    upload_and_wait(page, server.url, lab_report(tmp_path_factory.mktemp("samples")))
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
    cholesterol = lab_row(page, "Total Cholesterol")
    assert cholesterol.locator(".lab-flag").inner_text() == "high"
    chart = cholesterol.locator("svg.range-chart")
    assert chart.get_attribute("data-flag") == "high"
    assert "high" in chart.get_attribute("aria-label")
    assert chart.locator("rect.value-bar").count() == 1
    assert lab_row(page, "Hemoglobin").locator(".lab-flag").inner_text() == "low"
    assert lab_row(page, "Platelets").locator(".lab-flag").inner_text() == "normal"
    # bar colours differ by flag
    high_fill = chart.locator("rect.value-bar").get_attribute("fill")
    low_fill = lab_row(page, "Hemoglobin").locator("rect.value-bar").get_attribute("fill")
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
        assert "cited" in (lab_row(page, "Total Cholesterol").get_attribute("class") or "")
    assert page.evaluate("document.activeElement.id") == "passage-heading"
    assert errors == []


def test_http_and_https_sources_are_linked_and_other_schemes_are_not(processed: Any) -> None:
    page, errors = processed
    # GIVEN an answer citing NIH pages by http and https, and a source with another scheme
    sources = [
        "http://www.nlm.nih.gov/medlineplus/ency/article/000000.htm",
        "https://www.nhlbi.nih.gov/health-topics/high-blood-cholesterol",
        "javascript:window.__pwned=1",
    ]
    answer = {
        "answer": "High cholesterol means too much of a fatty substance in the blood.",
        "citations": [
            {
                "text": f"Passage {i}",
                "begin_offset": 0,
                "end_offset": 9,
                "source": "knowledge_base",
                "source_url": url,
                "title": f"Source {i}",
            }
            for i, url in enumerate(sources)
        ],
        "grounded": True,
        "kind": "general",
    }
    page.route("**/questions", lambda route: route.fulfill(status=200, json=answer))
    try:
        # WHEN the answer is shown
        page.fill("#qa-input", "What is high cholesterol?")
        page.click("#qa-submit")
        page.wait_for_selector(".citations li", timeout=READY_TIMEOUT_MS)
        # THEN both NIH pages are links that open apart from the app, and the other scheme is not linked
        links = page.locator(".citations a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == sources[:2]
        for i in range(links.count()):
            assert links.nth(i).get_attribute("target") == "_blank"
            assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
    finally:
        page.unroute("**/questions")
    assert errors == []


def test_phone_width_has_no_sideways_scroll(browser: Any, server: LocalServer, processed: Any) -> None:
    # GIVEN the processed report opened on a 390 px wide screen
    page, errors = new_page(browser, width=390, height=844)
    page.goto(server.url)
    page.locator(".doc-button", has_text="lab_report.pdf").click()
    page.wait_for_selector("#labs-body tr")
    # THEN nothing is wider than the screen and each lab is a card with its flag and chart visible
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = lab_row(page, "Total Cholesterol")
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
    page, errors = new_page(browser)
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
    page, errors = new_page(browser)
    # (opened at localhost, not the 127.0.0.1 of server.url: the upload must go to the page's own origin)
    page.goto(server.url.replace("127.0.0.1", "localhost"))
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
    wait_ready(page)
    # THEN the name is shown as text, no markup from the document ran or was inserted
    assert page.locator(".doc-button", has_text=name).count() == 1
    assert name in page.locator("#result-heading").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    assert errors == []
    page.context.close()
