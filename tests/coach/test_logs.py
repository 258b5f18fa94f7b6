"""Production's structured log: one JSON event per request and per task run, nothing personal."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client

from coach.logs import JsonFormatter
from learners import tasks
from learners.models import Learner
from tests.coach.test_settings import PRODUCTION, manage
from tests.factories import StudySessionFactory

NOTE = "PRIVATE NOTE: I was anxious about my parents today"


def _events(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[str, dict[str, Any]]]:
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == logger]
    return [(line, json.loads(line)) for line in lines]


def _personal(alice: Learner) -> list[str]:
    return [alice.user.username, alice.user.email, NOTE, "anxious"]


def test_a_request_logs_one_event_with_its_route_and_ids_and_nothing_personal(
    alice: Learner, alice_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    session = StudySessionFactory(learner=alice, notes=NOTE)
    with caplog.at_level(logging.INFO, logger="metacoach.request"):
        response = alice_client.get(f"/sessions/{session.pk}/?q=anxious", HTTP_X_REQUEST_ID="req-42")

    [(line, event)] = _events(caplog, "metacoach.request")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-42"
    assert event["event"] == "request"
    assert event["request_id"] == "req-42"
    assert event["method"] == "GET"
    assert event["route"] == "/sessions/<int:session_id>/"
    assert event["view"] == "session-detail"
    assert event["ids"] == {"session_id": session.pk}
    assert event["status"] == 200
    assert event["duration_ms"] >= 0
    assert event["user_id"] == alice.user.pk
    assert not [word for word in _personal(alice) if word and word in line]


def test_a_request_id_that_is_not_one_is_replaced(
    alice_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="metacoach.request"):
        response = alice_client.get("/sessions/", HTTP_X_REQUEST_ID="alice@example.org says hi")

    [(line, event)] = _events(caplog, "metacoach.request")
    assert len(event["request_id"]) == 32
    assert response["X-Request-ID"] == event["request_id"]
    assert "alice@example.org" not in line


def test_djangos_own_records_leave_out_the_request_they_carry(
    alice_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        alice_client.get("/no-such-page/?q=anxious")

    [record] = [r for r in caplog.records if r.name == "django.request"]
    line = JsonFormatter().format(record)
    assert hasattr(record, "request")
    assert "anxious" not in line
    assert json.loads(line)["level"] == "WARNING"


def test_a_task_run_logs_one_event_with_its_state_runtime_and_retries(
    alice: Learner, caplog: pytest.LogCaptureFixture
) -> None:
    StudySessionFactory(learner=alice, notes=NOTE)
    with caplog.at_level(logging.INFO, logger="metacoach.task"):
        result = tasks.recommendation_refresh_task.apply(args=[alice.pk])

    [(line, event)] = _events(caplog, "metacoach.task")
    assert event["event"] == "task"
    assert event["task"] == "learners.recommendation_refresh"
    assert event["task_id"] == result.id
    assert event["state"] == "SUCCESS"
    assert event["runtime_ms"] >= 0
    assert event["retries"] == 0
    assert not [word for word in _personal(alice) if word and word in line]


def test_production_writes_every_record_as_one_json_line() -> None:
    code = (
        "import logging; logging.getLogger('metacoach.task').info('done', extra={'event': {'task_id': 'a'}})"
    )
    result = manage("shell", "-c", code, env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"logger": "metacoach.task", "message": "done", "task_id": "a"}.items() <= lines[-1].items()
