"""Sending statements to a learning record store: only what it lacks, once, voiding what edits
supersede; nothing at all when no store is configured. (The worker's retry: tests/integration.)"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from ralph.models.xapi.base.statements import BaseXapiStatement

from learners.models import Learner, Reflection, StudySession, XapiStatementSent, XapiSync
from learners.selectors.xapi import lrs_statements
from learners.services import xapi
from learners.services.goals import subject_rename
from learners.services.sessions import ReflectionInput, session_delete, session_reflect
from tests.factories import StudySessionFactory, UserFactory
from tests.fake_lrs import FakeLrs, fake_lrs
from tests.learners.test_sessions import form_data

pytestmark = pytest.mark.django_db

NOTE = "PRIVATE NOTE about my week"


@pytest.fixture
def lrs(settings: Any) -> Iterator[FakeLrs]:
    with fake_lrs() as store:
        settings.XAPI_LRS_URL = store.url
        settings.XAPI_LRS_USERNAME = "metacoach"
        settings.XAPI_LRS_PASSWORD = "s3cret"
        yield store


def session(learner: Learner, **fields: Any) -> StudySession:
    studied = StudySessionFactory(learner=learner, notes=NOTE, **fields)
    Reflection.objects.create(session=studied, plan="my private plan", kept_previous_plan=True)
    return studied


def test_nothing_is_requested_or_sent_without_a_store(alice: Learner) -> None:
    session(alice)
    xapi.xapi_request(learner_id=alice.pk)
    assert not XapiSync.objects.exists()
    assert xapi.xapi_send(learner_id=alice.pk) == 0
    assert xapi.xapi_catch_up() == 0
    assert not XapiStatementSent.objects.exists()


def test_the_store_gets_each_statement_once_with_version_header_and_basic_auth(
    alice: Learner, lrs: FakeLrs
) -> None:
    session(alice)
    session(alice, subject="Chemistry")
    assert xapi.xapi_send(learner_id=alice.pk) == 4
    assert xapi.xapi_send(learner_id=alice.pk) == 0  # nothing new: no request at all
    assert len(lrs.requests) == 1
    status, headers, ids = lrs.requests[0]
    assert status == 200
    assert headers["x-experience-api-version"] == "1.0.3"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"metacoach:s3cret").decode()
    assert sorted(ids) == sorted(lrs.stored)
    assert XapiStatementSent.objects.filter(learner=alice).count() == 4
    for statement in lrs.stored.values():
        BaseXapiStatement.model_validate(statement)
        assert NOTE not in str(statement) and "my private plan" not in str(statement)


def test_a_send_that_was_not_recorded_is_sent_again_without_a_copy(alice: Learner, lrs: FakeLrs) -> None:
    session(alice)
    xapi.xapi_send(learner_id=alice.pk)
    XapiStatementSent.objects.all().delete()  # as if the worker died after the store took them
    session(alice, subject="Chemistry")
    xapi.xapi_send(learner_id=alice.pk)
    # The batch is refused (409) for the ids the store has; sent one by one, each new one lands.
    assert [status for status, _, _ in lrs.requests] == [200, 409, 409, 409, 200, 200]
    assert len(lrs.stored) == 4
    assert XapiStatementSent.objects.count() == 4


def test_an_edit_sends_the_new_statement_and_voids_the_old(alice: Learner, lrs: FakeLrs) -> None:
    studied = session(alice)
    xapi.xapi_send(learner_id=alice.pk)
    old = set(lrs.stored)
    StudySession.objects.filter(pk=studied.pk).update(score=99)
    assert xapi.xapi_send(learner_id=alice.pk) == 4  # session and reflection anew, two voidings
    voided = {s["object"]["id"] for s in lrs.stored.values() if s["verb"]["id"].endswith("/voided")}
    assert voided == old
    current = {s["id"] for s in lrs_statements(learner_id=alice.pk)}
    assert set(XapiStatementSent.objects.filter(voided=False).values_list("statement_id", flat=True)) == {
        uuid.UUID(i) for i in current
    }


def test_a_deleted_session_is_voided(alice: Learner, lrs: FakeLrs) -> None:
    studied = session(alice)
    xapi.xapi_send(learner_id=alice.pk)
    session_delete(session=studied)
    xapi.xapi_send(learner_id=alice.pk)
    assert sum(s["verb"]["id"].endswith("/voided") for s in lrs.stored.values()) == 2
    assert not XapiStatementSent.objects.filter(voided=False).exists()


def test_saving_requests_a_send_that_the_catch_up_finds(alice: Learner, lrs: FakeLrs) -> None:
    session(alice)
    subject_rename(learner=alice, old="Biology", new="Botany")
    sync = XapiSync.objects.get(learner=alice)
    assert sync.synced_at is None
    xapi.xapi_send(learner_id=alice.pk)
    sync.refresh_from_db()
    assert sync.synced_at == sync.requested_at


def test_a_reflection_written_on_its_own_requests_a_send(alice: Learner, lrs: FakeLrs) -> None:
    studied = StudySessionFactory(learner=alice)
    session_reflect(session=studied, reflection=ReflectionInput(plan="read the chapter twice"))
    assert XapiSync.objects.get(learner=alice).synced_at is None


def test_the_catch_up_queues_learners_behind_and_those_never_sent(
    alice: Learner, bob: Learner, lrs: FakeLrs, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr("learners.tasks.xapi_send_task.delay", queued.append)
    session(alice)  # from before the store was configured: no sync row
    session(bob)
    xapi.xapi_send(learner_id=bob.pk)
    XapiSync.objects.create(learner=bob, requested_at=timezone.now())
    assert xapi.xapi_catch_up() == 2
    assert sorted(queued) == sorted([alice.pk, bob.pk])


def test_a_store_that_is_down_raises_unavailable_and_records_nothing(alice: Learner, settings: Any) -> None:
    session(alice)
    with fake_lrs(fail_first=1) as down:
        settings.XAPI_LRS_URL = down.url
        with pytest.raises(xapi.LrsUnavailable):
            xapi.xapi_send(learner_id=alice.pk)
    assert not XapiStatementSent.objects.exists()


def test_a_store_that_refuses_the_credentials_is_not_retried(alice: Learner, settings: Any) -> None:
    session(alice)
    with fake_lrs() as store:
        settings.XAPI_LRS_URL = store.url + "/wrong"
        with pytest.raises(xapi.LrsRejected):
            xapi.xapi_send(learner_id=alice.pk)


def test_settings_say_what_the_store_gets(alice_client: Client, alice: Learner, lrs: FakeLrs) -> None:
    session(alice)
    xapi.xapi_send(learner_id=alice.pk)
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert "without your session notes or the text of your reflections. 2 statements have been sent." in page


def test_administrators_see_who_is_behind_and_what_was_sent(alice: Learner, lrs: FakeLrs) -> None:
    session(alice)
    xapi.xapi_request(learner_id=alice.pk)
    xapi.xapi_send(learner_id=alice.pk)
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert "alice" in staff.get(reverse("admin:learners_xapisync_changelist")).content.decode()
    sent = staff.get(reverse("admin:learners_xapistatementsent_changelist")).content.decode()
    assert next(iter(lrs.stored)) in sent


def test_an_edit_that_puts_the_old_values_back_is_not_an_id_already_voided(
    alice: Learner, lrs: FakeLrs
) -> None:
    studied = session(alice, score=60)
    xapi.xapi_send(learner_id=alice.pk)
    first = {s["id"] for s in lrs_statements(learner_id=alice.pk)}
    for score in (90, 60):  # edited, then edited back
        studied.score = score
        studied.save()
        xapi.xapi_send(learner_id=alice.pk)
    current = {s["id"] for s in lrs_statements(learner_id=alice.pk)}
    assert not current & first
    assert current <= set(lrs.stored)
    assert set(XapiStatementSent.objects.filter(voided=False).values_list("statement_id", flat=True)) == {
        uuid.UUID(i) for i in current
    }


@pytest.mark.parametrize("configured", [True, False])
def test_a_session_saved_on_the_web_queues_a_send_after_commit_only_with_a_store(
    alice: Learner,
    alice_client: Client,
    settings: Any,
    configured: bool,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.XAPI_LRS_URL = "http://127.0.0.1:9/xapi" if configured else ""
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay"),
        mock.patch("learners.tasks.xapi_send_task.delay") as delay,
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            alice_client.post(reverse("session-new"), form_data())
        assert not delay.called  # not before the session is committed
        for callback in callbacks:
            callback()
    assert delay.call_args_list == ([mock.call(alice.pk)] if configured else [])
    assert XapiSync.objects.filter(learner=alice).exists() == configured
