"""Dead ends in the app's own layout, in the reader's language; logins land by role."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory, educator

pytestmark = pytest.mark.django_db


def test_a_learner_opening_the_educator_panel_gets_a_page_with_navigation(client: Client) -> None:
    client.force_login(UserFactory(username="lea"))
    response = client.get("/educator/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not open to you" in page
    assert 'href="/sessions/"' in page  # the app's navigation, not a bare "403 Forbidden"


@override_settings(DEBUG=False)
def test_a_missing_page_is_the_apps_own_in_chinese_too(client: Client) -> None:
    client.force_login(UserFactory(username="lea"))
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert "找不到页面" in response.content.decode()


def test_an_expired_form_says_nothing_was_saved(client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory(username="lea"))
    response = csrf_client.post(reverse("session-new"), {"subject": "Biology"})
    assert response.status_code == 403
    assert "Nothing was saved" in response.content.decode()


@override_settings(DEBUG=False)
def test_a_server_error_shows_the_apps_page_without_needing_a_request(client: Client) -> None:
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong" in page and 'href="/"' in page


@pytest.mark.parametrize(("is_educator", "landing"), [(True, "/educator/"), (False, "/")])
def test_login_lands_educators_on_their_panel(client: Client, is_educator: bool, landing: str) -> None:
    user = educator("teo") if is_educator else UserFactory(username="lea")
    user.set_password("a-long-unusual-passphrase-42")
    user.save()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "a-long-unusual-passphrase-42"}, follow=True
    )
    assert response.redirect_chain[-1][0] == landing


def test_login_still_follows_next(client: Client) -> None:
    user = educator("teo")
    user.set_password("a-long-unusual-passphrase-42")
    user.save()
    response = client.post(
        reverse("login") + "?next=/sessions/",
        {"username": "teo", "password": "a-long-unusual-passphrase-42", "next": "/sessions/"},
    )
    assert response["Location"] == "/sessions/"
