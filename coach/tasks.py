"""Thin Celery tasks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from coach import services, training

RETRY: dict[str, Any] = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="coach.tasks.recommendation_refresh", acks_late=True, ignore_result=True, **RETRY)
def recommendation_refresh(learner_id: int, subject: str = "", task_kind: str = "") -> None:
    services.recommendation_refresh(learner_id=learner_id, subject=subject, task_kind=task_kind)


@shared_task(name="coach.tasks.recommendation_catch_up", acks_late=True, ignore_result=True, **RETRY)
def recommendation_catch_up() -> None:
    services.recommendation_catch_up()


# Training is long and CPU-bound: no automatic retry (a failure is recorded on the run and shown),
# and a time limit well above a normal run.
@shared_task(
    name="coach.tasks.engine_retrain",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=training.TIME_LIMIT_SECONDS - 60,
    time_limit=training.TIME_LIMIT_SECONDS,
)
def engine_retrain(run_id: int) -> None:
    services.engine_retrain(run_id=run_id)


@shared_task(name="coach.tasks.engine_retrain_scheduled", ignore_result=True)
def engine_retrain_scheduled() -> None:
    services.engine_retrain_scheduled()
