"""Writes of engine runs: queued by an educator or the schedule, executed by the worker."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from coach import training
from coach.models import EngineRun
from coach.selectors import strategy_list
from coach.snapshots import snapshot_store
from learners import dataset
from learners.services.recommendations import recommendation_catch_up_all

logger = logging.getLogger(__name__)


class EngineRunAlreadyActive(Exception):
    """Only one engine run may be queued or running at a time."""

    def __init__(self, run: EngineRun | None) -> None:
        super().__init__("an engine run is already queued or running")
        self.run = run


def engine_run_request(*, requested_by: User | None) -> EngineRun:
    """Queue a meta-training run; refuses while another one is queued or running."""
    from learners.tasks import engine_run_execute_task  # tasks import services; import late

    try:
        with transaction.atomic():
            run = EngineRun.objects.create(requested_by=requested_by)
    except IntegrityError:
        raise EngineRunAlreadyActive(EngineRun.objects.filter(active=True).first()) from None

    def send() -> None:
        try:
            engine_run_execute_task.delay(run.pk)
        except (BrokerError, OSError) as exc:
            _run_finish(run.pk, status=EngineRun.Status.FAILED, error=f"The task queue is unavailable: {exc}")

    transaction.on_commit(send)
    return run


def engine_run_execute(*, run_id: int) -> EngineRun | None:
    """Meta-train the learners on every scored session, evaluate them, store the snapshot.

    Claims the run first, so a task delivered twice trains once; a run left `running` by a
    worker that died is claimed again once it is older than the task time limit.
    """
    stale = timezone.now() - timedelta(seconds=training.TIME_LIMIT_SECONDS)
    claimable = Q(status=EngineRun.Status.QUEUED) | Q(status=EngineRun.Status.RUNNING, started_at__lt=stale)
    claimed = EngineRun.objects.filter(claimable, pk=run_id, active=True).update(
        status=EngineRun.Status.RUNNING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        return None
    try:
        strategies = strategy_list()
        log = dataset.session_log_build(strategy_ids=[s.pk for s in strategies])
        EngineRun.objects.filter(pk=run_id).update(
            progress=5, n_learners=len(set(log.learner.tolist())), n_sessions=len(log)
        )
        trained = training.train(
            log,
            utilities=[s.utility for s in strategies],
            progress=partial(_run_progress, run_id),
            history_columns=dataset.HISTORY_COLUMNS,
        )
        with transaction.atomic():
            run = EngineRun.objects.get(pk=run_id)
            snapshot_store(
                run=run,
                model=trained.learners.model,
                memory=trained.learners.memory,
                optimization=trained.learners.optimization,
                combined=trained.combined,
                strategy_slugs=[s.slug for s in strategies],
                feature_names=list(dataset.FEATURES),
            )
            _run_finish(run_id, status=EngineRun.Status.SUCCEEDED, metrics=trained.metrics)
    except training.NotEnoughData as exc:
        _run_finish(run_id, status=EngineRun.Status.FAILED, error=str(exc))
    except Exception as exc:
        logger.exception("Engine run %s failed", run_id)
        _run_finish(run_id, status=EngineRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    recommendation_catch_up_all()
    return EngineRun.objects.get(pk=run_id)


def engine_run_schedule() -> EngineRun | None:
    """The periodic retrain; skipped when one is already queued or running."""
    try:
        return engine_run_request(requested_by=None)
    except EngineRunAlreadyActive:
        return None


def _run_progress(run_id: int, percent: int) -> None:
    EngineRun.objects.filter(pk=run_id).update(progress=percent)


def _run_finish(run_id: int, *, status: str, error: str = "", metrics: dict[str, Any] | None = None) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "active": False,
        "finished_at": timezone.now(),
        "error": error,
    }
    if status == EngineRun.Status.SUCCEEDED:
        fields["progress"] = 100
    if metrics is not None:
        fields["metrics"] = metrics
    EngineRun.objects.filter(pk=run_id).update(**fields)
