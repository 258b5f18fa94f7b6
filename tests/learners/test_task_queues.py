"""Which queue each task goes to: a retrain must never wait in line with a learner's refresh."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from kombu import Consumer, Exchange, Queue
from kombu.message import Message

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


def test_the_dashboard_built_ahead_waits_on_the_low_queue() -> None:
    assert (
        _queue(tasks.dashboard_panel_warm_task.name)
        == settings.LOW_QUEUE
        != settings.CELERY_TASK_DEFAULT_QUEUE
    )


def test_a_worker_on_both_queues_takes_the_default_queue_first_on_redis() -> None:
    """Redis's consumer polls queues in name order ("sorted"), so refreshes go before the low queue."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the queue order is a Redis transport option; the broker here is not Redis")
    assert (
        sorted([settings.CELERY_TASK_DEFAULT_QUEUE, settings.LOW_QUEUE])[0]
        == settings.CELERY_TASK_DEFAULT_QUEUE
    )
    exchange = Exchange(f"queue-order-{os.getpid()}", type="direct")
    low, urgent = (
        Queue(f"{name}-order-{os.getpid()}", exchange, routing_key=name) for name in ("low", "celery")
    )
    taken: list[str] = []

    def take(body: dict[str, str], message: Message) -> None:
        taken.append(body["queue"])
        message.ack()

    with app.connection_for_write() as connection:
        producer = connection.Producer()
        for queue in (low, low, low, urgent):  # the low queue fills first
            producer.publish(
                {"queue": queue.routing_key},
                exchange=exchange,
                routing_key=queue.routing_key,
                declare=[queue],
            )
        try:
            with Consumer(connection, [low, urgent], callbacks=[take], prefetch_count=1):
                while len(taken) < 4:
                    connection.drain_events(timeout=5)
        finally:
            for queue in (low, urgent):
                queue(connection.default_channel).delete()
    assert taken == ["celery", "low", "low", "low"]
