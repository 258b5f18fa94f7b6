"""Thin Celery tasks: ids in, one service call, safe to run twice.

Each is named `<service>_task` after the service it calls.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError

from coach import training
from learners.services import (
    coaching,
    dashboard,
    email_address,
    engine_runs,
    imports,
    recommendations,
    reminders,
    xapi,
)

RETRY: dict[str, Any] = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="learners.recommendation_refresh", acks_late=True, ignore_result=True, **RETRY)
def recommendation_refresh_task(learner_id: int, subject: str = "", task_kind: str = "") -> None:
    recommendations.recommendation_refresh(learner_id=learner_id, subject=subject, task_kind=task_kind)
    # Then the dashboard the learner comes back to, behind the refreshes already queued.
    dashboard.dashboard_panel_warm_request(learner_id=learner_id)


# On the low queue (settings.CELERY_TASK_ROUTES); losing one costs the visit a rebuild, no more.
@shared_task(name="learners.dashboard_panel_warm", ignore_result=True)
def dashboard_panel_warm_task(learner_id: int, version: str | None = None) -> None:
    dashboard.dashboard_panel_warm(learner_id=learner_id, version=version)


@shared_task(name="learners.recommendation_catch_up", acks_late=True, ignore_result=True, **RETRY)
def recommendation_catch_up_task() -> None:
    recommendations.recommendation_catch_up()


# Reads every counted recommendation once; a failure leaves the last figures on the page, and
# the next visit asks again.
@shared_task(name="learners.coaching_value_refresh", acks_late=True, ignore_result=True, **RETRY)
def coaching_value_refresh_task(cohort_id: int | None) -> None:
    coaching.coaching_value_refresh(cohort_id=cohort_id)


# Training is long and CPU-bound: no automatic retry (a failure is recorded on the run and shown),
# and a time limit well above a normal run.
@shared_task(
    name="learners.engine_run_execute",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=training.TIME_LIMIT_SECONDS - 60,
    time_limit=training.TIME_LIMIT_SECONDS,
)
def engine_run_execute_task(run_id: int) -> None:
    engine_runs.engine_run_execute(run_id=run_id)


@shared_task(name="learners.engine_run_schedule", ignore_result=True)
def engine_run_schedule_task() -> None:
    engine_runs.engine_run_schedule()


# Mail: sending twice is harmless (the newest link works), so a retry may resend.
@shared_task(name="learners.email_verification_send", acks_late=True, ignore_result=True, **RETRY)
def email_verification_send_task(user_id: int, base_url: str, language: str) -> None:
    email_address.email_verification_send(user_id=user_id, base_url=base_url, language=language)


@shared_task(name="learners.password_reset_send", acks_late=True, ignore_result=True, **RETRY)
def password_reset_send_task(user_id: int, base_url: str, language: str) -> None:
    email_address.password_reset_send(user_id=user_id, base_url=base_url, language=language)


@shared_task(name="learners.reminder_dispatch", ignore_result=True)
def reminder_dispatch_task() -> None:
    reminders.reminder_dispatch()


# At most once a day: the service claims the day with a unique row before it sends, so a retry
# or a second worker sends nothing.
@shared_task(name="learners.reminder_send", acks_late=True, ignore_result=True, **RETRY)
def reminder_send_task(learner_id: int, day: str) -> None:
    reminders.reminder_send(learner_id=learner_id, day=date.fromisoformat(day))


# Safe to run twice: statement ids are digests of their content and what the store accepted is
# recorded, so a retry sends only what is missing and the store never keeps a copy twice. A store
# that is down is waited for with a growing backoff (about 17 minutes in all); the catch-up takes
# over after that.
@shared_task(
    name="learners.xapi_send",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError, xapi.LrsUnavailable),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=300,
    time_limit=360,
)
def xapi_send_task(learner_id: int) -> None:
    xapi.xapi_send(learner_id=learner_id)


@shared_task(name="learners.xapi_catch_up", ignore_result=True)
def xapi_catch_up_task() -> None:
    xapi.xapi_catch_up()


class ImportJobTask(Task):
    """An import step whose retries are spent marks its job failed, so the page stops waiting."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        imports.import_job_fail(job_id=args[0])


# Both steps are safe to run twice: the read writes only to its job, the save is one transaction
# that first checks the job is still saving. A large collection takes a while to read.
IMPORT_STEP: dict[str, Any] = {
    "base": ImportJobTask,
    "acks_late": True,
    "ignore_result": True,
    "soft_time_limit": 600,
    "time_limit": 660,
    **RETRY,
}


@shared_task(name="learners.import_job_read", **IMPORT_STEP)
def import_job_read_task(job_id: int) -> None:
    imports.import_job_read(job_id=job_id)


@shared_task(name="learners.import_job_save", **IMPORT_STEP)
def import_job_save_task(job_id: int) -> None:
    imports.import_job_save(job_id=job_id)
