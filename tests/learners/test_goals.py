"""Goals per subject: minutes a week and an exam date, checked, shown against this week's
minutes on the dashboard, exported and removed with the account."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner, SubjectGoal
from learners.selectors.goals import goal_progress, subject_figures
from learners.services.account import account_delete, learner_set_timezone
from learners.services.goals import goal_save
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker() -> object:
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        yield


def _post(client: Client, **data: object) -> str:
    values: dict[str, object] = {"subject": "Physics", "weekly_minutes": 120, "exam_date": ""}
    values.update(data)
    return client.post(reverse("goals"), values, follow=True).content.decode()


def test_learner_sets_a_goal_with_an_exam(alice: Learner, alice_client: Client) -> None:
    exam = timezone.localdate() + timedelta(days=30)
    content = _post(alice_client, exam_date=exam.isoformat())
    assert "Your goal for Physics is saved." in content
    goal = SubjectGoal.objects.get(learner=alice)
    assert (goal.subject, goal.weekly_minutes, goal.exam_date) == ("Physics", 120, exam)


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (0, "Set a goal of at least 10 minutes a week."),
        (10000, "Set a goal of at most 2400 minutes a week (40 hours)."),
    ],
)
def test_a_goal_out_of_range_is_refused_with_a_message(
    alice: Learner, alice_client: Client, minutes: int, message: str
) -> None:
    assert message in _post(alice_client, weekly_minutes=minutes)
    assert not SubjectGoal.objects.exists()


def test_an_exam_date_in_the_past_is_refused_with_a_message(alice: Learner, alice_client: Client) -> None:
    content = _post(alice_client, exam_date=(timezone.localdate() - timedelta(days=1)).isoformat())
    assert "has passed. Enter a date from today on." in content
    assert not SubjectGoal.objects.exists()


def test_today_in_the_learners_zone_is_not_the_past(alice: Learner) -> None:
    # 20:00 UTC on 9 March is already 10 March in Shanghai.
    learner_set_timezone(learner=alice, name="Asia/Shanghai")
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 3, 9, 20, 0, tzinfo=UTC)):
        goal = goal_save(learner=alice, subject="Physics", weekly_minutes=60, exam_date=date(2026, 3, 10))
    assert goal.exam_date == date(2026, 3, 10)


def test_the_same_subject_in_another_case_replaces_the_goal(alice: Learner) -> None:
    goal_save(learner=alice, subject="Physics", weekly_minutes=60, exam_date=None)
    goal_save(learner=alice, subject="physics ", weekly_minutes=90, exam_date=None)
    assert list(SubjectGoal.objects.values_list("subject", "weekly_minutes")) == [("physics", 90)]


def test_the_database_refuses_a_second_goal_for_a_subject(alice: Learner) -> None:
    SubjectGoal.objects.create(learner=alice, subject="Physics", weekly_minutes=60)
    with pytest.raises(IntegrityError):
        SubjectGoal.objects.create(learner=alice, subject="PHYSICS", weekly_minutes=60)


def test_progress_counts_this_local_weeks_minutes_of_the_subject(alice: Learner) -> None:
    learner_set_timezone(learner=alice, name="America/Los_Angeles")
    la = ZoneInfo("America/Los_Angeles")
    goal_save(learner=alice, subject="Physics", weekly_minutes=100, exam_date=None)
    now = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)  # Wednesday 11 March, 11:00 in Los Angeles
    StudySessionFactory(
        learner=alice, subject="physics", minutes=30, started_at=datetime(2026, 3, 9, 0, 30, tzinfo=la)
    )
    StudySessionFactory(
        learner=alice, subject="Physics", minutes=50, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=la)
    )
    # Sunday 23:30 local is last week, although it is Monday in UTC.
    StudySessionFactory(
        learner=alice, subject="Physics", minutes=70, started_at=datetime(2026, 3, 8, 23, 30, tzinfo=la)
    )
    StudySessionFactory(
        learner=alice, subject="Biology", minutes=40, started_at=datetime(2026, 3, 10, 9, 0, tzinfo=la)
    )
    (progress,) = goal_progress(learner=alice, now=now)
    assert (progress.minutes_this_week, progress.percent, progress.reached) == (80, 80, False)


def test_days_to_the_exam(alice: Learner) -> None:
    now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    SubjectGoal.objects.create(
        learner=alice, subject="Physics", weekly_minutes=60, exam_date=date(2026, 3, 21)
    )
    SubjectGoal.objects.create(
        learner=alice, subject="Biology", weekly_minutes=60, exam_date=date(2026, 3, 1)
    )
    by_subject = {p.subject: p.days_to_exam for p in goal_progress(learner=alice, now=now)}
    assert by_subject == {"Physics": 10, "Biology": None}


def test_the_dashboard_shows_each_goals_progress(alice: Learner, alice_client: Client) -> None:
    SubjectGoal.objects.create(
        learner=alice,
        subject="Physics",
        weekly_minutes=120,
        exam_date=timezone.localdate() + timedelta(days=5),
    )
    StudySessionFactory(
        learner=alice, subject="Physics", minutes=30, started_at=timezone.now() - timedelta(minutes=40)
    )
    content = alice_client.get(reverse("home")).content.decode()
    assert "30 of 120 minutes this week" in content
    assert "in 5 days" in content


def test_another_learners_goal_cannot_be_removed(alice: Learner, bob: Learner, alice_client: Client) -> None:
    goal = SubjectGoal.objects.create(learner=bob, subject="Physics", weekly_minutes=60)
    alice_client.post(reverse("goal-remove", args=[goal.pk]))
    assert SubjectGoal.objects.filter(pk=goal.pk).exists()


def test_learner_removes_a_goal(alice: Learner, alice_client: Client) -> None:
    goal = SubjectGoal.objects.create(learner=alice, subject="Physics", weekly_minutes=60)
    alice_client.post(reverse("goal-remove", args=[goal.pk]))
    assert not SubjectGoal.objects.exists()


def test_goals_are_in_the_export_and_go_with_the_account(alice: Learner, alice_client: Client) -> None:
    SubjectGoal.objects.create(
        learner=alice, subject="Physics", weekly_minutes=60, exam_date=date(2030, 6, 1)
    )
    body = b"".join(alice_client.get(reverse("account-export-json")).streaming_content)  # type: ignore[attr-defined]
    (row,) = json.loads(body)["goals"]
    assert (row["subject"], row["weekly_minutes"], row["exam_date"]) == ("Physics", 60, "2030-06-01")
    csv = b"".join(alice_client.get(reverse("account-export-csv", args=["goals"])).streaming_content)  # type: ignore[attr-defined]
    assert b"Physics,60,2030-06-01" in csv
    account_delete(user=alice.user)
    assert not SubjectGoal.objects.exists()


def test_dashboard_goals_query_count_does_not_grow(alice: Learner, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        SubjectGoal.objects.create(learner=alice, subject=f"S{n}", weekly_minutes=60)
    with django_assert_max_num_queries(2):
        goal_progress(learner=alice)
    for n in range(3, 30):
        SubjectGoal.objects.create(learner=alice, subject=f"S{n}", weekly_minutes=60)
    StudySessionFactory.create_batch(30, learner=alice, subject="S1")
    with django_assert_max_num_queries(2):
        goal_progress(learner=alice)


def _rename(client: Client, old: str, new: str) -> str:
    return client.post(reverse("subject-rename"), {"old": old, "new": new}, follow=True).content.decode()


def test_renaming_a_subject_renames_every_session_of_it(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(2, learner=alice, subject="Phys")
    StudySessionFactory(learner=alice, subject="Biology")
    assert "2 sessions of Phys are now in Physics." in _rename(alice_client, "Phys", "Physics")
    assert sorted(alice.sessions.values_list("subject", flat=True)) == ["Biology", "Physics", "Physics"]


def test_merging_into_a_subject_keeps_the_goal_of_that_subject(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory(learner=alice, subject="Phys")
    StudySessionFactory(learner=alice, subject="Physics")
    SubjectGoal.objects.create(learner=alice, subject="Phys", weekly_minutes=30)
    SubjectGoal.objects.create(learner=alice, subject="Physics", weekly_minutes=90)
    _rename(alice_client, "Phys", "physics")
    assert list(SubjectGoal.objects.values_list("subject", "weekly_minutes")) == [("physics", 90)]
    assert set(alice.sessions.values_list("subject", flat=True)) == {"physics"}


def test_a_subject_the_learner_does_not_have_cannot_be_renamed(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    StudySessionFactory(learner=bob, subject="Secret")
    StudySessionFactory(learner=alice, subject="Physics")
    _rename(alice_client, "Secret", "Mine")
    assert bob.sessions.get().subject == "Secret"


def test_dashboard_figures_by_subject(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory(learner=alice, subject="physics", minutes=30, score=60)
    StudySessionFactory(learner=alice, subject="Physics", minutes=45, score=80)
    StudySessionFactory(learner=alice, subject="Physics", minutes=15, score=None)
    StudySessionFactory(learner=alice, subject="Biology", minutes=20, score=None)
    figures = subject_figures(learner=alice)
    assert [(f.subject, f.sessions, f.minutes, f.mean_score, f.scored) for f in figures] == [
        ("Physics", 3, 90, 70.0, 2),
        ("Biology", 1, 20, None, 0),
    ]
    content = alice_client.get(reverse("home")).content.decode()
    assert "By subject" in content
    assert "?subject=Physics" in content
