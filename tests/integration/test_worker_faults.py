"""Faults for real: a worker killed mid-task, a broker down at save time, SQLite writers queueing.

Each ends with the learner's data intact and exactly one recommendation written.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from learners.models import Learner, Recommendation, StudySession
from learners.tasks import recommendation_catch_up_task, recommendation_refresh_task
from tests.factories import LearnerFactory, StudySessionFactory, UserFactory
from tests.learners.test_sessions import form_data
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("holds SQLite's write lock from a second connection")


@contextmanager
def write_lock() -> Iterator[None]:
    """SQLite's write lock, held by another connection, as a long write in another process would."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


def test_worker_killed_mid_task_then_the_recommendation_is_written_once(
    alice: Learner, tmp_path: Path
) -> None:
    sqlite_only()
    StudySessionFactory(learner=alice)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with write_lock(), celery_worker(first_log) as worker:
        recommendation_refresh_task.delay(alice.pk)
        # The worker has the task and waits for the lock to write its recommendation: kill it there.
        assert wait_for(lambda: b"learners.recommendation_refresh" in first_log.read_bytes(), timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert not Recommendation.objects.filter(learner=alice).exists()
    with celery_worker(second_log):
        # The periodic catch-up finds the learner whose sessions are newer than any recommendation.
        recommendation_catch_up_task.delay()
        assert wait_for(lambda: Recommendation.objects.filter(learner=alice).exists(), timeout=60), (
            second_log.read_text()
        )
        # The killed task delivered again (as Redis does after its visibility timeout) writes nothing new.
        recommendation_refresh_task.delay(alice.pk)
        assert wait_for(lambda: second_log.read_text().count("succeeded") >= 3, timeout=60), (
            second_log.read_text()
        )
    assert Recommendation.objects.filter(learner=alice).count() == 1


def test_broker_down_at_save_keeps_the_session_and_the_catch_up_writes_it_later(
    alice: Learner, alice_client: Client, tmp_path: Path
) -> None:
    with mock.patch(
        "learners.tasks.recommendation_refresh_task.delay", side_effect=OperationalError("refused")
    ):
        response = alice_client.post(reverse("session-new"), form_data(), follow=True)
    assert response.status_code == 200
    assert "recommendation will follow" in response.content.decode()
    assert StudySession.objects.filter(learner=alice).count() == 1
    assert not Recommendation.objects.filter(learner=alice).exists()
    log = tmp_path / "worker.log"
    with celery_worker(log):
        recommendation_catch_up_task.delay()
        written = wait_for(lambda: Recommendation.objects.filter(learner=alice).exists(), timeout=60)
        assert written, log.read_text()
        recommendation_catch_up_task.delay()  # a second catch-up finds nothing left to do
        assert wait_for(lambda: log.read_text().count("succeeded") >= 3, timeout=60), log.read_text()
    assert Recommendation.objects.filter(learner=alice).count() == 1


def test_concurrent_writers_wait_for_sqlite_instead_of_failing() -> None:
    sqlite_only()
    clients = []
    for n in range(4):
        client = Client()
        client.force_login(LearnerFactory(user=UserFactory(username=f"writer{n}")).user)
        clients.append(client)
    statuses: list[int] = []

    def save(client: Client) -> None:
        with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
            statuses.append(client.post(reverse("session-new"), form_data()).status_code)
        connection.close()  # each thread's own connection

    # Another connection writes for 6 s while the four requests arrive: longer than SQLite's default
    # 5 s busy timeout, within the 20 s the settings give, so the requests wait and then succeed.
    with write_lock():
        threads = [threading.Thread(target=save, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        threading.Event().wait(6.0)
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * 4
    assert StudySession.objects.count() == 4
