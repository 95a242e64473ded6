"""Shared pieces of the web app's browser tests (test_web, test_web_a11y, test_web_signin).

Chromium is Debian's /usr/bin/chromium driven by Playwright for Python (``playwright install`` is never
used). In CI (``CI=true``) a missing Chromium or Playwright fails the tests; elsewhere they are skipped.
axe-core comes from ``node_modules`` (package.json pins it; scripts/setup_tools.sh installs it) and is
evaluated through the DevTools protocol, so the page keeps the server's Content-Security-Policy
(``script-src 'self'``), which would refuse an injected inline ``<script>``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from healthchat.local.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
READY_TIMEOUT_MS = 60_000
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA (axe's tag names)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true: CI must run the browser tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: scripts/setup_tools.sh installs Chromium)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (skips, or fails in CI, when either is missing)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def local_server(
    home: Path, env: Mapping[str, str] | None = None, web_root: Path | None = None
) -> Iterator[LocalServer]:
    """``healthchat serve`` on a free port with its own HEALTHCHAT_HOME (local auth unless ``env`` says)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEALTHCHAT_HOME", str(home))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.delenv("HEALTHCHAT_PUBLIC_URL", raising=False)
        mp.delenv("HEALTHCHAT_AUTH", raising=False)
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        with LocalServer(port=0, web_root=web_root) as running:
            yield running


def web_root_with_config(folder: Path, config: Mapping[str, str]) -> Path:
    """A copy of web/ whose config.json is ``config`` (as a deployment publishes it)."""
    root = folder / "web"
    shutil.copytree(WEB, root, dirs_exist_ok=True)
    (root / "config.json").write_text(json.dumps(dict(config)), encoding="utf-8")
    return root


def lab_report(folder: Path) -> Path:
    """The generated sample lab report PDF (scripts/make_samples.py), written to ``folder``."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_samples import lab_report_pdf
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path = folder / "lab_report.pdf"
    path.write_bytes(lab_report_pdf())
    return path


def new_page(browser: Any, width: int = 1280, height: int = 900) -> tuple[Any, list[str]]:
    """A page in a fresh context, with a list that collects console errors and page errors (CSP included)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def wait_ready(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#result-status")).to_contain_text("ready", timeout=READY_TIMEOUT_MS)


def lab_row(page: Any, name: str) -> Any:
    return page.locator("#labs-body tr").filter(has=page.locator(".lab-name", has_text=name)).first


def upload_and_wait(page: Any, url: str, path: Path) -> None:
    """Open the app, upload ``path`` through the file picker and wait until its results are shown."""
    page.goto(url)
    page.wait_for_selector("#drop-zone")
    page.set_input_files("#file-input", str(path))
    wait_ready(page)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations of impact serious or critical on the page as it is now."""
    if not AXE_JS.is_file():
        unavailable(f"{AXE_JS.relative_to(ROOT)} not found (scripts/setup_tools.sh runs npm ci)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const out = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
            return { violations: out.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
            })) };
        }""",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation: id, impact, what it means and where (for assertion messages)."""
    return "; ".join(f"{v['id']} ({v['impact']}: {v['help']}) at {v['targets']}" for v in violations)
