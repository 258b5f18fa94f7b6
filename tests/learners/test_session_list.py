"""The session list filters by subject, strategy and the learner's own days, searches, sorts and
pages, keeping the filters; every subject form suggests the learner's own subjects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from coach.models import Strategy
from learners.models import Learner
from learners.services.account import learner_set_timezone
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_broker() -> object:
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        yield


def _subjects(client: Client, **params: object) -> list[str]:
    content = client.get(reverse("session-list"), params).content.decode()
    return re.findall(r'data-label="Subject">([^<]*)</td>', content)


def _session(learner: Learner, subject: str, **fields: object) -> None:
    StudySessionFactory(learner=learner, subject=subject, **fields)


def test_filters_by_subject_whatever_its_case(alice: Learner, alice_client: Client) -> None:
    _session(alice, "Physics")
    _session(alice, "Biology")
    assert _subjects(alice_client, subject="physics") == ["Physics"]


def test_filters_by_strategy(alice: Learner, alice_client: Client) -> None:
    _session(alice, "Physics", strategy=Strategy.objects.get(slug="rereading"))
    _session(alice, "Biology")
    strategy = Strategy.objects.get(slug="rereading")
    assert _subjects(alice_client, strategy=strategy.pk) == ["Physics"]


def test_dates_are_the_learners_own_days(alice: Learner, alice_client: Client) -> None:
    # 23:30 on 8 March in Los Angeles is 9 March in UTC; it belongs to the 8th.
    learner_set_timezone(learner=alice, name="America/Los_Angeles")
    la = ZoneInfo("America/Los_Angeles")
    _session(alice, "Late", started_at=datetime(2026, 3, 8, 23, 30, tzinfo=la))
    _session(alice, "Next day", started_at=datetime(2026, 3, 9, 0, 30, tzinfo=la))
    assert _subjects(alice_client, date_from="2026-03-08", date_to="2026-03-08") == ["Late"]
    assert _subjects(alice_client, date_from="2026-03-09") == ["Next day"]


def test_a_last_day_before_the_first_is_refused_with_a_message(alice: Learner, alice_client: Client) -> None:
    _session(alice, "Physics")
    response = alice_client.get(reverse("session-list"), {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert "The last day is before the first one." in response.content.decode()
    assert _subjects(alice_client, date_from="2026-03-09", date_to="2026-03-01") == ["Physics"]


def test_searches_subjects_and_notes(alice: Learner, alice_client: Client) -> None:
    _session(alice, "Physics", notes="Kinematics problems")
    _session(alice, "Biology", notes="Cells")
    _session(alice, "Kinematics review")
    assert sorted(_subjects(alice_client, search="kinematics")) == ["Kinematics review", "Physics"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["C", "B", "A"]),
        ("oldest", ["A", "B", "C"]),
        ("score", ["B", "A", "C"]),
        ("minutes", ["A", "C", "B"]),
    ],
)
def test_sorts(alice: Learner, alice_client: Client, sort: str, expected: list[str]) -> None:
    _session(alice, "A", started_at=NOW - timedelta(days=3), score=50, minutes=90)
    _session(alice, "B", started_at=NOW - timedelta(days=2), score=80, minutes=10)
    _session(alice, "C", started_at=NOW - timedelta(days=1), score=None, minutes=40)
    assert _subjects(alice_client, sort=sort) == expected


def test_pages_keep_the_filters(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(30, learner=alice, subject="Physics")
    content = alice_client.get(reverse("session-list"), {"subject": "Physics"}).content.decode()
    assert "?subject=Physics&amp;page=2" in content
    assert len(_subjects(alice_client, subject="Physics", page=2)) == 5


def test_another_learners_sessions_never_match(alice: Learner, bob: Learner, alice_client: Client) -> None:
    _session(bob, "Physics")
    assert _subjects(alice_client, subject="Physics") == []
    assert (
        "No session matches these filters."
        in alice_client.get(reverse("session-list"), {"subject": "Physics"}).content.decode()
    )


@pytest.mark.parametrize("url_name", ["session-new", "study", "home", "session-list"])
def test_subject_fields_suggest_the_learners_own_subjects(
    alice: Learner, bob: Learner, alice_client: Client, url_name: str
) -> None:
    _session(alice, "Organic chemistry")
    _session(bob, "Secret subject")
    content = alice_client.get(reverse(url_name)).content.decode()
    assert 'list="subject-suggestions"' in content
    assert '<option value="Organic chemistry"></option>' in content
    assert "Secret subject" not in content


def test_filtered_list_query_count_does_not_grow(
    alice: Learner, alice_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    params = {"subject": "Physics", "search": "a", "sort": "score", "date_from": "2000-01-01"}
    StudySessionFactory.create_batch(3, learner=alice, subject="Physics", notes="a")
    with django_assert_max_num_queries(100) as few:
        alice_client.get(reverse("session-list"), params)
    StudySessionFactory.create_batch(60, learner=alice, subject="Physics", notes="a")
    with django_assert_max_num_queries(len(few)):
        alice_client.get(reverse("session-list"), params)
