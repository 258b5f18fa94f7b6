"""The health endpoints: readiness (database, broker, the newest snapshot's age) and liveness."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coach.models import EngineRun, EngineSnapshot

pytestmark = pytest.mark.django_db


def test_healthy_app_answers_200_without_a_login(client: Client) -> None:
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": True, "broker": True, "snapshot_age_seconds": None}
    assert "no-cache" in response["Cache-Control"]


def test_reports_the_age_of_the_newest_snapshot(client: Client) -> None:
    run = EngineRun.objects.create(status=EngineRun.Status.SUCCEEDED, active=False)
    snapshot = EngineSnapshot.objects.create(
        run=run, strategy_slugs=[], feature_names=[], model_learner=b"", memory_learner=b""
    )
    EngineSnapshot.objects.filter(pk=snapshot.pk).update(created_at=timezone.now() - timedelta(hours=2))
    age = client.get(reverse("health")).json()["snapshot_age_seconds"]
    assert 7190 <= age <= 7300


def test_broker_down_answers_503(client: Client) -> None:
    with mock.patch("learners.selectors.health.app.connection_for_write", side_effect=OSError("refused")):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["broker"] is False
    assert response.json()["database"] is True


def test_database_down_answers_503(client: Client) -> None:
    with mock.patch("learners.selectors.health.connection.cursor", side_effect=DatabaseError("gone")):
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": False, "broker": True, "snapshot_age_seconds": None}


def test_liveness_answers_ok_without_a_login_or_a_query(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("health-live"))
    assert len(queries) == 0
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


def test_liveness_answers_ok_while_the_database_and_the_broker_are_down(client: Client) -> None:
    with (
        mock.patch("learners.selectors.health.connection.cursor", side_effect=DatabaseError("gone")),
        mock.patch("learners.selectors.health.app.connection_for_write", side_effect=OSError("refused")),
    ):
        assert client.get(reverse("health")).status_code == 503
        assert client.get(reverse("health-live")).status_code == 200


def test_liveness_refuses_a_post(client: Client) -> None:
    assert client.post(reverse("health-live")).status_code == 405
