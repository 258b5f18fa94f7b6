"""Celery's task signals, connected by CoachConfig.ready() in every process that loads Django.

Each task run logs one event (coach.logs).
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals

from coach.logs import TASK_LOGGER, milliseconds_since

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
