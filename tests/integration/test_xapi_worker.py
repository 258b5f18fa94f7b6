"""Statements reach a learning record store through a real `celery worker`: the store fails the
first request, the task retries, and the store ends with exactly one copy of each statement."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from learners.models import XapiStatementSent, XapiSync
from learners.selectors.xapi import lrs_statements
from tests.factories import LearnerFactory, UserFactory
from tests.fake_lrs import fake_lrs
from tests.learners.test_sessions import form_data
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_worker_retries_a_store_that_is_down_and_it_keeps_one_copy_of_each_statement(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = LearnerFactory(user=UserFactory(username="alice"))
    client = Client()
    client.force_login(learner.user)
    log = tmp_path / "worker.log"
    with fake_lrs(fail_first=1) as lrs:
        # The web side (this process) decides whether to queue; the worker reads the environment.
        settings.XAPI_LRS_URL = lrs.url
        monkeypatch.setenv("XAPI_LRS_URL", lrs.url)
        with celery_worker(log):
            for subject in ("Statistics", "Anatomy"):
                response = client.post(reverse("session-new"), form_data(subject=subject))
                assert response.status_code == 302
            # Caught up with the second session's request: every statement is recorded as sent.
            synced = wait_for(
                lambda: XapiSync.objects.filter(learner=learner, synced_at=F("requested_at")).exists(),
                timeout=90,
            )
            worker_log = log.read_text()
        assert synced, f"statements not sent after 90 s; worker log:\n{worker_log}"
        statuses = [status for status, _, _ in lrs.requests]
        stored_copies = Counter(i for status, _, ids in lrs.requests if status == 200 for i in ids)
    assert statuses[0] == 503
    assert "learners.xapi_send" in worker_log and "Retry in" in worker_log
    expected = {s["id"] for s in lrs_statements(learner_id=learner.pk)}
    # A session each, and no reflections: their text is not for the store.
    assert set(lrs.stored) == expected and len(expected) == 2
    assert set(stored_copies.values()) == {1}
    assert XapiStatementSent.objects.filter(learner=learner).count() == 2
