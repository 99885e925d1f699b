"""Browser tests: Playwright driving Debian's Chromium against the live test server.

The server (`live_server_url`) serves every host on one port; Chromium resolves
`*.localhost` to 127.0.0.1, so `http://alpha.localhost:<port>/` is alpha's
dashboard. Data is committed (`committed_db`), so each test removes what it
added when it ends.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
            "(.ci/run does) or point VIGIL_CHROMIUM at a Chromium binary."
        )
    # Playwright's sync API runs an event loop in this thread; the test still reads the
    # database between browser steps (to compare pages with selectors), which Django
    # refuses in a thread with a running loop unless told that this is intended.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield instance
        finally:
            instance.close()


# Reports every Content-Security-Policy violation of every page (and frame) to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__vigilCspViolation(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    violations: list[str] = []

    def report_violation(text: str) -> None:
        violations.append(text)

    context.expose_function("__vigilCspViolation", report_violation)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.vigil_csp_violations = violations  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def csp_console_message(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text:
            violations.append(msg.text)

    page.on("console", csp_console_message)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


def host_url(live_server_url: str, host: str) -> str:
    """The live server's URL under another host name (alpha.localhost, localhost)."""
    port = urlsplit(live_server_url).port
    return f"http://{host}:{port}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top
    page.screenshot(path=str(path), full_page=True)
    return path
