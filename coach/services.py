"""Writes of the coach app that are not the engine's training (coach.training, coach.snapshots)."""

from __future__ import annotations

from typing import Any

from coach.models import FailedTask

MESSAGE_LIMIT = 2000


def _ids_only(value: Any) -> int | None:
    # Tasks take ids; any other argument (a subject, a URL) is left out rather than stored.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def failed_task_record(
    *,
    task_name: str,
    task_id: str,
    args: list[Any],
    kwargs: dict[str, Any],
    exception: BaseException,
    retries: int,
) -> FailedTask:
    """Record a task that failed for good, for administrators: what ran, on which ids, and why."""
    return FailedTask.objects.create(
        task_name=task_name[:200],
        task_id=task_id[:255],
        args=[_ids_only(value) for value in args],
        kwargs={key: _ids_only(value) for key, value in kwargs.items()},
        exception_type=f"{type(exception).__module__}.{type(exception).__qualname__}"[:200],
        exception_message=str(exception)[:MESSAGE_LIMIT],
        retries=retries,
    )
