"""The dashboard panel built ahead by the worker: the same HTML the page builds, found by the page."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from learners import tasks, versions
from learners.models import Learner
from learners.selectors.dashboard import dashboard_key
from learners.services.dashboard import PANEL_FRAGMENT, dashboard_panel_warm
from tests.factories import LearnerFactory, StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def panel(learner: Learner, language: str = "en") -> str | None:
    """The dashboard panel cached for the learner's current data, if there is one."""
    learner.refresh_from_db()
    with translation.override(language), timezone.override(learner.timezone):
        return cache.get(make_template_fragment_key(PANEL_FRAGMENT, [dashboard_key(learner=learner)]))


@pytest.fixture
def kiri() -> Learner:
    # A time zone far from UTC: the panel's days and times are the learner's own.
    learner = LearnerFactory(user=UserFactory(username="kiri"), timezone="Pacific/Auckland")
    now = timezone.now()
    for hours in (3, 30, 80):
        StudySessionFactory(learner=learner, started_at=now - timedelta(hours=hours), subject="Biology")
    return learner


def _page(learner: Learner) -> str:
    client = Client()
    client.force_login(learner.user)
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_built_ahead_is_the_one_the_page_builds(kiri: Learner) -> None:
    _page(kiri)
    built_by_the_page = panel(kiri)
    assert built_by_the_page and "Biology" in built_by_the_page
    cache.clear()

    assert dashboard_panel_warm(learner_id=kiri.pk) is True
    assert panel(kiri) == built_by_the_page
    assert dashboard_panel_warm(learner_id=kiri.pk) is False  # already there: nothing rebuilt


def test_the_page_shows_the_panel_built_ahead_without_rebuilding_it(kiri: Learner) -> None:
    dashboard_panel_warm(learner_id=kiri.pk)
    with mock.patch("learners.services.dashboard.dashboard_charts", side_effect=AssertionError("rebuilt")):
        page = _page(kiri)
    assert "Your progress" in page and "Biology" in page


def test_the_panel_is_built_in_the_learners_language(kiri: Learner) -> None:
    kiri.language = "zh-hans"
    kiri.save()
    dashboard_panel_warm(learner_id=kiri.pk)
    assert panel(kiri) is None
    built = panel(kiri, "zh-hans")
    assert built and "你的进展" in built
    with mock.patch("learners.services.dashboard.dashboard_charts", side_effect=AssertionError("rebuilt")):
        assert "你的进展" in _page(kiri)


def test_a_new_session_makes_the_panel_built_ahead_stale(kiri: Learner) -> None:
    dashboard_panel_warm(learner_id=kiri.pk)
    StudySessionFactory(learner=kiri, started_at=timezone.now(), subject="Chemistry")
    assert panel(kiri) is None
    assert "Chemistry" in _page(kiri)


def test_a_refresh_asks_for_the_panel_after_the_recommendation(kiri: Learner) -> None:
    with mock.patch("learners.tasks.dashboard_panel_warm_task.delay") as warm:
        tasks.recommendation_refresh_task.apply(args=[kiri.pk])
    warm.assert_called_once_with(kiri.pk, versions.learner_version(kiri.pk))


def test_a_deleted_account_has_nothing_to_build() -> None:
    assert dashboard_panel_warm(learner_id=10**9) is False


def test_a_build_asked_for_before_a_newer_change_is_skipped(kiri: Learner) -> None:
    asked_at = versions.learner_version(kiri.pk)
    StudySessionFactory(learner=kiri, started_at=timezone.now(), subject="Chemistry")
    assert dashboard_panel_warm(learner_id=kiri.pk, version=asked_at) is False
    assert panel(kiri) is None
    assert dashboard_panel_warm(learner_id=kiri.pk, version=versions.learner_version(kiri.pk)) is True
    assert "Chemistry" in (panel(kiri) or "")
