"""The study plan's pages at phone and desktop widths in both languages: the dashboard's due list
and the plan offer, the goals page's plan form, settings' reminder and calendar, the unsubscribe
page. Each fits the width and axe-core finds nothing serious; screenshots land in
var/screenshots/plan/ to be looked at."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser

from coach.models import Strategy
from learners.models import Learner, PlannedSession, Recommendation, SubjectGoal
from learners.services.calendar import calendar_token_renew
from learners.services.reminders import unsubscribe_token
from tests.browser.conftest import BROWSER, CSP_LISTENER, SCREENSHOTS, SIZES, serious_accessibility_violations
from tests.factories import LearnerFactory, StudySessionFactory, UserFactory

pytestmark = BROWSER
# The new parts of each page, photographed on their own as well, to be looked at closely.
PARTS = {
    "home": {"card": "#recommendation", "due": "#plan"},
    "goals": {"plan": "#plan-form"},
    "settings": {"reminder": "section:has(#reminder-title)", "calendar": "section:has(#calendar-title)"},
}
PASSWORD = "a-long-unusual-passphrase-42"


def _learner() -> Learner:
    learner = LearnerFactory(user=UserFactory(username="alice", password=PASSWORD, email="alice@example.org"))
    today = timezone.localdate()
    spaced = Strategy.objects.get(slug="distributed-practice")
    StudySessionFactory(learner=learner, subject="Organic chemistry", score=None)
    SubjectGoal.objects.create(
        learner=learner, subject="Organic chemistry", weekly_minutes=120, exam_date=today + timedelta(days=30)
    )
    for days, subject in [
        (-2, "Statistics for the social sciences"),
        (0, "Organic chemistry"),
        (3, "History"),
    ]:
        PlannedSession.objects.create(
            learner=learner, subject=subject, strategy=spaced, planned_for=today + timedelta(days=days)
        )
    Recommendation.objects.create(
        learner=learner,
        subject="Organic chemistry",
        strategy=spaced,
        expected_score=70,
        score_std=8,
        reason="",
        ranking=[],
        source="evidence",
        basis="browser",
    )
    calendar_token_renew(learner=learner)
    return learner


def test_plan_pages_fit_both_widths_in_both_languages(live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    learner = _learner()
    pages = {
        "home": reverse("home"),
        "goals": reverse("goals"),
        "settings": reverse("account-settings"),
        "unsubscribe": reverse("reminder-unsubscribe", args=[unsubscribe_token(learner=learner)]),
    }
    shots = SCREENSHOTS / "plan"
    shots.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for language in ("en", "zh-hans"):
        Learner.objects.filter(pk=learner.pk).update(language=language)
        context = browser.new_context(locale=language, viewport=SIZES["phone"])
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}{reverse('login')}")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        for name, url in pages.items():
            for label, size in SIZES.items():
                page.set_viewport_size(size)
                page.goto(live_server.url + url)
                for summary in page.locator("#plan details summary, #plan-offer summary").all():
                    summary.click()  # the move forms and the plan offer, open
                width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                if width[0] > width[1]:
                    failures.append(f"{language} {label} {name}: scrolls sideways {width}")
                failures += [
                    f"{language} {label} {name}: axe {v}" for v in serious_accessibility_violations(page)
                ]
                page.screenshot(path=str(shots / f"{name}-{language}-{label}.png"), full_page=True)
                for part, selector in PARTS.get(name, {}).items():
                    where = shots / f"{name}-{part}-{language}-{label}.png"
                    page.locator(selector).first.screenshot(path=str(where))
        failures += [f"{language}: console {e}" for e in errors]
        context.close()
    assert get_user_model().objects.filter(username="alice").exists()
    assert failures == []
