"""The study timer: server-side state, pause and resume, and a finish that logs the session."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from coach.models import Strategy
from learners.models import Learner, Recommendation, Reflection, StudySession, StudyTimer
from learners.selectors.study import pomodoro_phase, timer_elapsed_seconds
from learners.services.study import timer_minutes, timer_pause, timer_resume
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db
QUERIES_RUNNING = 6
QUERIES_START = 10  # with the learner's subjects, suggested by the subject field


def start_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subject": "History",
        "task_kind": "memorise",
        "strategy": Strategy.objects.get(slug="practice-testing").pk,
        "confidence": 65,
    }
    data.update(overrides)
    return data


def finish_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "minutes": 40,
        "score": 58,
        "difficulty": 3,
        "focus": 4,
        "plan": "Dates of the reforms",
        "monitor": "Lost track after 20 minutes",
        "evaluate": "Testing showed gaps",
        "next_time": "Shorter blocks",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def recommendation(learner: Learner) -> Recommendation:
    return Recommendation.objects.create(
        learner=learner,
        strategy=Strategy.objects.get(slug="distributed-practice"),
        expected_score=70,
        score_std=9,
        reason="Spacing helps.",
        ranking=[{"slug": "distributed-practice", "name": "Distributed practice", "low": 55, "high": 85}],
        source=Recommendation.Source.EVIDENCE,
        basis="test",
    )


def test_starting_the_timer_stores_it_on_the_server(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(reverse("study"), start_data())
    assert response.status_code == 302
    timer = StudyTimer.objects.get(learner=alice)
    assert (timer.subject, timer.confidence, timer.recommendation) == ("History", 65, None)


def test_a_running_timer_survives_a_reload(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    response = alice_client.get(reverse("study"))
    assert response.templates[0].name == "learners/study_running.html"
    assert "Close your notes and write down everything you remember." in response.content.decode()


def test_the_recommendation_is_preselected_and_kept_with_the_timer(
    alice: Learner, alice_client: Client
) -> None:
    rec = recommendation(alice)
    response = alice_client.get(reverse("study"), {"recommendation": rec.pk})
    form = response.context["form"]
    assert form.initial["strategy"] == rec.strategy_id
    alice_client.post(reverse("study"), start_data(strategy=rec.strategy_id, recommendation=rec.pk))
    assert StudyTimer.objects.get(learner=alice).recommendation == rec


def test_another_learners_recommendation_cannot_be_attached(
    bob: Learner, alice: Learner, alice_client: Client
) -> None:
    rec = recommendation(bob)
    alice_client.post(reverse("study"), start_data(recommendation=rec.pk))
    assert StudyTimer.objects.get(learner=alice).recommendation is None


def test_paused_time_does_not_count(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    timer = StudyTimer.objects.get(learner=alice)
    start = timer.started_at
    timer_pause(timer=timer, now=start + timedelta(minutes=10))
    timer_resume(timer=timer, now=start + timedelta(minutes=25))
    assert timer_elapsed_seconds(timer=timer, now=start + timedelta(minutes=30)) == 15 * 60


def test_pause_and_resume_work_as_plain_form_posts(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    alice_client.post(reverse("study-pause"))
    assert StudyTimer.objects.get(learner=alice).paused_at is not None
    alice_client.post(reverse("study-resume"))
    assert StudyTimer.objects.get(learner=alice).paused_at is None


def test_finishing_logs_the_session_with_its_reflection_and_recommendation(
    alice: Learner,
    alice_client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    rec = recommendation(alice)
    alice_client.post(reverse("study"), start_data(recommendation=rec.pk))
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice_client.post(reverse("study-finish"), finish_data())
    assert response.status_code == 302 and response["Location"] == reverse("home")
    session = StudySession.objects.get(learner=alice)
    assert (session.minutes, session.score, session.confidence) == (40, 58, 65)
    assert session.recommendation == rec
    assert session.reflection.monitor == "Lost track after 20 minutes"
    assert not StudyTimer.objects.filter(learner=alice).exists()
    delay.assert_called_once_with(alice.pk, "", "")


def test_an_invalid_finish_keeps_the_timer_and_shows_the_error(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    response = alice_client.post(reverse("study-finish"), finish_data(minutes=0))
    assert response.status_code == 200
    assert "minutes" in response.context["form"].errors
    assert StudyTimer.objects.filter(learner=alice).exists()


def test_finishing_twice_logs_one_session(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("study-finish"), finish_data())
        alice_client.post(reverse("study-finish"), finish_data())
    assert StudySession.objects.filter(learner=alice).count() == 1


def test_the_previous_next_time_plan_is_shown_and_kept_is_recorded(
    alice: Learner, alice_client: Client
) -> None:
    session = StudySessionFactory(learner=alice)
    Reflection.objects.create(session=session, next_time="Test myself first")
    response = alice_client.get(reverse("study"))
    assert "Test myself first" in response.content.decode()
    alice_client.post(reverse("study"), start_data(kept_previous_plan="yes"))
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("study-finish"), finish_data())
    latest = StudySession.objects.filter(learner=alice).order_by("-created_at").first()
    assert latest is not None and latest.reflection.kept_previous_plan is True


def test_discarding_the_timer_logs_nothing(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    alice_client.post(reverse("study-discard"))
    assert not StudyTimer.objects.filter(learner=alice).exists()
    assert not StudySession.objects.filter(learner=alice).exists()


def test_pomodoro_alternates_focus_and_break() -> None:
    assert pomodoro_phase(elapsed_seconds=10 * 60).on_break is False
    phase = pomodoro_phase(elapsed_seconds=27 * 60)
    assert phase.on_break and phase.seconds_left == 3 * 60
    assert pomodoro_phase(elapsed_seconds=31 * 60).round == 2


def test_timer_start_time_becomes_the_sessions_start(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    timer = StudyTimer.objects.get(learner=alice)
    timer.started_at = timezone.now() - timedelta(minutes=50)
    timer.save()
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("study-finish"), finish_data())
    assert StudySession.objects.get(learner=alice).started_at == timer.started_at


@pytest.mark.parametrize("n", [10, 500])
def test_timer_page_query_count_does_not_grow_with_sessions(
    alice: Learner, alice_client: Client, n: int
) -> None:
    StudySessionFactory.create_batch(n, learner=alice)
    alice_client.post(reverse("study"), start_data())
    alice_client.get(reverse("study"))
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(reverse("study"))
    assert len(queries) == QUERIES_RUNNING


@pytest.mark.parametrize("n", [10, 500])
def test_timer_start_page_query_count_does_not_grow_with_sessions(
    alice: Learner, alice_client: Client, n: int
) -> None:
    StudySessionFactory.create_batch(n, learner=alice)
    alice_client.get(reverse("study"))
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(reverse("study"))
    assert len(queries) == QUERIES_START


def started_minutes_ago(learner: Learner, minutes: int) -> StudyTimer:
    timer = StudyTimer.objects.get(learner=learner)
    timer.started_at = timezone.now() - timedelta(minutes=minutes, seconds=10)
    timer.save()
    return timer


def minutes_input(content: str) -> str:
    match = re.search(r'<input type="number" name="minutes"[^>]*>', content)
    assert match is not None
    return match.group(0)


def test_empty_minutes_saves_the_timers_own_minutes(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    started_minutes_ago(alice, 50)
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        response = alice_client.post(reverse("study-finish"), finish_data(minutes=""))
    assert response.status_code == 302
    assert StudySession.objects.get(learner=alice).minutes == 50


def test_empty_minutes_is_no_error_when_another_field_is_refused(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("study"), start_data())
    started_minutes_ago(alice, 50)
    response = alice_client.post(reverse("study-finish"), finish_data(minutes="", score=101))
    form = response.context["form"]
    assert "score" in form.errors and "minutes" not in form.errors
    field = minutes_input(response.content.decode())
    # Left empty, as sent, with the minutes it will save shown, and no longer refilled by the clock.
    assert "value=" not in field and 'placeholder="50"' in field
    assert "data-follows-clock" not in field


def test_minutes_typed_by_the_learner_are_kept_after_an_error(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    started_minutes_ago(alice, 50)
    response = alice_client.post(reverse("study-finish"), finish_data(minutes=35, score=101))
    field = minutes_input(response.content.decode())
    assert 'value="35"' in field and "data-follows-clock" not in field


def test_a_fresh_finish_form_follows_the_clock(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    started_minutes_ago(alice, 50)
    field = minutes_input(alice_client.get(reverse("study")).content.decode())
    assert 'value="50"' in field and 'placeholder="50"' in field and 'data-follows-clock="true"' in field


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 1), (89, 1), (90, 2), (150, 3), (36_000 + 1, 600)])
def test_timer_minutes_round_halves_up_as_the_clock_does(alice: Learner, seconds: int, minutes: int) -> None:
    now = timezone.now()
    timer = StudyTimer(learner=alice, started_at=now - timedelta(seconds=seconds))
    assert timer_minutes(timer=timer, now=now) == minutes


def test_the_finish_form_submitted_twice_saves_once_and_lands_on_the_session(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("study"), start_data())
    data = finish_data()
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("study-finish"), data, follow=True)
        response = alice_client.post(reverse("study-finish"), data, follow=True)
    session = StudySession.objects.get(learner=alice)
    assert response.redirect_chain[-1][0] == reverse("session-detail", args=[session.pk])
    assert "This session had already been saved; here it is." in response.content.decode()


def test_an_old_finish_form_sent_again_leaves_the_next_timer_running(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("study"), start_data(subject="History"))
    data = finish_data()
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("study-finish"), data)
        alice_client.post(reverse("study"), start_data(subject="Geography"))
        alice_client.post(reverse("study-finish"), data)
    assert StudyTimer.objects.get(learner=alice).subject == "Geography"
    assert list(StudySession.objects.filter(learner=alice).values_list("subject", flat=True)) == ["History"]


def test_a_finish_form_without_its_key_keeps_the_timer(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("study"), start_data())
    data = finish_data()
    del data["submission_key"]
    response = alice_client.post(reverse("study-finish"), data)
    assert response.status_code == 200
    assert "This page was out of date, so nothing was saved." in response.content.decode()
    assert StudyTimer.objects.filter(learner=alice).exists()
    assert not StudySession.objects.filter(learner=alice).exists()


def test_a_reflection_over_its_limit_keeps_the_timer_and_says_so(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("study"), start_data())
    response = alice_client.post(reverse("study-finish"), finish_data(evaluate="x" * 2001))
    assert response.context["form"].errors["evaluate"] == [
        "Shorten this to 2000 characters or fewer; it has 2001."
    ]
    assert StudyTimer.objects.filter(learner=alice).exists()


@pytest.mark.django_db(transaction=True)
def test_finishing_when_the_broker_is_down_says_the_recommendation_will_follow(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("study"), start_data())
    with mock.patch(
        "learners.tasks.recommendation_refresh_task.delay", side_effect=OperationalError("refused")
    ):
        response = alice_client.post(reverse("study-finish"), finish_data(), follow=True)
    assert StudySession.objects.filter(learner=alice).count() == 1
    assert "recommendation will follow" in response.content.decode()
