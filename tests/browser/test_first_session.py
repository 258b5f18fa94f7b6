"""A new learner, in a real browser: sign up, log a session, see the worker's recommendation."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from learners.models import Recommendation, StudySession
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
    page.fill("#id_email", "erin@example.com")
    page.fill("#id_password1", "a-long-unusual-passphrase-42")
    page.fill("#id_password2", "a-long-unusual-passphrase-42")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Hello, erin")).to_be_visible()

    page.goto(f"{live_server.url}/sessions/new/")
    page.fill("#id_subject", "Linear algebra")
    page.select_option("#id_task_kind", "solve")
    page.select_option("#id_strategy", label="Practice testing (high)")
    page.fill("#id_minutes", "0")
    page.select_option("#id_difficulty", "3")
    page.fill("#id_confidence", "70")
    page.fill("#id_score", "64")
    page.select_option("#id_focus", "4")
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


def sign_up(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", "a-long-unusual-passphrase-42")
    page.fill("#id_password2", "a-long-unusual-passphrase-42")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()


def fill_session(page: Page, subject: str) -> None:
    page.fill("#id_subject", subject)
    page.select_option("#id_task_kind", "memorise")
    page.select_option("#id_strategy", label="Practice testing (high)")
    page.fill("#id_minutes", "30")
    page.select_option("#id_difficulty", "2")
    page.fill("#id_confidence", "60")
    page.select_option("#id_focus", "5")


def test_going_back_and_resubmitting_saves_the_session_once(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    console_errors: list[str],
) -> None:
    sign_up(page, live_server.url, "gus")
    page.goto(f"{live_server.url}/sessions/new/")
    fill_session(page, "Anatomy")
    page.fill("#id_plan", "Bones of the hand")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    session = StudySession.objects.get(learner__user__username="gus")

    page.go_back()
    expect(page.locator("#id_subject")).to_have_value("Anatomy")
    page.click("main button[type=submit]")
    expect(page.get_by_text("This session had already been saved; here it is.")).to_be_visible()
    assert page.url.endswith(f"/sessions/{session.pk}/")
    assert StudySession.objects.filter(learner__user__username="gus").count() == 1
    assert console_errors == []


def test_a_double_click_saves_the_session_once(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    console_errors: list[str],
) -> None:
    sign_up(page, live_server.url, "hana")
    page.goto(f"{live_server.url}/sessions/new/")
    fill_session(page, "Botany")
    page.dblclick("main button[type=submit]")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    assert StudySession.objects.filter(learner__user__username="hana").count() == 1
    assert console_errors == []


def test_the_counter_follows_the_text_and_the_limit_shows_as_an_error(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    console_errors: list[str],
) -> None:
    sign_up(page, live_server.url, "ivan")
    page.goto(f"{live_server.url}/sessions/new/")
    counter = page.locator("#id_subject_count")
    expect(counter).to_have_text("0 / 100")
    expect(counter).not_to_have_attribute("aria-live", "polite")
    fill_session(page, "Chemistry")
    expect(counter).to_have_text("9 / 100")
    page.fill("#id_subject", "x" * 95)
    expect(counter).to_have_attribute("aria-live", "polite")  # announced only near the limit
    # A paste longer than the limit is not cut: the counter shows it, the server refuses it.
    page.fill("#id_evaluate", "y" * 2010)
    expect(page.locator("#id_evaluate")).to_have_value("y" * 2010)
    expect(page.locator("#id_evaluate_count")).to_have_text("2010 / 2000")
    expect(page.locator("#id_evaluate_count")).to_have_class("char-count over")
    page.click("main button[type=submit]")
    expect(page.locator("#id_evaluate_error")).to_have_text(
        "Shorten this to 2000 characters or fewer; it has 2010."
    )
    expect(page.locator("#id_evaluate_count")).to_have_text("2010 / 2000")
    screenshots(page, "session-form-too-long")
    assert serious_accessibility_violations(page) == []
    page.fill("#id_evaluate", "Recall was patchy")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    assert console_errors == []


def test_the_limit_shows_as_an_error_without_javascript(
    live_server,  # type: ignore[no-untyped-def]
    browser: Browser,
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_up(page, live_server.url, "jo")
    page.goto(f"{live_server.url}/sessions/new/")
    expect(page.locator("#id_notes_count")).to_be_hidden()
    fill_session(page, "Physics")
    page.fill("#id_notes", "z" * 2001)
    page.click("main button[type=submit]")
    expect(page.locator("#id_notes_error")).to_have_text(
        "Shorten this to 2000 characters or fewer; it has 2001."
    )
    assert not StudySession.objects.filter(learner__user__username="jo").exists()
    context.close()
