"""Playwright on Debian's Chromium against pytest-django's live server, with a real Celery worker.

Every browser test module sets `pytestmark = BROWSER`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.worker import celery_worker, wait_for

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


BROWSER = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _missing(what: str) -> None:
    # CI sets METACOACH_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
    if os.environ.get("METACOACH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what}, and METACOACH_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(what)


@pytest.fixture(scope="session")
def base_url() -> None:
    """Pages are opened at the live server's own URL. Defined here, it also replaces the stand-in
    pytest-playwright defines as a method, which pytest deprecates."""
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        _missing("Browser tests skipped: Debian's chromium is not installed (make test installs it as root)")
    return str(path)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], chromium_path: str) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": CHROMIUM_ARGS}


# Every Content Security Policy violation, reported or not by the console, becomes a console error.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors, uncaught exceptions and CSP violations of the page; a test asserts the list
    stays empty."""
    errors: list[str] = []
    page.add_init_script(CSP_LISTENER)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.fixture
def worker(live_server: Any, tmp_path: Path) -> Iterator[Path]:
    """A real `celery worker` process on the test database; yields its log file."""
    log = tmp_path / "worker.log"
    with celery_worker(log):
        yield log


def printed_link(worker_log: Path, pattern: str, seen: int = 0) -> str:
    """The newest link (the pattern's group) in the mail the worker's console backend printed,
    once more than `seen` such links are there."""
    found = re.compile(pattern)
    wait_for(lambda: len(found.findall(worker_log.read_text())) > seen, timeout=30)
    links = found.findall(worker_log.read_text())
    assert len(links) > seen, worker_log.read_text()[-2000:]
    return str(links[-1])


def screenshots(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at desktop and phone widths under var/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    paths = []
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        draw_charts(page)
        _settle(page)
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths


def draw_charts(page: Page) -> None:
    """Charts draw as they come near the screen: bring each there, wait for its figure, go back up."""
    charts = page.locator(".plotly-chart")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(state="attached", timeout=15000)
    page.evaluate("() => window.scrollTo(0, 0)")


def _settle(page: Page) -> None:
    """Wait for plotly's responsive charts to follow a resize, so a screenshot shows the page as it
    would load at that width rather than the previous width's figures overflowing."""
    fits = "() => document.documentElement.scrollWidth <= window.innerWidth"
    # A page that really overflows is photographed as it is.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(fits, timeout=3000)
    page.wait_for_timeout(200)


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the current page, one line each."""
    if not AXE.exists():
        _missing("Accessibility check skipped: axe-core is not installed (make test runs npm ci)")
    # Evaluated rather than added as a <script> tag, which the page's CSP refuses as inline.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
