"""The admin for the learners app: lists with computed columns and the cohort export action."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from learners.models import CohortMembership, Learner
from tests.factories import CohortFactory, StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "learner",
        "cohort",
        "cohortmembership",
        "studysession",
        "reflection",
        "selfreport",
        "studytimer",
        "plannedsession",
        "remindersent",
    ],
)
def test_every_learners_model_lists_in_the_admin(staff_client: Client, alice: Learner, model: str) -> None:
    StudySessionFactory(learner=alice)
    assert staff_client.get(reverse(f"admin:learners_{model}_changelist")).status_code == 200


def test_admin_is_closed_to_educators_who_are_not_staff(charlie_client: Client) -> None:
    assert charlie_client.get(reverse("admin:learners_cohort_changelist")).status_code == 302


def test_cohort_export_action_streams_the_selected_cohorts_sessions(
    staff_client: Client, alice: Learner, bob: Learner, charlie: User
) -> None:
    chosen, other = CohortFactory(name="Chosen"), CohortFactory(name="Other")
    CohortMembership.objects.create(cohort=chosen, learner=alice)
    CohortMembership.objects.create(cohort=other, learner=bob)
    StudySessionFactory(learner=alice, subject="Alice's")
    StudySessionFactory(learner=bob, subject="Bob's")
    response = staff_client.post(
        reverse("admin:learners_cohort_changelist"),
        {"action": "export_sessions", "_selected_action": [chosen.pk]},
    )
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["cohort"], r["learner"], r["subject"]) for r in rows] == [("Chosen", "alice", "Alice's")]
