"""The background path for real: a web request, the broker, a `celery worker` process, the database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from coach.models import EngineRun, EngineSnapshot
from learners.demo import demo_create
from learners.models import Learner, Recommendation
from learners.services.engine_runs import engine_run_request
from tests.factories import LearnerFactory, UserFactory
from tests.learners.test_dashboard_warm import panel
from tests.learners.test_sessions import form_data
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_session_logged_on_the_web_gets_a_recommendation_from_the_worker(tmp_path: Path) -> None:
    learner = LearnerFactory(user=UserFactory(username="alice"))
    client = Client()
    client.force_login(learner.user)
    log = tmp_path / "worker.log"
    with celery_worker(log):
        response = client.post(reverse("session-new"), form_data(subject="Statistics", score=72))
        assert response.status_code == 302
        written = wait_for(lambda: Recommendation.objects.filter(learner=learner).exists(), timeout=60)
        # Then the worker builds the dashboard the learner comes back to.
        built = written and wait_for(lambda: panel(learner) is not None, timeout=60)
        worker_log = log.read_text()
    assert written, f"no recommendation after 60 s; worker log:\n{worker_log}"
    assert "learners.recommendation_refresh" in worker_log
    assert "succeeded" in worker_log
    recommendation = Recommendation.objects.filter(learner=learner).first()
    assert recommendation is not None
    assert recommendation.source == Recommendation.Source.HISTORY
    assert built, f"no dashboard panel 60 s after the recommendation; worker log:\n{worker_log}"
    assert "learners.dashboard_panel_warm" in worker_log
    assert "Statistics" in (panel(learner) or "")


@pytest.mark.services
def test_suite_runs_on_postgresql_and_redis_when_configured() -> None:
    if not (os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL")):
        pytest.skip("DATABASE_URL and CELERY_BROKER_URL are not set: PostgreSQL + Redis run skipped")
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis")


def test_retrain_in_the_worker_then_recommendations_come_from_the_new_snapshot(tmp_path: Path) -> None:
    demo_create(members=12, days=40, seed=5)
    demo = Learner.objects.get(user__username="demo")
    log = tmp_path / "worker.log"
    with celery_worker(log):
        run = engine_run_request(requested_by=None)
        finished = wait_for(lambda: not EngineRun.objects.get(pk=run.pk).active, timeout=120)
        run.refresh_from_db()
        assert finished and run.status == EngineRun.Status.SUCCEEDED, (
            f"{run.status}: {run.error}\n{log.read_text()}"
        )
        # A finished run queues a catch-up: every learner is refreshed from the new snapshot.
        engine_advice = Recommendation.objects.filter(learner=demo, source=Recommendation.Source.ENGINE)
        written = wait_for(engine_advice.exists, timeout=60)
        worker_log = log.read_text()
    assert written, worker_log
    assert "learners.engine_run_execute" in worker_log
    assert engine_advice.get().snapshot == EngineSnapshot.objects.get(run=run)
