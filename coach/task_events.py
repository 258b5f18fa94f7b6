"""Celery's task signals, connected by CoachConfig.ready() in every process that loads Django.

Each task run logs one event (coach.logs); a task that fails for good, its retries spent, is
recorded for administrators (coach.services.failed_task_record).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import signals
from django.db import DatabaseError

from coach import services
from coach.logs import TASK_LOGGER, milliseconds_since

logger = logging.getLogger(__name__)

# task id -> start; the threads pool runs tasks side by side in one process.
_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id: str, **_: Any) -> None:
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    start = _started.pop(task_id, None)
    event = {
        "event": "task",
        "task": task.name,
        "task_id": task_id,
        "state": state,
        "runtime_ms": milliseconds_since(start) if start is not None else None,
        "retries": task.request.retries,
    }
    TASK_LOGGER.info("%s %s %s", task.name, task_id, state, extra={"event": event})


# Sent once a task has failed for good: a retry is a task_retry, not a failure.
@signals.task_failure.connect
def _task_failed(
    sender: Any, task_id: str, exception: BaseException, args: Any = (), kwargs: Any = None, **_: Any
) -> None:
    try:
        services.failed_task_record(
            task_name=sender.name,
            task_id=task_id,
            args=list(args or ()),
            kwargs=dict(kwargs or {}),
            exception=exception,
            retries=sender.request.retries,
        )
    except DatabaseError:
        # The database may be why the task failed; the worker's own log still has the failure.
        logger.warning("could not record the failure of task %s %s", sender.name, task_id, exc_info=True)
