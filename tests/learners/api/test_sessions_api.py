"""Sessions through the API: the log form's rules, the services' writes, the list's filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from learners.models import Learner, Reflection, StudySession
from tests.factories import StudySessionFactory
from tests.learners.api.conftest import Api

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def session_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "subject": "Biology",
        "task_kind": "memorise",
        "strategy": "practice-testing",
        "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "minutes": 30,
        "difficulty": 3,
        "confidence": 70,
        "score": 65,
        "focus": 4,
        "notes": "Flashcards on cells",
    }
    return {**body, **changes}


def test_a_learner_logs_a_session_with_a_reflection(alice_api: Api, alice: Learner) -> None:
    response = alice_api.post(
        SESSIONS, session_body(reflection={"plan": "Cards first", "next_time": "Fewer"})
    )
    assert response.status_code == 201, response.json()
    session = StudySession.objects.get(learner=alice)
    assert response.json()["id"] == session.pk
    assert response.json()["strategy"] == "practice-testing"
    assert response.json()["reflection"]["plan"] == "Cards first"
    assert Reflection.objects.get(session=session).next_time == "Fewer"


def test_the_api_refuses_what_the_log_form_refuses_with_its_messages(alice_api: Api) -> None:
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = alice_api.post(SESSIONS, session_body(minutes=0, started_at=future, strategy="no-such"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"minutes", "started_at", "strategy"}
    assert error["fields"]["started_at"] == ["The start time cannot be in the future."]
    assert not StudySession.objects.exists()


def test_a_reflection_answer_over_the_limit_is_refused_by_name(alice_api: Api) -> None:
    response = alice_api.post(SESSIONS, session_body(reflection={"plan": "x" * 2001}))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reflection.plan"]


def test_a_value_of_the_wrong_json_type_is_refused(alice_api: Api) -> None:
    response = alice_api.post(SESSIONS, session_body(minutes="30", subject=12))
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"minutes", "subject"}


def test_a_body_that_is_not_an_object_is_refused(alice_api: Api) -> None:
    response = alice_api.post(SESSIONS, [1, 2])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]


def test_patch_changes_only_the_fields_sent(alice_api: Api, alice: Learner) -> None:
    session = StudySessionFactory(learner=alice, score=None, notes="kept")
    response = alice_api.patch(f"{SESSIONS}{session.pk}/", {"score": 80})
    assert response.status_code == 200, response.json()
    session.refresh_from_db()
    assert (session.score, session.notes, session.minutes) == (80, "kept", 30)


def test_put_replaces_the_session(alice_api: Api, alice: Learner) -> None:
    session = StudySessionFactory(learner=alice)
    response = alice_api.put(f"{SESSIONS}{session.pk}/", session_body(subject="Chemistry", score=None))
    assert response.status_code == 200
    session.refresh_from_db()
    assert (session.subject, session.score) == ("Chemistry", None)


def test_delete_removes_the_session(alice_api: Api, alice: Learner) -> None:
    session = StudySessionFactory(learner=alice)
    assert alice_api.delete(f"{SESSIONS}{session.pk}/").status_code == 204
    assert not StudySession.objects.filter(pk=session.pk).exists()


def test_the_list_filters_by_subject_and_dates(alice_api: Api, alice: Learner) -> None:
    now = timezone.now()
    StudySessionFactory(learner=alice, subject="Biology", started_at=now - timedelta(days=10))
    recent = StudySessionFactory(learner=alice, subject="Biology", started_at=now - timedelta(days=1))
    StudySessionFactory(learner=alice, subject="History", started_at=now - timedelta(days=1))
    since = (now - timedelta(days=3)).date().isoformat()
    response = alice_api.get(SESSIONS, {"subject": "biology", "date_from": since})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [recent.pk]
    assert response.json()["count"] == 1


def test_an_inverted_date_range_is_refused(alice_api: Api) -> None:
    response = alice_api.get(SESSIONS, {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["date_to"]


def test_the_list_comes_in_pages(alice_api: Api, alice: Learner) -> None:
    StudySessionFactory.create_batch(3, learner=alice)
    page = alice_api.get(SESSIONS, {"page_size": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
    assert page["next"] is not None
    assert len(alice_api.get(SESSIONS, {"page_size": 2, "page": 2}).json()["results"]) == 1


def test_a_session_reflection_is_set_read_and_removed_on_its_own(alice_api: Api, alice: Learner) -> None:
    session = StudySessionFactory(learner=alice)
    url = f"{SESSIONS}{session.pk}/reflection/"
    assert alice_api.get(url).status_code == 404
    assert alice_api.put(url, {"evaluate": "It worked"}).status_code == 200
    assert alice_api.get(url).json()["evaluate"] == "It worked"
    assert alice_api.get("/api/v1/reflections/").json()["results"][0]["session"] == session.pk
    assert alice_api.put(url, {"evaluate": ""}).status_code == 204
    assert not Reflection.objects.filter(session=session).exists()
    alice_api.put(url, {"plan": "Again"})
    assert alice_api.delete(url).status_code == 204
    assert not Reflection.objects.filter(session=session).exists()


def test_a_start_time_without_its_utc_offset_is_refused(alice_api: Api) -> None:
    response = alice_api.post(SESSIONS, session_body(started_at="2025-03-01T10:00:00"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["started_at"]
    assert alice_api.post(SESSIONS, session_body(started_at="2025-03-01T10:00:00Z")).status_code == 201


def test_a_retry_with_the_same_idempotency_key_saves_the_session_once(alice_api: Api, alice: Learner) -> None:
    key = {"Idempotency-Key": "3f2b8c1e-6a4d-4e0f-9b7a-2c5d8e1f4a60"}
    first = alice_api.post(SESSIONS, session_body(), headers=key)
    again = alice_api.post(SESSIONS, session_body(), headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert StudySession.objects.filter(learner=alice).count() == 1


def test_an_idempotency_key_that_is_not_a_uuid_is_refused(alice_api: Api) -> None:
    response = alice_api.post(SESSIONS, session_body(), headers={"Idempotency-Key": "once"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
