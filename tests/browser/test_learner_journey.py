"""A learner's first days, in a real browser with a real worker: sign up, self-report, study with
the timer, read the dashboard, follow the recommendation and log the next session."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from learners.models import Recommendation, StudySession
from learners.selfreport import ITEMS
from tests.browser.conftest import BROWSER, screenshots, serious_accessibility_violations

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"
CHARTS = ["weekly-minutes", "strategy-scores", "calibration", "study-calendar"]


def sign_up(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()


def study_with_the_timer(page: Page, *, score: str, next_time: str) -> None:
    page.click("#start")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d+:\d\d$"))
    page.click("#pause")
    expect(page.locator("#timer-state")).to_have_text("Paused")
    page.click("#resume")
    expect(page.locator("#pause")).to_be_visible()
    expect(page.locator("#id_minutes")).to_have_value("1")  # filled in by the live clock
    # Emptied, the field shows the clock's minutes as its placeholder, and those are what is saved.
    page.fill("#id_minutes", "")
    expect(page.locator("#id_minutes")).to_have_attribute("placeholder", "1")
    page.wait_for_timeout(1500)  # a tick of the clock does not refill it
    expect(page.locator("#id_minutes")).to_have_value("")
    page.fill("#id_score", score)
    page.select_option("#id_focus", "4")
    page.fill("#id_plan", "Chapter 4, then test myself")
    page.fill("#id_monitor", "Drifted after 20 minutes")
    page.fill("#id_evaluate", "Recall was patchy")
    page.fill("#id_next_time", next_time)
    expect(page.locator("#id_next_time_count")).to_have_text(f"{len(next_time)} / 2000")
    page.click("#finish-button")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    expect(page.locator(".error")).to_have_count(0)


def test_learner_journey_from_sign_up_to_following_a_recommendation(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
) -> None:
    url = live_server.url
    sign_up(page, url, "fatima")

    # Prompted for the self-report right after signing up.
    page.click("#self-report-prompt a")
    expect(page.get_by_role("heading", name="How you study: a short self-report")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    screenshots(page, "self-report-empty")
    for i, item in enumerate(ITEMS):
        page.check(f"input[name={item.key}][value='{2 + i % 3}']")
    page.click("#submit-self-report")
    page.locator("#chart-profile").scroll_into_view_if_needed()
    expect(page.locator("#chart-profile svg.main-svg").first).to_be_attached()
    screenshots(page, "self-report-profile")

    # A full run of the study timer.
    page.goto(f"{url}/study/")
    page.fill("#id_subject", "Cell biology")
    page.select_option("#id_task_kind", "understand")
    page.select_option("#id_strategy", label="Rereading (low)")
    page.fill("#id_confidence", "80")
    page.check("#id_pomodoro")
    assert serious_accessibility_violations(page) == []
    screenshots(page, "study-start")
    page.click("#start")
    expect(page.locator("#prompts")).to_contain_text("Before you reread")
    expect(page.locator("#timer-state")).to_contain_text("Focus")
    assert serious_accessibility_violations(page) == []
    screenshots(page, "study-running")
    page.goto(f"{url}/study/")  # a reload keeps the running session
    expect(page.get_by_role("heading", name="Studying Cell biology")).to_be_visible()
    page.click("#pause")
    page.click("#resume")
    page.fill("#id_minutes", "35")
    page.fill("#id_score", "58")
    page.fill("#id_plan", "Chapter 4, then test myself")
    page.fill("#id_monitor", "Drifted after 20 minutes")
    page.fill("#id_evaluate", "Recall was patchy")
    page.fill("#id_next_time", "Test myself before rereading")
    page.click("#finish-button")
    expect(page.get_by_text("Session saved.")).to_be_visible()

    # The dashboard: the session, the charts, the calibration sentence and the worker's recommendation.
    # The card first shows the previous recommendation while the new one is computed, and the page
    # reloads once it is there: wait for it before looking at the rest of the page.
    expect(page.locator("#recommendation")).to_have_attribute("data-stale", "false", timeout=60_000)
    expect(page.locator("#recommendation .lead")).to_contain_text("Try", timeout=60_000)
    expect(page.locator("#calibration-sentence")).to_have_text(
        "You tend to expect 22 points more than you score."
    )
    expect(page.locator("section[aria-labelledby=recent-title] table")).to_contain_text("Cell biology")
    for key in CHARTS:
        page.locator(f"#chart-{key}").scroll_into_view_if_needed()
        expect(page.locator(f"#chart-{key} svg.main-svg").first).to_be_attached()
    assert "recommendation_refresh" in worker.read_text()
    assert serious_accessibility_violations(page) == []
    screenshots(page, "dashboard")

    # Follow the recommendation; the timer opens with it, the next session links back to it.
    action = page.locator("#recommendation form[action*=follow]").get_attribute("action") or ""
    recommendation = Recommendation.objects.get(pk=int(re.findall(r"\d+", action)[0]))
    page.click("#try-it")
    expect(page.get_by_role("heading", name="Start a study session")).to_be_visible()
    expect(page.locator("#previous-plan")).to_contain_text("Test myself before rereading")
    expect(page.locator("#id_strategy")).to_have_value(str(recommendation.strategy_id))
    page.select_option("#id_kept_previous_plan", "yes")
    page.fill("#id_confidence", "65")
    study_with_the_timer(page, score="61", next_time="Space the next session two days out")

    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.FOLLOWED
    latest = StudySession.objects.filter(learner__user__username="fatima").order_by("-id").first()
    assert latest is not None and latest.recommendation_id == recommendation.pk
    assert latest.minutes == 1  # the clock's minutes, as the emptied field's placeholder said
    assert latest.focus == 4 and latest.reflection.evaluate == "Recall was patchy"
    assert latest.reflection.kept_previous_plan is True
    page.locator("#chart-calibration").scroll_into_view_if_needed()
    expect(page.locator("#chart-calibration svg.main-svg").first).to_be_attached()
    assert console_errors == []


def test_chinese_dashboard_reads_in_chinese(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
) -> None:
    sign_up(page, live_server.url, "wei")
    page.click("nav .language-switch summary")
    page.click("nav .language-switch button[value=zh-hans]")
    expect(page.get_by_role("heading", name="你好，wei")).to_be_visible()
    expect(page.locator("#recommendation .lead")).to_contain_text("试试", timeout=60_000)
    assert serious_accessibility_violations(page) == []
    screenshots(page, "dashboard-zh")
    page.goto(f"{live_server.url}/study/")
    expect(page.get_by_role("heading", name="开始学习")).to_be_visible()
    assert console_errors == []


def test_timer_works_with_javascript_disabled(
    live_server,  # type: ignore[no-untyped-def]
    browser: Browser,
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_up(page, live_server.url, "noscript")
    page.goto(f"{live_server.url}/study/")
    page.fill("#id_subject", "Statistics")
    page.select_option("#id_task_kind", "solve")
    page.select_option("#id_strategy", label="Interleaved practice (moderate)")
    page.fill("#id_confidence", "60")
    page.click("#start")
    page.click("#pause")
    expect(page.locator("#timer-state")).to_have_text("Paused")
    page.click("#resume")
    page.fill("#id_minutes", "25")
    page.fill("#id_score", "70")
    page.click("#finish-button")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    assert StudySession.objects.filter(learner__user__username="noscript", minutes=25).exists()
    context.close()


def test_the_clock_leaves_the_minutes_alone_once_the_form_comes_back_with_an_error(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    console_errors: list[str],
) -> None:
    sign_up(page, live_server.url, "gita")
    page.goto(f"{live_server.url}/study/")
    page.fill("#id_subject", "Geometry")
    page.select_option("#id_task_kind", "solve")
    page.select_option("#id_strategy", label="Practice testing (high)")
    page.fill("#id_confidence", "50")
    page.click("#start")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d+:\d\d$"))  # the live clock runs
    page.fill("#id_minutes", "35")
    page.fill("#id_score", "101")
    page.fill("#id_evaluate", "x" * 2001)
    page.click("#finish-button")
    expect(page.locator("#id_score_error")).to_be_visible()
    expect(page.locator("#id_evaluate_error")).to_have_text(
        "Shorten this to 2000 characters or fewer; it has 2001."
    )
    page.wait_for_timeout(1500)  # a tick of the clock
    expect(page.locator("#id_minutes")).to_have_value("35")
    expect(page.locator("#id_minutes_error")).to_have_count(0)
    page.fill("#id_score", "70")
    page.fill("#id_evaluate", "Proofs first")
    page.click("#finish-button")
    expect(page.get_by_text("Session saved.")).to_be_visible()
    session = StudySession.objects.get(learner__user__username="gita")
    assert (session.minutes, session.score, session.reflection.evaluate) == (35, 70, "Proofs first")
    assert console_errors == []
