"""Writes of recommendations: queued after a change, computed by the worker, answered by the learner."""

from __future__ import annotations

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError

from coach.advice import POLICY_VERSION, advice_from_engine, advice_from_evidence
from coach.reasons import reason_text
from coach.selectors import strategy_list
from coach.snapshots import snapshot_current
from learners import dataset
from learners.models import Learner, Recommendation
from learners.selectors import recommendations

logger = logging.getLogger(__name__)


def recommendation_request(*, learner_id: int, subject: str = "", task_kind: str = "") -> bool | None:
    """Ask the worker to refresh a learner's recommendation once the current transaction commits.

    Returns True when the task was queued, False when the broker could not be reached (the
    periodic catch-up will refresh later), None when queueing waits for an outer transaction.
    """
    from learners.tasks import recommendation_refresh_task  # tasks import services; import late

    outcome: dict[str, bool] = {}

    def send() -> None:
        # Stamped before sending: a worker quick enough to answer before the stamp is written
        # still answers after the time asked, so the learner is not left waiting for it.
        asked = timezone.now()
        try:
            recommendation_refresh_task.delay(learner_id, subject, task_kind)
        except (BrokerError, OSError) as exc:
            logger.warning("Broker unavailable, recommendation for learner %s deferred: %s", learner_id, exc)
            outcome["queued"] = False
        else:
            outcome["queued"] = True
            Learner.objects.filter(pk=learner_id).update(refresh_requested_at=asked)

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
    strategies = strategy_list()
    record = recommendations.strategy_record(learner_id=learner_id, strategies=strategies)
    snapshot = snapshot_current()
    usable = snapshot is not None and snapshot.strategy_slugs == [s.slug for s in strategies]
    version = f"engine{snapshot.id}" if usable and snapshot else "evidence"
    set_aside = recommendations.strategies_set_aside(
        learner_id=learner_id, subject=subject, task_kind=task_kind
    )
    setting = recommendations.policy_setting(learner_id=learner_id)
    # No language in the basis: the reason is stored as facts and shown in the reader's language.
    # The rule is in it: a cohort's new setting gives the next refresh a new recommendation.
    rule = f"{setting.rule}:{setting.max_cost}:{POLICY_VERSION}"
    situation = f"{subject}\n{task_kind}\n{sorted(set_aside)}\n{rule}".encode()
    basis = f"{version}:{record.basis}:{hashlib.sha256(situation).hexdigest()[:24]}"
    excluded = frozenset(i for i, s in enumerate(strategies) if s.pk in set_aside)
    existing = Recommendation.objects.filter(learner_id=learner_id, basis=basis).first()
    if existing is not None:
        return existing
    with translation.override("en"):  # the English rendering kept in `reason`
        if usable and snapshot:
            history = dataset.session_log_build(
                strategy_ids=[s.pk for s in strategies], learner_ids=[learner_id]
            )
            _, context = dataset.situation_context(learner=learner, task_kind=task_kind)
            advice = advice_from_engine(
                strategies=strategies,
                snapshot=snapshot,
                history=history,
                context=context,
                seed_key=basis,
                set_aside=excluded,
                setting=setting,
            )
        else:
            advice = advice_from_evidence(
                strategies=strategies,
                record=record,
                population=recommendations.population_current(strategies=strategies),
                set_aside=excluded,
            )
        reason = reason_text(advice.reason_facts, {s.slug: s.name for s in strategies})
    chance = advice.propensities
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
                reason_facts=advice.reason_facts,
                reason=reason,
                ranking=[row.to_json() for row in advice.ranking],
                source=advice.source,
                snapshot_id=snapshot.id if usable and snapshot else None,
                basis=basis,
                policy=chance.policy,
                policy_version=chance.version,
                policy_max_cost=chance.max_cost,
                propensities=chance.probability,
                propensity_stderr=chance.stderr,
                propensity_draws=chance.draws,
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
    if status == Recommendation.Status.DISMISSED:
        # The next-best strategy for the same situation; the dismissed one stays on record.
        recommendation_request(
            learner_id=recommendation.learner_id,
            subject=recommendation.subject,
            task_kind=recommendation.task_kind,
        )
    return recommendation


def recommendation_catch_up(*, limit: int = 500) -> int:
    """Queue refreshes for learners whose recommendation is missing or older than their sessions."""
    learner_ids = recommendations.learners_needing_refresh(limit=limit)
    for learner_id in learner_ids:
        recommendation_request(learner_id=learner_id)
    return len(learner_ids)


def recommendation_catch_up_all() -> None:
    """After a new snapshot every learner's recommendation is out of date; refresh them lazily."""
    from learners.tasks import recommendation_catch_up_task  # tasks import services; import late

    def send() -> None:
        try:
            recommendation_catch_up_task.delay()
        except (BrokerError, OSError):
            logger.warning("Broker unavailable; recommendations refresh at the next periodic catch-up")

    transaction.on_commit(send)
