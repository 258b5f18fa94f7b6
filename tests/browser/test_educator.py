"""An educator and a learner, in a real browser: a cohort, a join, the overview, a retrain, an export."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from coach.models import EngineRun
from learners.demo import demo_create
from learners.models import CohortMembership
from tests.browser.conftest import BROWSER, screenshots, serious_accessibility_violations
from tests.factories import LearnerFactory, UserFactory, educator

pytestmark = BROWSER
PASSWORD = "a-long-unusual-passphrase-42"


def log_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header summary", has_text=username)).to_be_visible()


def test_educator_runs_a_cohort_retrains_the_engine_and_exports(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    worker: Path,
    console_errors: list[str],
) -> None:
    base = live_server.url
    demo_create(members=8, days=21)  # other learners' sessions, so the engine has enough to train on
    dana = educator("dana", password=PASSWORD)
    LearnerFactory(user=UserFactory(username="fiona", password=PASSWORD))

    # The educator creates a cohort and reads its join code.
    log_in(page, base, "dana")
    page.get_by_role("link", name="Educator").click()
    page.fill("#id_name", "Biology 101")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="Biology 101")).to_be_visible()
    code = page.locator("#join-code").inner_text().strip()
    assert len(code) == 8
    page.get_by_role("link", name="Cohort settings").click()
    expect(page.get_by_role("button", name="Revoke code")).to_be_visible()
    screenshots(page, "educator-cohort-settings")
    assert serious_accessibility_violations(page) == []

    # The learner joins with the code, sharing reflections, and logs a session.
    log_in(page, base, "fiona")
    page.goto(f"{base}/settings/join/")
    page.fill("#id_code", code.lower())
    expect(page.get_by_text("will see each of your study sessions", exact=False)).to_be_visible()
    page.check("#id_share_reflections")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("You joined Biology 101.")).to_be_visible()
    screenshots(page, "account-settings")
    assert serious_accessibility_violations(page) == []
    assert CohortMembership.objects.get(learner__user__username="fiona").share_reflections
    page.goto(f"{base}/sessions/new/")
    page.fill("#id_subject", "Cell biology")
    page.select_option("#id_task_kind", "memorise")
    page.select_option("#id_strategy", label="Practice testing (high)")
    page.fill("#id_minutes", "35")
    page.select_option("#id_difficulty", "3")
    page.fill("#id_confidence", "80")
    page.fill("#id_score", "62")
    page.select_option("#id_focus", "4")
    page.fill("#id_evaluate", "Flashcards with the diagrams hidden")
    page.click("main button[type=submit]")
    expect(page.get_by_text("Session saved.")).to_be_visible()

    # The educator sees the learner in the overview and opens their page.
    log_in(page, base, "dana")
    page.goto(f"{base}/educator/")
    page.get_by_role("link", name="Biology 101").click()
    members = page.locator("table.members")
    expect(members.get_by_role("link", name="fiona")).to_be_visible()
    expect(members).to_contain_text("62")
    page.locator("#chart-cohort-active").scroll_into_view_if_needed()
    expect(page.locator("#chart-cohort-active .main-svg").first).to_be_visible()
    page.locator("#chart-cohort-scores").scroll_into_view_if_needed()
    expect(page.locator("#chart-cohort-scores .main-svg").first).to_be_visible()
    screenshots(page, "educator-overview")
    assert serious_accessibility_violations(page) == []

    # The CSV download holds the learner's session.
    with page.expect_download() as download:
        page.get_by_role("link", name="Sessions (CSV)").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.startswith("learner,session_id,started_at")
    assert "fiona" in csv_text and "Cell biology" in csv_text
    assert "student01" not in csv_text  # a demo learner in another cohort

    members.get_by_role("link", name="fiona").click()
    expect(page.get_by_text("Flashcards with the diagrams hidden")).to_be_visible()
    screenshots(page, "educator-member")

    # Retrain: the progress bar follows the worker to 100%, and the runs table and the evaluation
    # follow it without a reload (a reload would forget the mark set on the window).
    page.get_by_role("link", name="Engine").click()
    page.get_by_role("button", name="Retrain now").click()
    expect(page.get_by_text("Retrain started.")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    bar = page.locator("#engine-progress-bar")
    expect(bar).to_be_visible()
    expect(bar).to_have_js_property("value", 100, timeout=120_000)
    expect(page.locator("#engine-progress-text")).to_have_text("Succeeded (100%)", timeout=10_000)
    run = EngineRun.objects.get()
    assert run.status == EngineRun.Status.SUCCEEDED, run.error
    assert "engine_run_execute" in worker.read_text()
    row = page.locator(f"#run-{run.pk}")
    expect(row.locator(".status")).to_have_text("Succeeded")
    expect(row).to_contain_text(f"{run.n_learners} / {run.n_sessions}")
    page.locator("#chart-engine-rmse").scroll_into_view_if_needed()
    expect(page.locator("#chart-engine-rmse .main-svg").first).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#engine-terms")).to_contain_text("RMSE (root mean square error)")
    screenshots(page, "educator-engine")

    # A second click while a run is active says so.
    EngineRun.objects.create(status=EngineRun.Status.RUNNING, progress=10, requested_by=dana)
    page.get_by_role("button", name="Retrain now").click()
    expect(page.get_by_text("A retrain is already running")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    assert console_errors == []
