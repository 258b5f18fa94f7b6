"""E-mail at signup, its confirmation link, login by address, changing it, and password reset."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from learners.models import Learner
from learners.services.email_address import (
    VERIFICATION_SALT,
    email_verification_send,
    email_verification_token,
    password_reset_send,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-unusual-passphrase-42"
BASE = "http://testserver/"


def _signup(client: Client, email: str, username: str = "dana") -> object:
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def _link(message: mail.EmailMessage) -> str:
    found = re.search(r"http://testserver(/\S+)", str(message.body))
    assert found, message.body
    return found.group(1)


def _with_email(learner: Learner, email: str) -> Learner:
    learner.user.email = email
    learner.user.save(update_fields=["email"])
    return learner


def test_signup_without_an_email_is_refused() -> None:
    response = Client().post(
        reverse("signup"), {"username": "dana", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not get_user_model().objects.filter(username="dana").exists()


def test_signup_with_an_address_in_use_in_another_case_is_refused(alice: Learner) -> None:
    _with_email(alice, "alice@example.com")
    response = _signup(Client(), "Alice@Example.COM")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "Another account uses this e-mail address." in response.content.decode()  # type: ignore[attr-defined]
    assert not get_user_model().objects.filter(username="dana").exists()


def test_signup_queues_the_confirmation_mail_after_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with (
        mock.patch("learners.tasks.email_verification_send_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        _signup(Client(), "dana@example.com")
    user = get_user_model().objects.get(username="dana")
    delay.assert_called_once_with(user.pk, BASE, "en")


def test_signup_mails_from_the_web_process_when_the_broker_is_down(
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    with (
        mock.patch("learners.tasks.email_verification_send_task.delay", side_effect=OSError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _signup(Client(), "dana@example.com")
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]


def test_following_the_link_confirms_the_address_and_ends_the_banner(
    alice: Learner, alice_client: Client
) -> None:
    _with_email(alice, "alice@example.com")
    assert "Confirm your e-mail address" in alice_client.get(reverse("account-settings")).content.decode()
    assert email_verification_send(user_id=alice.user_id, base_url=BASE, language="en")
    response = alice_client.get(_link(mail.outbox[0]))
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email_verified_at is not None
    assert "open the link we sent" not in alice_client.get(reverse("account-settings")).content.decode()


def test_a_tampered_link_is_refused(alice: Learner) -> None:
    _with_email(alice, "alice@example.com")
    token = email_verification_token(user=alice.user)
    response = Client().get(reverse("email-verify", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.email_verified_at is None


def test_a_link_for_another_user_id_signed_without_the_key_is_refused(alice: Learner, bob: Learner) -> None:
    _with_email(bob, "bob@example.com")
    forged = signing.TimestampSigner(key="guessed", salt=VERIFICATION_SALT).sign_object(
        {"user": bob.user_id, "email": "bob@example.com"}
    )
    assert Client().get(reverse("email-verify", args=[forged])).status_code == 400


def test_a_link_for_a_former_address_does_not_confirm_the_new_one(
    alice: Learner, alice_client: Client
) -> None:
    _with_email(alice, "old@example.com")
    old_token = email_verification_token(user=alice.user)
    alice_client.post(reverse("email-change"), {"email": "new@example.com"})
    assert Client().get(reverse("email-verify", args=[old_token])).status_code == 400
    alice.refresh_from_db()
    assert alice.user.email == "new@example.com"
    assert alice.email_verified_at is None


def test_changing_the_address_clears_its_confirmation(alice: Learner, alice_client: Client) -> None:
    _with_email(alice, "old@example.com")
    Learner.objects.filter(pk=alice.pk).update(email_verified_at="2026-01-01T00:00Z")
    with mock.patch("learners.tasks.email_verification_send_task.delay") as delay:
        response = alice_client.post(reverse("email-change"), {"email": "New@Example.com"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.user.email == "New@example.com"
    assert alice.email_verified_at is None
    assert delay.call_count == 0  # queued only once the request's transaction commits


def test_changing_to_an_address_someone_uses_is_refused(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    _with_email(bob, "bob@example.com")
    response = alice_client.post(reverse("email-change"), {"email": "BOB@example.com"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.user.email == ""


def test_a_learner_without_an_email_is_asked_to_add_one(alice: Learner, alice_client: Client) -> None:
    content = alice_client.get(reverse("account-settings")).content.decode()
    assert "Add an e-mail address" in content
    assert "open the link we sent" not in content


def test_resend_sends_another_link(
    alice: Learner, alice_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _with_email(alice, "alice@example.com")
    with (
        mock.patch("learners.tasks.email_verification_send_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice_client.post(reverse("email-resend"), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account-settings")
    delay.assert_called_once_with(alice.user_id, BASE, "en")


@pytest.mark.parametrize("login", ["alice@example.com", "ALICE@example.com", "alice"])
def test_learner_logs_in_with_username_or_email(alice: Learner, login: str) -> None:
    _with_email(alice, "alice@example.com")
    client = Client()
    response = client.post(reverse("login"), {"username": login, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("session-list")).status_code == 200


def test_login_by_email_with_a_wrong_password_or_inactive_user_fails(alice: Learner) -> None:
    _with_email(alice, "alice@example.com")
    assert (
        Client().post(reverse("login"), {"username": "alice@example.com", "password": "x"}).status_code == 200
    )
    get_user_model().objects.filter(pk=alice.user_id).update(is_active=False)
    response = Client().post(reverse("login"), {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 200


def test_login_page_links_to_password_reset() -> None:
    assert reverse("password_reset") in Client().get(reverse("login")).content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_password_reset_pages_use_the_apps_look(language: str) -> None:
    client = Client(headers={"accept-language": language})
    content = client.get(reverse("password_reset")).content.decode()
    assert 'class="brand"' in content
    assert "Django administration" not in content
    assert f'<html lang="{language}"' in content


def test_reset_for_an_unknown_address_answers_as_for_a_known_one(
    alice: Learner, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _with_email(alice, "alice@example.com")
    answers = []
    with (
        mock.patch("learners.tasks.password_reset_send_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for email in ["alice@example.com", "nobody@example.com"]:
            response = Client().post(reverse("password_reset"), {"email": email}, follow=True)
            page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
            answers.append((response.status_code, response.redirect_chain, page))
    assert answers[0] == answers[1]
    delay.assert_called_once_with(alice.user_id, BASE, "en")


def test_the_mailed_reset_link_sets_a_new_password_once(alice: Learner) -> None:
    _with_email(alice, "alice@example.com")
    assert password_reset_send(user_id=alice.user_id, base_url=BASE, language="en")
    client = Client()
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")
    alice.user.refresh_from_db()
    assert alice.user.check_password(NEW_PASSWORD)
    again = Client().get(_link(mail.outbox[0]), follow=True)
    assert not again.context["validlink"]


def test_mail_follows_the_learners_language(alice: Learner) -> None:
    _with_email(alice, "alice@example.com")
    password_reset_send(user_id=alice.user_id, base_url=BASE, language="zh-hans")
    assert "Metacoach" in mail.outbox[0].subject


def test_the_export_has_the_address_and_its_confirmation(alice: Learner, alice_client: Client) -> None:
    _with_email(alice, "alice@example.com")
    body = b"".join(alice_client.get(reverse("account-export-json")).streaming_content).decode()  # type: ignore[attr-defined]
    assert '"email": "alice@example.com"' in body
    assert '"email_verified_at": null' in body
