"""The card's status line says what is really happening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner, Recommendation
from learners.selectors.recommendations import RecommendationStatus, recommendation_status
from tests.factories import StudySessionFactory
from tests.learners.test_dashboard import recommendation

pytestmark = pytest.mark.django_db


def status(learner: Learner, latest: Recommendation | None, seconds: float = 0) -> RecommendationStatus:
    learner.refresh_from_db()
    return recommendation_status(
        learner=learner, latest=latest, now=timezone.now() + timedelta(seconds=seconds)
    )


def asked(learner: Learner) -> None:
    Learner.objects.filter(pk=learner.pk).update(refresh_requested_at=timezone.now())


def test_a_recommendation_newer_than_every_session_is_ready(alice: Learner) -> None:
    StudySessionFactory(learner=alice)
    assert status(alice, recommendation(alice)) == RecommendationStatus.READY


def test_after_a_new_session_it_is_being_updated(alice: Learner) -> None:
    latest = recommendation(alice)
    StudySessionFactory(learner=alice)
    asked(alice)
    assert status(alice, latest) == RecommendationStatus.NEW_SESSIONS


def test_a_request_for_another_situation_is_being_worked_out(alice: Learner) -> None:
    latest = recommendation(alice)
    asked(alice)
    assert status(alice, latest) == RecommendationStatus.ASKED
    assert status(alice, latest, seconds=300) == RecommendationStatus.READY  # nothing new to write


def test_no_answer_from_the_worker_is_said_as_such(alice: Learner) -> None:
    latest = recommendation(alice)
    StudySessionFactory(learner=alice)
    asked(alice)
    assert status(alice, latest, seconds=45) == RecommendationStatus.WAITING


def test_a_language_switch_leaves_the_recommendation_ready(alice: Learner, alice_client: Client) -> None:
    latest = recommendation(alice)
    alice_client.post(reverse("language"), {"language": "zh-hans", "next": "/"})
    assert status(alice, latest) == RecommendationStatus.READY
    assert alice_client.get(reverse("recommendation-status")).json()["status"] == "ready"
