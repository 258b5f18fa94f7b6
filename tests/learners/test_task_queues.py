"""Which queue each task goes to: a retrain must never wait in line with a learner's refresh."""

from __future__ import annotations

import pytest
from django.conf import settings

from coach.celery import app
from learners import tasks


def _queue(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return str(route["queue"].name)


def test_engine_retrain_goes_to_the_engine_queue() -> None:
    assert _queue(tasks.engine_run_execute_task.name) == settings.ENGINE_QUEUE == "engine"


def test_the_coaching_figures_are_computed_on_the_engine_queue() -> None:
    assert _queue(tasks.coaching_value_refresh_task.name) == settings.ENGINE_QUEUE


@pytest.mark.parametrize(
    "task_name",
    [
        task.name
        for task in (
            tasks.recommendation_refresh_task,
            tasks.recommendation_catch_up_task,
            tasks.engine_run_schedule_task,
            tasks.email_verification_send_task,
            tasks.password_reset_send_task,
        )
    ],
)
def test_learners_tasks_stay_on_the_default_queue(task_name: str) -> None:
    assert _queue(task_name) == settings.CELERY_TASK_DEFAULT_QUEUE != settings.ENGINE_QUEUE
