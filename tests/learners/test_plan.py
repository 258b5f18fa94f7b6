"""The study plan: a spaced plan accepted for a subject, due on the dashboard, started, moved,
skipped, done when a session of the subject is saved; nobody else's plan is reachable."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coach.models import Strategy
from learners.models import Learner, PlannedSession, Recommendation, Reflection, ReminderSent, SubjectGoal
from learners.selectors.plan import plan_due
from learners.selectors.sessions import learner_today
from learners.services.account import account_delete
from learners.services.goals import subject_rename
from learners.services.plan import plan_accept, plan_move, plan_skip
from learners.services.sessions import ReflectionInput, SessionInput, session_create
from tests.factories import StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db
FINISH = {
    "difficulty": 3,
    "focus": 3,
    "minutes": 20,
    "submission_key": "0f0e8a54-8f0e-4a39-9d1e-8f3b1c7a2a10",
}


@pytest.fixture(autouse=True)
def _no_broker() -> object:
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        yield


def _strategy(slug: str = "distributed-practice") -> Strategy:
    return Strategy.objects.get(slug=slug)


def _accept(learner: Learner, subject: str = "Physics", **kwargs: object) -> list[PlannedSession]:
    return plan_accept(learner=learner, subject=subject, strategy=_strategy(), **kwargs)  # type: ignore[arg-type]


def _planned(learner: Learner, day: date, subject: str = "Physics") -> PlannedSession:
    return PlannedSession.objects.create(
        learner=learner, subject=subject, strategy=_strategy(), planned_for=day
    )


def _recommendation(learner: Learner, slug: str) -> Recommendation:
    return Recommendation.objects.create(
        learner=learner,
        subject="Chemistry",
        strategy=_strategy(slug),
        expected_score=70,
        score_std=10,
        reason="",
        ranking=[],
        source="evidence",
        basis="b",
    )


def _session_input(subject: str = "Physics", started_at: datetime | None = None) -> SessionInput:
    return SessionInput(
        subject=subject,
        task_kind="memorise",
        strategy=_strategy("practice-testing"),
        started_at=started_at or timezone.now() - timedelta(minutes=40),
        minutes=30,
        difficulty=3,
        confidence=60,
        score=None,
        focus=3,
    )


def test_accepted_plan_ends_the_day_before_the_exam(alice: Learner) -> None:
    today = learner_today(learner=alice)
    exam = today + timedelta(days=40)
    SubjectGoal.objects.create(learner=alice, subject="physics", weekly_minutes=60, exam_date=exam)
    planned = _accept(alice)
    days = [p.planned_for for p in planned]
    assert days[-1] == exam - timedelta(days=1)
    assert all(today < d < exam for d in days)
    assert {p.status for p in planned} == {PlannedSession.Status.PLANNED}


def test_accepting_again_replaces_the_open_plan_and_keeps_what_is_done(alice: Learner) -> None:
    first = _accept(alice)
    PlannedSession.objects.filter(pk=first[0].pk).update(status=PlannedSession.Status.DONE)
    second = _accept(alice)
    open_ids = set(PlannedSession.objects.filter(status="planned").values_list("pk", flat=True))
    assert open_ids == {p.pk for p in second}
    assert PlannedSession.objects.filter(pk=first[0].pk, status="done").exists()


def test_a_plan_for_another_strategy_is_refused(alice: Learner) -> None:
    with pytest.raises(ValidationError):
        plan_accept(learner=alice, subject="Physics", strategy=_strategy("rereading"))
    assert not PlannedSession.objects.exists()


def test_an_exam_tomorrow_leaves_nothing_to_plan(alice: Learner) -> None:
    tomorrow = learner_today(learner=alice) + timedelta(days=1)
    SubjectGoal.objects.create(learner=alice, subject="Physics", weekly_minutes=60, exam_date=tomorrow)
    with pytest.raises(ValidationError, match="too close"):
        _accept(alice)


def test_learner_accepts_a_plan_from_the_recommendation_card(alice: Learner, alice_client: Client) -> None:
    recommendation = _recommendation(alice, "distributed-practice")
    home = alice_client.get(reverse("home")).content.decode()
    assert 'id="accept-plan"' in home
    data = {"subject": "Chemistry", "strategy": "distributed-practice", "recommendation": recommendation.pk}
    response = alice_client.post(reverse("plan-accept"), data, follow=True)
    assert "Chemistry is planned" in response.content.decode()
    assert PlannedSession.objects.filter(learner=alice, recommendation=recommendation).exists()


def test_no_plan_offer_for_a_strategy_a_plan_does_not_serve(alice: Learner, alice_client: Client) -> None:
    _recommendation(alice, "rereading")
    assert 'id="accept-plan"' not in alice_client.get(reverse("home")).content.decode()


def test_plan_form_on_the_goals_page_refuses_another_strategy(alice: Learner, alice_client: Client) -> None:
    assert 'id="plan-submit"' in alice_client.get(reverse("goals")).content.decode()
    response = alice_client.post(
        reverse("plan-accept"), {"subject": "Physics", "strategy": "rereading"}, follow=True
    )
    assert "A study plan is for spaced practice or practice testing." in response.content.decode()
    assert not PlannedSession.objects.exists()


def test_due_today_and_this_week_on_the_dashboard(alice: Learner, alice_client: Client) -> None:
    today = learner_today(learner=alice)
    _planned(alice, today - timedelta(days=2), "Overdue subject")
    _planned(alice, today, "Today subject")
    _planned(alice, today + timedelta(days=3), "Later subject")
    _planned(alice, today + timedelta(days=9), "Far subject")
    due = plan_due(learner=alice)
    assert [i.subject for i in due.due] == ["Overdue subject", "Today subject"]
    assert [i.subject for i in due.this_week] == ["Later subject"]
    content = alice_client.get(reverse("home")).content.decode()
    assert "Due today / this week" in content
    assert "Today subject" in content and "Far subject" not in content


def test_due_is_counted_in_the_learners_time_zone(alice: Learner) -> None:
    alice.timezone = "Asia/Shanghai"
    alice.save()
    # 20:00 UTC is already tomorrow in Shanghai.
    now = datetime(2026, 3, 2, 20, 0, tzinfo=ZoneInfo("UTC"))
    _planned(alice, date(2026, 3, 3))
    assert [i.planned_for for i in plan_due(learner=alice, now=now).due] == [date(2026, 3, 3)]


def test_plan_due_query_count_does_not_grow_with_the_plan(alice: Learner) -> None:
    today = learner_today(learner=alice)
    _planned(alice, today)
    with CaptureQueriesContext(connection) as few:
        plan_due(learner=alice)
    for k in range(1, 6):
        _planned(alice, today + timedelta(days=k), f"Subject {k}")
    with CaptureQueriesContext(connection) as many:
        assert len(plan_due(learner=alice).this_week) == 5
    assert len(many) == len(few) == 1


def test_start_opens_the_timer_prefilled(alice: Learner, alice_client: Client) -> None:
    planned = _planned(alice, learner_today(learner=alice), "Geology")
    content = alice_client.get(reverse("study"), {"planned": planned.pk}).content.decode()
    assert 'value="Geology"' in content
    assert f'<option value="{planned.strategy_id}" selected' in content


def test_starting_another_learners_plan_prefills_nothing(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    planned = _planned(bob, learner_today(learner=bob), "Bobs secret subject")
    content = alice_client.get(reverse("study"), {"planned": planned.pk}).content.decode()
    assert "Bobs secret subject" not in content


def test_move_to_a_later_day(alice: Learner, alice_client: Client) -> None:
    planned = _planned(alice, learner_today(learner=alice))
    later = learner_today(learner=alice) + timedelta(days=2)
    response = alice_client.post(reverse("plan-move", args=[planned.pk]), {"planned_for": later}, follow=True)
    assert "is moved to" in response.content.decode()
    planned.refresh_from_db()
    assert planned.planned_for == later


def test_move_before_today_is_refused_and_changes_nothing(alice: Learner, alice_client: Client) -> None:
    today = learner_today(learner=alice)
    planned = _planned(alice, today)
    response = alice_client.post(
        reverse("plan-move", args=[planned.pk]), {"planned_for": today - timedelta(days=1)}, follow=True
    )
    assert "has passed. Choose a day from today on." in response.content.decode()
    planned.refresh_from_db()
    assert planned.planned_for == today


def test_move_before_today_is_refused_by_the_service_too(alice: Learner) -> None:
    today = learner_today(learner=alice)
    planned = _planned(alice, today)
    with pytest.raises(ValidationError):
        plan_move(planned=planned, planned_for=today - timedelta(days=1))


def test_move_onto_a_day_already_planned_is_refused(alice: Learner) -> None:
    today = learner_today(learner=alice)
    planned = _planned(alice, today)
    _planned(alice, today + timedelta(days=1), "physics")
    with pytest.raises(ValidationError, match="already planned"):
        plan_move(planned=planned, planned_for=today + timedelta(days=1))
    planned.refresh_from_db()
    assert planned.planned_for == today


def test_skip(alice: Learner, alice_client: Client) -> None:
    planned = _planned(alice, learner_today(learner=alice))
    alice_client.post(reverse("plan-skip", args=[planned.pk]))
    planned.refresh_from_db()
    assert planned.status == PlannedSession.Status.SKIPPED
    assert not plan_skip(planned=planned)


@pytest.mark.parametrize("action", ["plan-move", "plan-skip"])
def test_learner_cannot_touch_another_learners_plan(alice_client: Client, bob: Learner, action: str) -> None:
    planned = _planned(bob, learner_today(learner=bob))
    response = alice_client.post(reverse(action, args=[planned.pk]), {"planned_for": "2030-01-01"})
    assert response.status_code == 404
    planned.refresh_from_db()
    assert planned.status == "planned" and planned.planned_for == learner_today(learner=bob)


def test_saving_a_session_of_the_subject_marks_the_earliest_due_done(alice: Learner) -> None:
    today = learner_today(learner=alice)
    overdue = _planned(alice, today - timedelta(days=1))
    todays = _planned(alice, today)
    saved = session_create(learner=alice, data=_session_input("PHYSICS"))
    overdue.refresh_from_db()
    todays.refresh_from_db()
    assert (overdue.status, overdue.session) == ("done", saved.session)
    assert todays.status == "planned"


def test_a_session_of_another_subject_or_before_the_day_leaves_the_plan(alice: Learner) -> None:
    tomorrow = _planned(alice, learner_today(learner=alice) + timedelta(days=1))
    _planned(alice, learner_today(learner=alice), "Maths")
    session_create(learner=alice, data=_session_input("Physics"))
    assert PlannedSession.objects.filter(status="planned").count() == 2
    tomorrow.refresh_from_db()
    assert tomorrow.status == "planned"


def test_the_timer_finish_marks_the_plan_done(alice: Learner, alice_client: Client) -> None:
    planned = _planned(alice, learner_today(learner=alice), "History")
    alice_client.post(
        reverse("study"),
        {"subject": "History", "task_kind": "memorise", "strategy": planned.strategy_id, "confidence": 50},
    )
    alice_client.post(reverse("study-finish"), FINISH)
    planned.refresh_from_db()
    assert planned.status == "done" and planned.session is not None


def test_renaming_a_subject_moves_its_plan(alice: Learner) -> None:
    today = learner_today(learner=alice)
    _planned(alice, today, "Physic")
    _planned(alice, today + timedelta(days=1), "Physic")
    _planned(alice, today + timedelta(days=1), "Physics")
    subject_rename(learner=alice, old="Physic", new="Physics")
    assert sorted(PlannedSession.objects.values_list("subject", "planned_for")) == [
        ("Physics", today),
        ("Physics", today + timedelta(days=1)),
    ]


def test_the_next_time_plan_shown_is_that_of_the_subject(alice: Learner, alice_client: Client) -> None:
    old = StudySessionFactory(learner=alice, subject="Geology", started_at=timezone.now() - timedelta(days=2))
    Reflection.objects.create(session=old, next_time="Draw the rock cycle from memory")
    newer = StudySessionFactory(learner=alice, subject="Maths", started_at=timezone.now() - timedelta(days=1))
    Reflection.objects.create(session=newer, next_time="Do the odd exercises")
    planned = _planned(alice, learner_today(learner=alice), "Geology")
    content = alice_client.get(reverse("study"), {"planned": planned.pk}).content.decode()
    assert "Draw the rock cycle from memory" in content
    assert "Do the odd exercises" not in content


def test_kept_plan_answer_is_stored_on_the_new_sessions_reflection(
    alice: Learner, alice_client: Client
) -> None:
    old = StudySessionFactory(learner=alice, subject="Geology", started_at=timezone.now() - timedelta(days=1))
    Reflection.objects.create(session=old, next_time="Draw the rock cycle from memory")
    strategy = _strategy().pk
    alice_client.post(
        reverse("study"),
        {
            "subject": "Geology",
            "task_kind": "memorise",
            "strategy": strategy,
            "confidence": 50,
            "kept_previous_plan": "yes",
        },
    )
    alice_client.post(reverse("study-finish"), FINISH)
    new = Reflection.objects.exclude(pk=old.reflection.pk).get()
    assert new.kept_previous_plan is True


def test_session_create_with_a_reflection_still_fulfils(alice: Learner) -> None:
    planned = _planned(alice, learner_today(learner=alice))
    session_create(learner=alice, data=_session_input(), reflection=ReflectionInput(next_time="More cards"))
    planned.refresh_from_db()
    assert planned.status == "done"


def test_the_plan_is_exported_and_removed_with_the_account(alice: Learner, alice_client: Client) -> None:
    planned = _planned(alice, date(2030, 6, 1))
    body = b"".join(alice_client.get(reverse("account-export-json")).streaming_content)  # type: ignore[attr-defined]
    (row,) = json.loads(body)["planned_sessions"]
    assert (row["planned_id"], row["subject"], row["planned_for"], row["status"]) == (
        planned.pk,
        "Physics",
        "2030-06-01",
        "planned",
    )
    csv = b"".join(
        alice_client.get(reverse("account-export-csv", args=["planned_sessions"])).streaming_content
    )  # type: ignore[attr-defined]
    assert b"Physics,distributed-practice,2030-06-01,planned" in csv
    account_delete(user=alice.user)
    assert not PlannedSession.objects.exists()


def test_log_form_from_a_plan_shows_the_subjects_next_time_and_asks_if_it_was_kept(
    alice: Learner, alice_client: Client
) -> None:
    old = StudySessionFactory(learner=alice, subject="Geology", started_at=timezone.now() - timedelta(days=2))
    Reflection.objects.create(session=old, next_time="Draw the rock cycle from memory")
    newer = StudySessionFactory(learner=alice, subject="Maths", started_at=timezone.now() - timedelta(days=1))
    Reflection.objects.create(session=newer, next_time="Do the odd exercises")
    planned = _planned(alice, learner_today(learner=alice), "Geology")
    url = f"{reverse('session-new')}?planned={planned.pk}"
    content = alice_client.get(url).content.decode()
    assert "Draw the rock cycle from memory" in content and "Do the odd exercises" not in content
    assert 'value="Geology"' in content and 'name="kept_previous_plan"' in content
    started = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "subject": "Geology",
        "task_kind": "memorise",
        "strategy": planned.strategy_id,
        "started_at": started,
        "minutes": 30,
        "difficulty": 3,
        "confidence": 60,
        "focus": 3,
        "kept_previous_plan": "no",
        "submission_key": "5a1f0c43-43a9-4a41-a7a4-2b2c1c7e9d01",
    }
    alice_client.post(url, data)
    new = Reflection.objects.exclude(pk__in=[old.reflection.pk, newer.reflection.pk]).get()
    assert new.kept_previous_plan is False and new.session.subject == "Geology"
    planned.refresh_from_db()
    assert planned.status == "done"


def test_log_form_asks_nothing_without_an_earlier_plan(alice: Learner, alice_client: Client) -> None:
    assert 'name="kept_previous_plan"' not in alice_client.get(reverse("session-new")).content.decode()


def test_a_session_started_early_from_the_plan_fulfils_that_planned_session(
    alice: Learner, alice_client: Client
) -> None:
    later = _planned(alice, learner_today(learner=alice) + timedelta(days=3), "History")
    page = alice_client.get(reverse("study"), {"planned": later.pk}).content.decode()
    assert f'name="planned" value="{later.pk}"' in page
    data = {"subject": "History", "task_kind": "memorise", "strategy": later.strategy_id, "confidence": 50}
    alice_client.post(reverse("study"), {**data, "planned": later.pk})
    alice_client.post(reverse("study-finish"), FINISH)
    later.refresh_from_db()
    assert later.status == "done" and later.session is not None


def test_another_learners_planned_id_in_the_timer_form_is_ignored(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    bobs = _planned(bob, learner_today(learner=bob) + timedelta(days=3), "History")
    data = {"subject": "History", "task_kind": "memorise", "strategy": bobs.strategy_id, "confidence": 50}
    alice_client.post(reverse("study"), {**data, "planned": bobs.pk})
    alice_client.post(reverse("study-finish"), FINISH)
    bobs.refresh_from_db()
    assert bobs.status == "planned"


def test_planned_sessions_and_reminders_list_in_the_admin(alice: Learner) -> None:
    _planned(alice, date(2030, 6, 1), "Admin-listed subject")
    ReminderSent.objects.create(learner=alice, day=date(2030, 5, 31))
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:learners_plannedsession_changelist")).content.decode()
    assert "Admin-listed subject" in page
    assert "alice" in client.get(reverse("admin:learners_remindersent_changelist")).content.decode()
