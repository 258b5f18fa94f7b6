"""Thin Celery tasks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from coach import services

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
