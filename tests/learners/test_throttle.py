"""Guessing limits: logins lock out a user name from an address (django-axes); join codes likewise."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from learners.models import CohortMembership, Learner
from learners.throttle import JOIN_CODE_LIMIT_PER_ADDRESS, JOIN_CODE_LIMIT_PER_LEARNER, client_address
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


def behind_proxy(client: Client, password: str, forwarded_for: str):  # type: ignore[no-untyped-def]
    """A login through a reverse proxy at 10.9.9.9 that appends the client's address."""
    return client.post(
        reverse("login"),
        {"username": "alice", "password": password},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_without_a_proxy_setting_a_forged_forwarded_for_does_not_escape_the_lockout(alice: Learner) -> None:
    client = Client()
    statuses = [behind_proxy(client, "wrong", f"198.51.100.{i}").status_code for i in range(LIMIT)]
    assert statuses[-1] == 429  # one address, 10.9.9.9, whatever the header says


@override_settings(PROXY_COUNT=1)
def test_behind_a_proxy_each_client_is_locked_out_on_its_own_address(alice: Learner) -> None:
    client = Client()
    # What the client puts first is ignored: the proxy's entry, the last, is its address.
    statuses = [
        behind_proxy(client, "wrong", f"198.51.100.{i}, 203.0.113.5").status_code for i in range(LIMIT)
    ]
    assert statuses[-1] == 429
    assert behind_proxy(Client(), PASSWORD, "203.0.113.5").status_code == 429
    # Another client behind the same proxy still logs in.
    assert behind_proxy(Client(), PASSWORD, "203.0.113.77").status_code == 302


@override_settings(PROXY_COUNT=2)
def test_behind_two_proxies_the_address_is_the_second_entry_from_the_right(alice: Learner) -> None:
    client = Client()
    # client -> CDN (appends the client) -> load balancer (appends the CDN) -> app
    for i in range(LIMIT):
        behind_proxy(client, "wrong", f"198.51.100.{i}, 203.0.113.5, 192.0.2.10")
    assert behind_proxy(Client(), PASSWORD, "203.0.113.5, 192.0.2.10").status_code == 429
    assert behind_proxy(Client(), PASSWORD, "203.0.113.6, 192.0.2.10").status_code == 302


def test_join_codes_are_throttled_on_the_same_address_as_logins() -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_address(request) == "10.9.9.9"
    with override_settings(PROXY_COUNT=1):
        assert client_address(request) == "203.0.113.5"
