"""Personal access tokens: made and revoked in settings, shown once, stored hashed, scoped."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners.models import ApiToken, Learner
from learners.services.api_tokens import api_token_create, api_token_revoke
from tests.factories import StudySessionFactory, UserFactory
from tests.learners.api.conftest import Api
from tests.learners.api.test_sessions_api import session_body

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(alice_client: Client, alice: Learner) -> None:
    response = alice_client.post(
        reverse("api-token-create"), {"name": "Anki sync", "scope": "write"}, follow=True
    )
    secret = response.context["api_tokens"].new_secret
    assert secret.startswith("mc_") and len(secret) > 40
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=alice.user)
    assert (token.name, token.scope, token.prefix) == ("Anki sync", "write", secret[:10])
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.key_hash, token.prefix}
    again = alice_client.get(reverse("account-settings")).content.decode()
    assert secret not in again
    assert "Anki sync" in again


def test_a_token_without_a_name_is_not_made(alice_client: Client, alice: Learner) -> None:
    alice_client.post(reverse("api-token-create"), {"name": "  ", "scope": "read"})
    assert not ApiToken.objects.exists()


def test_the_settings_page_lists_only_the_learners_working_tokens(
    alice_client: Client, alice: Learner, bob: Learner
) -> None:
    api_token_create(user=bob.user, name="bob's script", scope="read")
    api_token_revoke(token=api_token_create(user=alice.user, name="old laptop", scope="read").token)
    api_token_create(user=alice.user, name="phone", scope="read")
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert "phone" in page
    assert "old laptop" not in page and "bob&#x27;s script" not in page


def test_a_learner_revokes_a_token_and_it_stops_working(alice_client: Client, alice: Learner) -> None:
    made = api_token_create(user=alice.user, name="script", scope="read")
    assert Api(made.secret).get(SESSIONS).status_code == 200
    alice_client.post(reverse("api-token-revoke", args=[made.token.pk]))
    response = Api(made.secret).get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_learner_cannot_revoke_another_learners_token(alice_client: Client, bob: Learner) -> None:
    made = api_token_create(user=bob.user, name="bob's", scope="read")
    assert alice_client.post(reverse("api-token-revoke", args=[made.token.pk])).status_code == 404
    made.token.refresh_from_db()
    assert made.token.revoked_at is None


def test_a_token_cannot_manage_tokens(alice: Learner) -> None:
    made = api_token_create(user=alice.user, name="script", scope="write")
    client = Client()
    response = client.post(
        reverse("api-token-create"),
        {"name": "more", "scope": "write"},
        headers={"Authorization": f"Bearer {made.secret}"},
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert ApiToken.objects.count() == 1


def test_the_token_keyword_works_like_bearer(alice: Learner) -> None:
    secret = api_token_create(user=alice.user, name="t", scope="read").secret
    response = Client().get(SESSIONS, headers={"Authorization": f"Token {secret}"})
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Bearer mc_made-up", "Bearer not-even-ours", "Bearer", "Bearer a b"])
def test_an_unknown_or_malformed_token_is_refused_with_401(db: None, header: str) -> None:
    response = Client().get(SESSIONS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_no_credentials_answer_401(anonymous_api: Api) -> None:
    response = anonymous_api.get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_read_token_cannot_write(alice_read_api: Api, alice: Learner) -> None:
    session = StudySessionFactory(learner=alice)
    for response in (
        alice_read_api.post(SESSIONS, session_body()),
        alice_read_api.patch(f"{SESSIONS}{session.pk}/", {"score": 1}),
        alice_read_api.delete(f"{SESSIONS}{session.pk}/"),
        alice_read_api.post("/api/v1/recommendation/requests/", {}),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert alice_read_api.get(f"{SESSIONS}{session.pk}/").status_code == 200


def test_a_token_of_a_deactivated_user_is_refused(alice: Learner) -> None:
    secret = api_token_create(user=alice.user, name="t", scope="read").secret
    alice.user.is_active = False
    alice.user.save()
    assert Api(secret).get(SESSIONS).status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(alice: Learner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    made = api_token_create(user=alice.user, name="t", scope="read")
    Api(made.secret).get("/api/v1/strategies/")
    made.token.refresh_from_db()
    first = made.token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    Api(made.secret).get("/api/v1/strategies/")
    made.token.refresh_from_db()
    assert made.token.last_used_at == first


def test_the_browser_session_works_and_needs_the_csrf_token_to_write(alice: Learner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.get(SESSIONS).status_code == 200
    refused = client.post(SESSIONS, session_body(), content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    client.get(reverse("account-settings"))
    csrf = client.cookies["csrftoken"].value
    saved = client.post(
        SESSIONS, session_body(), content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert saved.status_code == 201


def test_an_administrator_revokes_a_leaked_token_in_the_admin(alice: Learner) -> None:
    made = api_token_create(user=alice.user, name="leaked", scope="write")
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = staff.get(reverse("admin:learners_apitoken_changelist"))
    assert listing.status_code == 200 and "leaked" in listing.content.decode()
    assert made.secret not in listing.content.decode()
    staff.post(
        reverse("admin:learners_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [made.token.pk]},
    )
    assert Api(made.secret).get(SESSIONS).status_code == 401
