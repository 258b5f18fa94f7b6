"""xAPI in a real browser: a learner downloads their statements from settings and reads what the
extensions mean; an educator downloads the cohort's, without a non-sharing member's notes."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from ralph.models.xapi.base.statements import BaseXapiStatement

from learners.models import CohortMembership, Reflection
from tests.browser.conftest import BROWSER, screenshots, serious_accessibility_violations
from tests.browser.test_educator import PASSWORD, log_in
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory, UserFactory, educator

pytestmark = BROWSER
NOTE = "Diagrams first, then the flashcards"
PRIVATE = "PRIVATE: I could not sleep"


@pytest.fixture
def people() -> User:
    fiona = LearnerFactory(user=UserFactory(username="fiona", password=PASSWORD))
    gus = LearnerFactory(user=UserFactory(username="gus", password=PASSWORD))
    dana = educator("dana", password=PASSWORD)
    cohort = CohortFactory(owner=dana, name="Biology 101")
    CohortMembership.objects.create(cohort=cohort, learner=fiona, share_reflections=True)
    CohortMembership.objects.create(cohort=cohort, learner=gus, share_reflections=False)
    session = StudySessionFactory(learner=fiona, subject="Cell biology", notes=NOTE)
    Reflection.objects.create(session=session, evaluate="Hiding the labels helped")
    StudySessionFactory(learner=gus, subject="Genetics", notes=PRIVATE)
    return dana


def test_learner_and_educator_download_statements_and_read_the_extensions(
    live_server,  # type: ignore[no-untyped-def]
    page: Page,
    people: User,
    console_errors: list[str],
) -> None:
    base = live_server.url
    log_in(page, base, "fiona")
    page.goto(f"{base}/settings/")
    section = page.locator("section[aria-labelledby=xapi-title]")
    expect(section.get_by_role("heading", name="xAPI statements")).to_be_visible()
    section.scroll_into_view_if_needed()
    screenshots(page, "settings-xapi")
    assert serious_accessibility_violations(page) == []
    with page.expect_download() as download:
        section.get_by_role("link", name="Your statements (xAPI, JSON)").click()
    statements = json.loads(download.value.path().read_text())
    assert [s["verb"]["display"]["en-US"] for s in statements] == ["completed", "commented"]
    for statement in statements:
        BaseXapiStatement.model_validate(statement)
    assert statements[0]["result"]["response"] == NOTE

    section.get_by_role("link", name="What the statements hold").click()
    expect(page.get_by_role("heading", name="xAPI statements")).to_be_visible()
    expect(page.locator("#confidence-before")).to_contain_text("/xapi/extensions/confidence-before")
    screenshots(page, "xapi-vocabulary")
    assert serious_accessibility_violations(page) == []
    page.goto(f"{base}/xapi/extensions/strategy")
    expect(page.get_by_role("heading", name="xAPI extension “strategy”")).to_be_visible()

    log_in(page, base, "dana")
    page.goto(f"{base}/educator/")
    page.get_by_role("link", name="Biology 101").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Sessions and reflections as xAPI statements (JSON)").click()
    text = download.value.path().read_text()
    assert NOTE in text and "Genetics" in text and PRIVATE not in text
    assert len(json.loads(text)) == 3
    assert console_errors == []
