"""Guessing limits: logins lock out a user name from an address (django-axes); join codes likewise."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from learners.models import CohortMembership, Learner
from learners.throttle import JOIN_CODE_LIMIT_PER_ADDRESS, JOIN_CODE_LIMIT_PER_LEARNER
from tests.conftest import PASSWORD
from tests.factories import CohortFactory, LearnerFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 5


def log_in(client: Client, password: str, username: str = "alice", address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, times: int, **kwargs: str) -> list[int]:
    return [log_in(client, "wrong password", **kwargs).status_code for _ in range(times)]


def test_correct_password_logs_in(alice: Learner) -> None:
    response = log_in(Client(), PASSWORD)
    assert response.status_code == 302


def test_repeated_failures_lock_the_user_name_out_from_that_address(alice: Learner) -> None:
    client = Client()
    assert fail(client, LIMIT) == [200] * (LIMIT - 1) + [429]
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed attempts to log in as this user from your address" in page
    assert "15 minutes" in page
    assert 'name="username"' in page  # the app's own login page, not a bare error
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock(alice: Learner) -> None:
    client = Client()
    fail(client, LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lockout_is_per_user_name_and_address(alice: Learner, bob: Learner) -> None:
    client = Client()
    fail(client, LIMIT)
    assert log_in(Client(), PASSWORD, address="10.0.0.2").status_code == 302
    assert log_in(Client(), PASSWORD, username="bob").status_code == 302


def test_administrator_unlocks_with_axes_reset(alice: Learner) -> None:
    client = Client()
    fail(client, LIMIT)
    assert log_in(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "alice")
    assert log_in(client, PASSWORD).status_code == 302


def test_administrator_sees_the_attempts_in_the_admin(alice: Learner) -> None:
    fail(Client(), LIMIT)
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    page = staff.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "alice" in page


def join(client: Client, code: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(reverse("join"), {"code": code}, REMOTE_ADDR=address)


def test_wrong_join_codes_are_throttled_per_learner(alice: Learner, alice_client: Client) -> None:
    cohort = CohortFactory(name="Biology 101")
    for n in range(JOIN_CODE_LIMIT_PER_LEARNER):
        assert join(alice_client, f"WRONG{n}").status_code == 200
    response = join(alice_client, cohort.join_code or "")
    assert response.status_code == 429
    assert "Too many wrong join codes" in response.content.decode()
    assert not CohortMembership.objects.exists()


def test_a_right_join_code_below_the_limit_still_works(alice: Learner, alice_client: Client) -> None:
    cohort = CohortFactory(name="Biology 101")
    for n in range(JOIN_CODE_LIMIT_PER_LEARNER - 1):
        join(alice_client, f"WRONG{n}")
    assert join(alice_client, cohort.join_code or "").status_code == 302
    assert CohortMembership.objects.filter(learner=alice, cohort=cohort).exists()


def test_join_code_throttle_of_one_learner_leaves_another_alone(alice_client: Client) -> None:
    cohort = CohortFactory(name="Biology 101")
    for n in range(JOIN_CODE_LIMIT_PER_LEARNER):
        join(alice_client, f"WRONG{n}")
    assert join(learner_client("dave"), cohort.join_code or "", address="10.0.0.9").status_code == 302


def test_join_codes_are_throttled_per_address_across_accounts() -> None:
    cohort = CohortFactory(name="Biology 101")
    failures = iter(range(JOIN_CODE_LIMIT_PER_ADDRESS))
    for n in range(JOIN_CODE_LIMIT_PER_ADDRESS // (JOIN_CODE_LIMIT_PER_LEARNER - 1) + 1):
        client = learner_client(f"guesser{n}")
        for _, attempt in zip(range(JOIN_CODE_LIMIT_PER_LEARNER - 1), failures, strict=False):
            assert join(client, f"WRONG{attempt}").status_code == 200
    newcomer = learner_client("newcomer")
    assert join(newcomer, cohort.join_code or "").status_code == 429
    assert join(newcomer, cohort.join_code or "", address="10.0.0.9").status_code == 302


def learner_client(username: str) -> Client:
    client = Client()
    client.force_login(LearnerFactory(user=UserFactory(username=username)).user)
    return client
