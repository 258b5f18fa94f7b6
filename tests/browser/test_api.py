"""The REST API in a real browser: a learner makes a token in settings, sees it once, a script
logs a session with it, the Swagger UI documents the API under the site's CSP, and the revoked
token stops working."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from learners.models import StudySession
from tests.browser.conftest import BROWSER, SIZES, screenshots, serious_accessibility_violations
from tests.factories import LearnerFactory, UserFactory

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"


def test_make_a_token_log_a_session_with_it_read_the_docs_and_revoke_it(
    live_server: Any, page: Page, console_errors: list[str]
) -> None:
    url = live_server.url
    learner = LearnerFactory(user=UserFactory(username="gus", password=PASSWORD))
    page.goto(f"{url}{reverse('login')}")
    page.fill("#id_username", "gus")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, gus")).to_be_visible()

    page.goto(f"{url}{reverse('account-settings')}")
    page.fill("#api_token_name", "Anki sync")
    page.select_option("#api_token_scope", "write")
    page.click("#api-token-make")
    secret = page.locator("#api-token-secret").input_value()
    assert secret.startswith("mc_")
    expect(page.locator(".api-tokens")).to_contain_text("Anki sync")
    expect(page.locator(".api-tokens")).to_contain_text("never used")
    assert serious_accessibility_violations(page) == []
    screenshots(page, "settings-api-tokens")
    page.set_viewport_size(SIZES["phone"])
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    # A script of the learner's, with the token and no cookie.
    script = page.context.request
    headers = {"Authorization": f"Bearer {secret}"}
    body = {
        "subject": "Biology",
        "task_kind": "memorise",
        "strategy": "practice-testing",
        "started_at": timezone.now().isoformat(),
        "minutes": 25,
        "difficulty": 3,
        "confidence": 60,
        "score": 70,
        "focus": 4,
    }
    page.context.clear_cookies()
    created = script.post(f"{url}/api/v1/sessions/", data=body, headers=headers)
    assert created.status == 201, created.text()
    assert StudySession.objects.get(learner=learner).subject == "Biology"

    # Offline, under a public host name, as an install serves it: the site's requests are answered
    # by the test server, and anything asked of another host is refused and recorded.
    site = "https://coach.example.org"
    elsewhere: list[str] = []

    def this_site_only(route: Route) -> None:
        asked = route.request.url
        if asked.startswith(site):
            route.fulfill(response=route.fetch(url=url + asked.removeprefix(site)))
        else:
            elsewhere.append(asked)
            route.abort()

    page.route("**/*", this_site_only)
    page.goto(f"{site}/api/v1/docs/")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Metacoach API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.get_by_text("/api/v1/sessions/", exact=True).first.wait_for()
    screenshots(page, "api-docs")
    assert elsewhere == [], f"the docs page asked another host for {elsewhere}"
    page.unroute("**/*")

    # The token is shown once only: back in settings it is gone, and revoking it stops it.
    page.goto(f"{url}{reverse('login')}")
    page.fill("#id_username", "gus")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{url}{reverse('account-settings')}")
    expect(page.locator("#api-token-secret")).to_have_count(0)
    expect(page.locator(".api-tokens")).to_contain_text("last used")
    page.get_by_role("button", name="Revoke Anki sync").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    page.context.clear_cookies()
    assert script.get(f"{url}/api/v1/sessions/", headers=headers).status == 401
    assert console_errors == []
