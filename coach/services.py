"""Writes of the coaching engine: recommendations, and the meta-training runs behind them."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError

from coach import dataset, selectors, training
from coach.advice import advice_from_engine, advice_from_evidence
from coach.models import EngineRun, Recommendation
from coach.snapshots import snapshot_current, snapshot_store
from learners.models import Learner

logger = logging.getLogger(__name__)


def recommendation_request(*, learner_id: int, subject: str = "", task_kind: str = "") -> bool | None:
    """Ask the worker to refresh a learner's recommendation once the current transaction commits.

    Returns True when the task was queued, False when the broker could not be reached (the
    periodic catch-up will refresh later), None when queueing waits for an outer transaction.
    """
    from coach.tasks import recommendation_refresh  # tasks import services; import late

    outcome: dict[str, bool] = {}

    def send() -> None:
        try:
            recommendation_refresh.delay(learner_id, subject, task_kind)
        except (BrokerError, OSError) as exc:
            logger.warning("Broker unavailable, recommendation for learner %s deferred: %s", learner_id, exc)
            outcome["queued"] = False
        else:
            outcome["queued"] = True
            Learner.objects.filter(pk=learner_id).update(refresh_requested_at=timezone.now())

    transaction.on_commit(send)
    return outcome.get("queued")


def recommendation_refresh(
    *, learner_id: int, subject: str = "", task_kind: str = ""
) -> Recommendation | None:
    """Compute and store the learner's recommendation; a second run on the same data is a no-op.

    With an engine snapshot the meta-learners advise; before the first one, the published
    evidence moved by the learner's own scores does.
    """
    learner = Learner.objects.filter(pk=learner_id).first()
    if learner is None:
        return None  # the learner deleted their account meanwhile
    strategies = selectors.strategy_list()
    record = selectors.strategy_record(learner_id=learner_id, strategies=strategies)
    snapshot = snapshot_current()
    usable = snapshot is not None and snapshot.strategy_slugs == [s.slug for s in strategies]
    version = f"engine{snapshot.id}" if usable and snapshot else "evidence"
    language = learner.language or settings.LANGUAGE_CODE
    basis = f"{version}:{language}:{record.basis}:{subject}:{task_kind}"
    existing = Recommendation.objects.filter(learner_id=learner_id, basis=basis).first()
    if existing is not None:
        return existing
    with translation.override(language):
        if usable and snapshot:
            history = dataset.session_log(strategy_ids=[s.pk for s in strategies], learner_ids=[learner_id])
            _, context = dataset.situation_context(learner=learner, task_kind=task_kind)
            advice = advice_from_engine(
                strategies=strategies, snapshot=snapshot, history=history, context=context, seed_key=basis
            )
        else:
            advice = advice_from_evidence(strategies=strategies, record=record)
    try:
        with transaction.atomic():
            return Recommendation.objects.create(
                learner_id=learner_id,
                subject=subject,
                task_kind=task_kind,
                strategy=advice.strategy,
                expected_score=min(max(advice.expected, 0.0), 100.0),
                score_std=advice.std,
                exploration=advice.exploration,
                reason=advice.reason,
                ranking=advice.ranking,
                source=advice.source,
                snapshot_id=snapshot.id if usable and snapshot else None,
                basis=basis,
            )
    except IntegrityError:
        # Another worker stored the same recommendation first.
        return Recommendation.objects.get(learner_id=learner_id, basis=basis)


def recommendation_respond(
    *, recommendation: Recommendation, status: str, dismissed_reason: str = ""
) -> Recommendation:
    """Record that the learner followed or dismissed a recommendation."""
    if status not in {Recommendation.Status.FOLLOWED, Recommendation.Status.DISMISSED}:
        raise ValueError(f"a learner can follow or dismiss a recommendation, not {status!r}")
    recommendation.status = status
    recommendation.dismissed_reason = (
        dismissed_reason.strip() if status == Recommendation.Status.DISMISSED else ""
    )
    recommendation.responded_at = timezone.now()
    recommendation.full_clean()
    recommendation.save(update_fields=["status", "dismissed_reason", "responded_at"])
    return recommendation


def recommendation_catch_up(*, limit: int = 500) -> int:
    """Queue refreshes for learners whose recommendation is missing or older than their sessions."""
    learner_ids = selectors.learners_needing_refresh(limit=limit)
    for learner_id in learner_ids:
        recommendation_request(learner_id=learner_id)
    return len(learner_ids)


class RetrainAlreadyRunning(Exception):
    """Only one engine run may be queued or running at a time."""

    def __init__(self, run: EngineRun | None) -> None:
        super().__init__("an engine run is already queued or running")
        self.run = run


def engine_retrain_request(*, requested_by: User | None) -> EngineRun:
    """Queue a meta-training run; refuses while another one is queued or running."""
    from coach.tasks import engine_retrain  # tasks import services; import late

    try:
        with transaction.atomic():
            run = EngineRun.objects.create(requested_by=requested_by)
    except IntegrityError:
        raise RetrainAlreadyRunning(EngineRun.objects.filter(active=True).first()) from None

    def send() -> None:
        try:
            engine_retrain.delay(run.pk)
        except (BrokerError, OSError) as exc:
            _run_finish(run.pk, status=EngineRun.Status.FAILED, error=f"The task queue is unavailable: {exc}")

    transaction.on_commit(send)
    return run


def engine_retrain(*, run_id: int) -> EngineRun | None:
    """Meta-train both learners on every scored session, evaluate them, store the snapshot.

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
        strategies = selectors.strategy_list()
        log = dataset.session_log(strategy_ids=[s.pk for s in strategies])
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
                model=trained.model,
                memory=trained.memory,
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


def engine_retrain_scheduled() -> EngineRun | None:
    """The periodic retrain; skipped when one is already queued or running."""
    try:
        return engine_retrain_request(requested_by=None)
    except RetrainAlreadyRunning:
        return None


def recommendation_catch_up_all() -> None:
    """After a new snapshot every learner's recommendation is out of date; refresh them lazily."""
    from coach.tasks import recommendation_catch_up

    def send() -> None:
        try:
            recommendation_catch_up.delay()
        except (BrokerError, OSError):
            logger.warning("Broker unavailable; recommendations refresh at the next periodic catch-up")

    transaction.on_commit(send)


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
