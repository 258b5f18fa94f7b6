"""Installable, in a real browser: Chromium finds nothing that stops installing, the service worker
takes over, and without a network pages become the offline page while static files come from its cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, BrowserType, Page, Response, expect

from tests.browser.conftest import BROWSER, serious_accessibility_violations
from tests.factories import UserFactory

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
# The worker takes over once it has cached the static files, which on a busy machine (the suite
# beside PostgreSQL and other runs) has taken over the default 30 s.
TAKEOVER_MS = 120_000
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


def _log_in(page: Page, url: str) -> None:
    user = UserFactory(username="erin")
    user.set_password(PASSWORD)
    user.save()
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, erin")).to_be_visible()


def test_chromium_finds_the_app_installable(
    live_server: Any, browser_type: BrowserType, browser_type_launch_args: dict[str, Any], tmp_path: Path
) -> None:
    # A profile on disk: Chromium never offers to install from an incognito context, Playwright's default.
    context = browser_type.launch_persistent_context(tmp_path / "profile", **browser_type_launch_args)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.wait_for_function(CONTROLLED, timeout=TAKEOVER_MS)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getAppManifest")["errors"] == []
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()


def test_offline_a_page_is_the_offline_page_with_cached_styles(
    live_server: Any,
    page: Page,
    context: BrowserContext,
    console_errors: list[str],
) -> None:
    _log_in(page, live_server.url)
    page.wait_for_function(CONTROLLED, timeout=TAKEOVER_MS)
    page.goto(f"{live_server.url}/sessions/")  # once more, through the worker, which caches its files
    cached = page.evaluate(CACHED_URLS)
    assert "/offline/" in cached
    assert all(url == "/offline/" or url.startswith("/static/") for url in cached), cached

    page.goto(f"{live_server.url}/sessions/new/")
    page.fill("#id_subject", "Linear algebra")
    context.set_offline(True)
    static_responses: list[Response] = []
    page.on("response", lambda r: static_responses.append(r) if "/static/" in r.url else None)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_text("Nothing you typed is lost")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.brand')).color") == "rgb(47, 111, 94)"
    assert static_responses and all(r.ok and r.from_service_worker for r in static_responses)
    assert serious_accessibility_violations(page) == []

    page.get_by_role("button", name="Go back").click()
    expect(page.locator("#id_subject")).to_have_value("Linear algebra")
    assert page.evaluate(
        "async () => (await fetch(document.querySelector('script[data-service-worker]').src)).ok"
    ), "a static file the page loaded before comes from the cache"

    page.goto(f"{live_server.url}/study/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    assert page.url == f"{live_server.url}/study/"  # so "Try again" asks for that page again

    context.set_offline(False)
    page.goto(f"{live_server.url}/study/")
    expect(page.get_by_role("heading", name="You are offline")).to_have_count(0)
    assert console_errors == []


def test_a_page_loaded_past_the_worker_asks_it_to_take_over(live_server: Any, page: Page) -> None:
    # A hard reload bypasses the worker, as does a page that was still loading when the worker
    # first claimed its pages: the page is left uncontrolled until it asks the worker itself.
    _log_in(page, live_server.url)
    page.wait_for_function(CONTROLLED, timeout=TAKEOVER_MS)
    cdp = page.context.new_cdp_session(page)
    with page.expect_event("load"):
        cdp.send("Page.reload", {"ignoreCache": True})
    page.wait_for_function(CONTROLLED, timeout=30_000)
