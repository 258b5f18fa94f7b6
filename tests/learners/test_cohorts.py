"""Cohorts: creating them, join codes, learners joining and leaving, co-teachers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners.models import Cohort, CohortMembership, Learner
from learners.services import cohorts as services
from tests.factories import educator

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana() -> User:
    return educator("dana")


@pytest.fixture
def cohort(dana: User) -> Cohort:
    return services.cohort_create(owner=dana, name="Biology 101")


def test_new_cohort_gets_a_random_join_code(cohort: Cohort, dana: User) -> None:
    other = services.cohort_create(owner=dana, name="Chemistry")
    assert cohort.join_code and len(cohort.join_code) == services.CODE_LENGTH
    assert cohort.join_code != other.join_code
    assert set(cohort.join_code) <= set(services.CODE_ALPHABET)


def test_educator_creates_a_cohort_from_the_panel(dana: User) -> None:
    client = Client()
    client.force_login(dana)
    response = client.post(reverse("educator-home"), {"name": "Physics"})
    cohort = Cohort.objects.get(name="Physics")
    assert response["Location"] == reverse("educator-cohort", args=[cohort.pk])
    assert cohort.owner == dana and cohort.join_code


def test_learner_joins_with_the_code_typed_loosely(cohort: Cohort, alice: Learner) -> None:
    assert cohort.join_code
    loose = f" {cohort.join_code[:4].lower()}-{cohort.join_code[4:].lower()} "
    membership = services.cohort_join(learner=alice, code=loose, share_reflections=False)
    assert membership.cohort == cohort and membership.share_reflections is False


def test_joining_twice_keeps_one_membership(cohort: Cohort, alice: Learner) -> None:
    services.cohort_join(learner=alice, code=cohort.join_code or "", share_reflections=False)
    services.cohort_join(learner=alice, code=cohort.join_code or "", share_reflections=True)
    assert CohortMembership.objects.get(learner=alice).share_reflections is True


def test_revoked_code_no_longer_lets_anyone_join(cohort: Cohort, alice: Learner) -> None:
    code = cohort.join_code or ""
    services.join_code_revoke(cohort=cohort)
    with pytest.raises(ValidationError):
        services.cohort_join(learner=alice, code=code, share_reflections=False)


def test_renewed_code_replaces_the_old_one(cohort: Cohort, alice: Learner) -> None:
    old = cohort.join_code or ""
    services.join_code_renew(cohort=cohort, expires_at=None)
    with pytest.raises(ValidationError):
        services.cohort_join(learner=alice, code=old, share_reflections=False)
    services.cohort_join(learner=alice, code=cohort.join_code or "", share_reflections=False)


def test_expired_code_is_refused(cohort: Cohort, alice: Learner) -> None:
    services.join_code_renew(cohort=cohort, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="expired"):
        services.cohort_join(learner=alice, code=cohort.join_code or "", share_reflections=False)


def test_code_before_its_expiry_works(cohort: Cohort, alice: Learner) -> None:
    services.join_code_renew(cohort=cohort, expires_at=timezone.now() + timedelta(days=1))
    services.cohort_join(learner=alice, code=cohort.join_code or "", share_reflections=False)


def test_archiving_revokes_the_code_and_refuses_new_codes(cohort: Cohort) -> None:
    services.cohort_set_archived(cohort=cohort, archived=True)
    assert cohort.join_code is None
    with pytest.raises(ValidationError):
        services.join_code_renew(cohort=cohort, expires_at=None)


def test_join_code_form_sets_an_expiry(cohort: Cohort, dana: User) -> None:
    client = Client()
    client.force_login(dana)
    client.post(reverse("educator-join-code-renew", args=[cohort.pk]), {"expires_in_days": "7"})
    cohort.refresh_from_db()
    assert cohort.join_code_expires_at is not None
    assert timedelta(days=6) < cohort.join_code_expires_at - timezone.now() <= timedelta(days=7)


def test_join_link_tells_the_learner_what_is_shared_before_joining(
    cohort: Cohort, alice_client: Client
) -> None:
    response = alice_client.get(reverse("join-code", args=[cohort.join_code]))
    page = response.content.decode()
    assert "Biology 101" in page
    assert "will see each of your study sessions" in page
    assert not CohortMembership.objects.exists()


def test_learner_joins_through_the_form_choosing_to_share(
    cohort: Cohort, alice: Learner, alice_client: Client
) -> None:
    response = alice_client.post(reverse("join"), {"code": cohort.join_code, "share_reflections": "on"})
    assert response.status_code == 302
    assert CohortMembership.objects.get(learner=alice, cohort=cohort).share_reflections is True


def test_wrong_code_shows_an_error_and_joins_nothing(alice_client: Client) -> None:
    response = alice_client.post(reverse("join"), {"code": "NOPE1234"})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert not CohortMembership.objects.exists()


def test_joining_needs_the_csrf_token(cohort: Cohort, alice: Learner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.post(reverse("join"), {"code": cohort.join_code}).status_code == 403
    assert not CohortMembership.objects.exists()


def test_learner_leaves_a_cohort(cohort: Cohort, alice: Learner, alice_client: Client) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    alice_client.post(reverse("membership-leave", args=[cohort.pk]))
    assert not CohortMembership.objects.exists()


def test_learner_turns_reflection_sharing_on_and_off(
    cohort: Cohort, alice: Learner, alice_client: Client
) -> None:
    membership = CohortMembership.objects.create(cohort=cohort, learner=alice)
    alice_client.post(reverse("membership-sharing", args=[cohort.pk]), {"share_reflections": "on"})
    membership.refresh_from_db()
    assert membership.share_reflections is True
    alice_client.post(reverse("membership-sharing", args=[cohort.pk]), {})
    membership.refresh_from_db()
    assert membership.share_reflections is False


def test_learner_cannot_leave_or_change_another_learners_membership(
    cohort: Cohort, bob: Learner, alice_client: Client
) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=bob, share_reflections=False)
    assert alice_client.post(reverse("membership-leave", args=[cohort.pk])).status_code == 404
    sharing = alice_client.post(reverse("membership-sharing", args=[cohort.pk]), {"share_reflections": "on"})
    assert sharing.status_code == 404
    assert CohortMembership.objects.get(learner=bob).share_reflections is False


def test_co_teacher_must_be_an_educator(cohort: Cohort, bob: Learner) -> None:
    with pytest.raises(ValidationError):
        services.cohort_add_co_teacher(cohort=cohort, username="bob")
    assert not cohort.co_teachers.exists()


def test_owner_adds_an_educator_as_co_teacher(cohort: Cohort, charlie: User) -> None:
    services.cohort_add_co_teacher(cohort=cohort, username="charlie")
    assert list(cohort.co_teachers.all()) == [charlie]


def test_make_educator_command_grants_and_removes_the_role(alice: Learner) -> None:
    call_command("make_educator", "alice")
    assert alice.user.groups.filter(name="Educators").exists()
    call_command("make_educator", "alice", "--remove")
    assert not alice.user.groups.filter(name="Educators").exists()
