"""The web app passes axe-core's WCAG 2.1 A/AA rules in real headless Chromium.

axe-core (pinned in package.json) checks contrast, names, labels, landmarks and ARIA use on the rendered
DOM, which no static check of web/ can do: the results view is built by app.js from a processed document.
Checked: the empty start view, the results view of a processed lab report (with an answer, its citations
and the opened passage), a glossary tooltip, and the same results at phone width (390 px). A violation
of impact serious or critical fails the test and is named in the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_support import (
    READY_TIMEOUT_MS,
    axe_violations,
    describe,
    lab_report,
    local_server,
    new_page,
    upload_and_wait,
)

from healthchat.local.server import LocalServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with local_server(tmp_path_factory.mktemp("a11y-home")) as running:
        yield running


def test_the_empty_start_view_has_no_serious_violations(browser: Any, server: LocalServer) -> None:
    # GIVEN the app before any upload (run first: the server's store is still empty)
    page, errors = new_page(browser)
    page.goto(server.url)
    page.wait_for_selector("#drop-zone")
    page.wait_for_function("document.getElementById('documents-empty').checkVisibility()")
    assert page.locator(".doc-button").count() == 0
    # THEN axe finds nothing serious
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert errors == []
    page.context.close()


@pytest.fixture(scope="module")
def results_page(
    browser: Any, server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The results of the lab report with an answer shown and its first citation opened."""
    page, errors = new_page(browser)
    upload_and_wait(page, server.url, lab_report(tmp_path_factory.mktemp("a11y-samples")))
    page.fill("#qa-input", "Was my cholesterol high?")
    page.click("#qa-submit")
    page.wait_for_selector(".citation-button", timeout=READY_TIMEOUT_MS)
    page.locator(".citation-button").first.click()
    page.wait_for_selector("#passage:not([hidden])")
    yield page, errors
    page.context.close()


def test_the_results_view_has_no_serious_violations(results_page: Any) -> None:
    page, errors = results_page
    # GIVEN labs, medications, conditions, an answer with citations and an opened passage on screen
    assert page.locator("#labs-body tr").count() >= 3
    assert page.locator("#answer-text").is_visible() and page.locator("#passage").is_visible()
    # THEN axe finds nothing serious
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    # AND with a glossary tooltip open (keyboard focus on a term), neither
    page.locator("#plain-text abbr.term").first.focus()
    assert page.locator("#plain-text .tip").first.is_visible()
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert errors == []


def test_the_results_at_phone_width_have_no_serious_violations(
    browser: Any, server: LocalServer, results_page: Any
) -> None:
    # GIVEN the processed report opened on a 390 px wide screen (lab rows drawn as cards)
    page, errors = new_page(browser, width=390, height=844)
    page.goto(server.url)
    page.locator(".doc-button", has_text="lab_report.pdf").click()
    page.wait_for_selector("#labs-body tr")
    # THEN axe finds nothing serious
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert errors == []
    page.context.close()
