from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from coach.models import Strategy
from learners.models import Learner, Reflection, StudySession
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subject": "Organic chemistry",
        "task_kind": "understand",
        "strategy": Strategy.objects.get(slug="self-explanation").pk,
        "started_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "minutes": 45,
        "difficulty": 4,
        "confidence": 70,
        "score": 55,
        "focus": 3,
        "notes": "Chapter 3",
        "plan": "Mechanisms of chapter 3",
        "evaluate": "Drawing the mechanisms",
        "next_time": "Test myself before rereading",
        # A page's one-time key: each call is another page.
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_learner_logs_a_session_with_a_reflection(
    alice: Learner,
    alice_client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice_client.post(reverse("session-new"), form_data())
    session = StudySession.objects.get(learner=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("session-detail", args=[session.pk])
    assert (session.subject, session.minutes, session.score) == ("Organic chemistry", 45, 55)
    assert session.reflection.next_time == "Test myself before rereading"
    delay.assert_called_once_with(alice.pk, "", "")


def test_score_may_be_filled_in_later(alice: Learner, alice_client: Client) -> None:
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(reverse("session-new"), form_data(score=""))
    assert StudySession.objects.get(learner=alice).score is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes", 0),
        ("minutes", 601),
        ("difficulty", 6),
        ("confidence", 101),
        ("score", -1),
        ("focus", 0),
        ("task_kind", "nap"),
        ("subject", ""),
    ],
)
def test_out_of_range_input_is_refused_next_to_the_field(
    alice_client: Client, field: str, value: object
) -> None:
    response = alice_client.post(reverse("session-new"), form_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not StudySession.objects.exists()


def test_refused_form_keeps_the_learners_other_input(alice_client: Client) -> None:
    response = alice_client.post(reverse("session-new"), form_data(minutes=0))
    content = response.content.decode()
    assert 'value="Organic chemistry"' in content
    assert "Drawing the mechanisms" in content


def test_start_time_in_the_future_is_refused(alice_client: Client) -> None:
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = alice_client.post(reverse("session-new"), form_data(started_at=tomorrow))
    assert "future" in str(response.context["form"].errors["started_at"])


def test_database_refuses_out_of_range_minutes_even_without_the_form(alice: Learner) -> None:
    session = StudySessionFactory.build(learner=alice, minutes=601)
    with pytest.raises(IntegrityError), transaction.atomic():
        session.save()


@pytest.mark.django_db(transaction=True)
def test_session_is_saved_when_the_broker_is_down(alice: Learner, alice_client: Client) -> None:
    # A real commit, as in production: the enqueue runs right after the session is stored.
    with mock.patch(
        "learners.tasks.recommendation_refresh_task.delay", side_effect=OperationalError("refused")
    ):
        response = alice_client.post(reverse("session-new"), form_data(), follow=True)
    assert StudySession.objects.filter(learner=alice).count() == 1
    assert "recommendation will follow" in response.content.decode()


def test_learner_edits_their_session(alice: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=alice, score=None)
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        alice_client.post(
            reverse("session-edit", args=[session.pk]),
            form_data(score=80, plan="", evaluate="", next_time=""),
        )
    session.refresh_from_db()
    assert session.score == 80
    assert not Reflection.objects.filter(session=session).exists()


def test_learner_deletes_their_session(alice: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=alice)
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        response = alice_client.post(reverse("session-delete", args=[session.pk]))
    assert response.status_code == 302
    assert not StudySession.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize("name", ["session-detail", "session-edit", "session-delete"])
def test_learner_cannot_see_another_learners_session(bob: Learner, alice_client: Client, name: str) -> None:
    session = StudySessionFactory(learner=bob, subject="Bob's secret subject")
    response = alice_client.get(reverse(name, args=[session.pk]))
    assert response.status_code == 404
    assert b"Bob's secret subject" not in response.content


def test_learner_cannot_delete_another_learners_session(bob: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=bob)
    assert alice_client.post(reverse("session-delete", args=[session.pk])).status_code == 404
    assert StudySession.objects.filter(pk=session.pk).exists()


def test_session_list_shows_only_the_learners_own_sessions(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    StudySessionFactory(learner=alice, subject="Alice algebra")
    StudySessionFactory(learner=bob, subject="Bob botany")
    content = alice_client.get(reverse("session-list")).content.decode()
    assert "Alice algebra" in content
    assert "Bob botany" not in content


def test_educator_of_another_cohort_cannot_see_a_learners_session(
    alice: Learner, charlie_client: Client
) -> None:
    session = StudySessionFactory(learner=alice)
    assert charlie_client.get(reverse("session-detail", args=[session.pk])).status_code == 404


def test_anonymous_visitor_is_sent_to_log_in() -> None:
    response = Client().get(reverse("session-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", ["session-list", "home"])
def test_page_query_count_does_not_grow_with_sessions(
    alice: Learner,
    alice_client: Client,
    django_assert_max_num_queries,
    url_name: str,  # type: ignore[no-untyped-def]
) -> None:
    StudySessionFactory.create_batch(10, learner=alice)
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay"),
        django_assert_max_num_queries(100) as few,
    ):
        alice_client.get(reverse(url_name))
    StudySessionFactory.create_batch(490, learner=alice)
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay"),
        django_assert_max_num_queries(len(few)),
    ):
        alice_client.get(reverse(url_name))


def test_previous_next_time_plan_is_offered_at_the_next_session(alice: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=alice)
    Reflection.objects.create(session=session, next_time="Start with a practice quiz")
    assert "Start with a practice quiz" in alice_client.get(reverse("session-new")).content.decode()
