"""A learner's settings page and deleting an account with all its data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from coach.models import Strategy
from learners.models import (
    Cohort,
    CohortMembership,
    Learner,
    Recommendation,
    Reflection,
    SelfReport,
    StudySession,
)
from tests.conftest import PASSWORD
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_settings_page_lists_the_learners_cohorts_and_sharing(alice: Learner, alice_client: Client) -> None:
    CohortMembership.objects.create(cohort=CohortFactory(name="Biology 101"), learner=alice)
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert "Biology 101" in page
    assert "not your session notes or the text of your reflections" in page


def test_wrong_password_keeps_the_account(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(reverse("account-delete"), {"password": "wrong"})
    assert response.status_code == 200
    assert "not your password" in response.content.decode()
    assert User.objects.filter(username="alice").exists()


def test_deleting_the_account_removes_all_the_learners_data(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    session = StudySessionFactory(learner=alice)
    Reflection.objects.create(session=session, what_worked="x")
    SelfReport.objects.create(learner=alice, answers={}, scores={})
    Recommendation.objects.create(
        learner=alice,
        strategy=Strategy.objects.get(slug="rereading"),
        expected_score=50,
        score_std=5,
        reason="",
        ranking=[],
        source="evidence",
        basis="x",
    )
    CohortMembership.objects.create(cohort=CohortFactory(), learner=alice)
    StudySessionFactory(learner=bob)

    response = alice_client.post(reverse("account-delete"), {"password": PASSWORD})

    assert response["Location"] == reverse("login")
    assert not User.objects.filter(username="alice").exists()
    assert not Learner.objects.filter(pk=alice.pk).exists()
    assert not StudySession.objects.filter(learner_id=alice.pk).exists()
    assert not Reflection.objects.exists()
    assert not SelfReport.objects.exists()
    assert not Recommendation.objects.exists()
    assert not CohortMembership.objects.exists()
    assert StudySession.objects.filter(learner=bob).count() == 1
    assert alice_client.get(reverse("account-settings")).status_code == 302  # logged out


def test_deleting_the_account_needs_the_csrf_token(alice: Learner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.post(reverse("account-delete"), {"password": PASSWORD}).status_code == 403
    assert User.objects.filter(username="alice").exists()


def test_deleting_an_educator_hands_their_cohort_to_a_co_teacher(charlie: User) -> None:
    educators = Group.objects.get(name="Educators")
    dana = UserFactory(username="dana")
    dana.groups.add(educators)
    LearnerFactory(user=dana)
    cohort = Cohort.objects.get(owner=charlie)
    cohort.co_teachers.add(dana)
    solo = CohortFactory(owner=charlie, name="Solo")
    client = Client()
    client.force_login(charlie)

    client.post(reverse("account-delete"), {"password": PASSWORD})

    cohort.refresh_from_db()
    assert cohort.owner == dana
    assert not cohort.co_teachers.exists()
    assert not Cohort.objects.filter(pk=solo.pk).exists()


def test_settings_need_a_login() -> None:
    response = Client().get(reverse("account-settings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
