from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from learners.models import Learner

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-unusual-passphrase-42"


def test_signing_up_creates_the_learner_profile_and_logs_in() -> None:
    client = Client()
    response = client.post(
        reverse("signup"),
        {"username": "dana", "email": "dana@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert Learner.objects.filter(user__username="dana", user__email="dana@example.com").exists()
    assert client.get(reverse("session-list")).status_code == 200


def test_sign_up_with_mismatched_passwords_is_refused_and_keeps_the_username() -> None:
    response = Client().post(reverse("signup"), {"username": "dana", "password1": PASSWORD, "password2": "x"})
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert 'value="dana"' in response.content.decode()
    assert not get_user_model().objects.filter(username="dana").exists()


def test_learner_logs_in_and_out(alice: Learner) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("session-list")).status_code == 302


def test_learner_changes_password(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": PASSWORD,
            "new_password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.check_password(PASSWORD)


def test_superuser_without_profile_gets_one_on_first_visit() -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("session-list")).status_code == 200
    assert Learner.objects.filter(user=admin).exists()
