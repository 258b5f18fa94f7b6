"""A new learner, in a real browser: sign up, log a session, see the worker's recommendation."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from learners.models import Recommendation
from tests.browser.conftest import BROWSER, screenshots, serious_accessibility_violations

pytestmark = BROWSER


def test_new_learner_logs_a_session_and_gets_a_recommendation(
    live_server,
    page: Page,
    worker: Path,
    console_errors: list[str],  # type: ignore[no-untyped-def]
) -> None:
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_username", "erin")
    page.fill("#id_password1", "a-long-unusual-passphrase-42")
    page.fill("#id_password2", "a-long-unusual-passphrase-42")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, erin")).to_be_visible()

    page.goto(f"{live_server.url}/sessions/new/")
    page.fill("#id_subject", "Linear algebra")
    page.select_option("#id_task_kind", "solve")
    page.select_option("#id_strategy", label="Practice testing (high)")
    page.fill("#id_minutes", "0")
    page.fill("#id_difficulty", "3")
    page.fill("#id_confidence", "70")
    page.fill("#id_score", "64")
    page.fill("#id_focus", "4")
    page.click("main button[type=submit]")
    expect(page.locator("#id_minutes_error")).to_contain_text("greater than or equal to 1")
    expect(page.locator("#id_subject")).to_have_value("Linear algebra")
    screenshots(page, "session-form-error")

    page.fill("#id_minutes", "45")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Session saved.")).to_be_visible()

    page.goto(f"{live_server.url}/")
    # The dashboard polls until the worker has written the recommendation, then reloads.
    expect(page.locator("#recommendation .lead")).to_contain_text("Try", timeout=60_000)
    assert Recommendation.objects.filter(learner__user__username="erin").exists()
    assert "recommendation_refresh" in worker.read_text()
    screenshots(page, "dashboard-first-session")
    assert serious_accessibility_violations(page) == []
    assert console_errors == []
