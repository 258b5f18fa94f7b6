"""A learner's week in a real browser with a real worker: sign up in Asia/Shanghai, set a goal and
an exam, accept a spaced plan, see it due, start it from the dashboard, get a reminder (printed
on the worker's console, as in the embedded default), reset the password through the mailed link,
subscribe to the calendar feed and parse it, and stop the reminders with the mail's link."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import Page, expect

from learners.models import Learner, PlannedSession
from learners.selectors.sessions import learner_today
from learners.services.reminders import reminder_dispatch
from tests.browser.conftest import BROWSER, printed_link, screenshots
from tests.browser.test_learner_journey import sign_up

pytestmark = BROWSER
NEW_PASSWORD = "another-unusual-passphrase-73"


@pytest.mark.browser_context_args(timezone_id="Asia/Shanghai")
def test_a_learners_week(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
) -> None:
    url = live_server.url
    sign_up(page, url, "wen")
    learner = Learner.objects.get(user__username="wen")
    assert learner.timezone == "Asia/Shanghai"
    page.goto(url + printed_link(worker, re.escape(url) + r"(/accounts/verify/\S+)"))
    expect(page.get_by_role("status")).to_contain_text("is confirmed")

    # A goal with an exam three weeks away in the learner's own calendar, then a spaced plan for it.
    exam = learner_today(learner=learner) + timedelta(days=21)
    page.goto(f"{url}/settings/goals/")
    page.fill("#id_subject", "Physics")
    page.fill("#id_weekly_minutes", "120")
    page.fill("#id_exam_date", exam.isoformat())
    page.get_by_role("button", name="Save the goal").click()
    expect(page.get_by_text("Your goal for Physics is saved.")).to_be_visible()
    page.fill("#plan_subject", "Physics")
    page.select_option("#plan_strategy", "distributed-practice")
    page.click("#plan-submit")
    expect(page.get_by_text("Physics is planned")).to_be_visible()
    planned = list(PlannedSession.objects.filter(learner=learner).order_by("planned_for"))
    assert planned[-1].planned_for == exam - timedelta(days=1)

    # The first session is due this week; Start opens the timer with it.
    due = page.locator(f"#planned-{planned[0].pk}")
    expect(due).to_contain_text("Physics")
    screenshots(page, "week-plan-due")
    due.get_by_role("button", name="Start").click()
    expect(page.locator("#id_subject")).to_have_value("Physics")
    page.fill("#id_confidence", "60")
    page.click("#start")
    page.fill("#id_minutes", "25")
    page.select_option("#id_difficulty", "3")
    page.select_option("#id_focus", "4")
    page.click("#finish-button")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    planned[0].refresh_from_db()
    assert planned[0].status == PlannedSession.Status.DONE

    # Reminders on, at a time already past today: beat's dispatch finds the unscored session.
    page.goto(f"{url}/settings/")
    page.check("#id_reminder_enabled")
    page.fill("#id_reminder_time", "00:00")
    page.click("#reminder-save")
    expect(page.get_by_text("You will get a reminder each day at")).to_be_visible()
    assert [d.learner_id for d in reminder_dispatch()] == [learner.pk]
    # The mail's links start with METACOACH_SITE_URL; the path is what the test follows here.
    unsubscribe = printed_link(worker, r"https?://[^/\s]+(/reminders/unsubscribe/\S+)")

    # The calendar feed: made in settings, fetched as a calendar app would, parsed.
    page.click("#calendar-make")
    feed_url = page.locator("#calendar-url").input_value()
    response = page.request.get(feed_url)
    assert response.status == 200
    events = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Exam: Physics", *["Study Physics"] * (len(planned) - 1)]
    screenshots(page, "week-settings")

    # The password, reset through the mailed link.
    page.click("nav summary")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{url}/accounts/password_reset/")
    page.fill("#id_email", "wen@example.com")
    page.click("main button[type=submit]")
    page.goto(url + printed_link(worker, re.escape(url) + r"(/accounts/reset/\S+)"))
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_text("Your new password is in place.")).to_be_visible()

    # One click on the reminder's link stops the reminders, logged in or not.
    page.goto(url + unsubscribe)
    expect(page.get_by_role("status")).to_contain_text("Daily reminders are off")
    learner.refresh_from_db()
    assert learner.reminder_enabled is False
    assert console_errors == []
