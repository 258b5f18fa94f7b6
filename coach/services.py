"""Writes for recommendations: asking the worker for one, and computing one in the worker."""

from __future__ import annotations

import logging

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from coach import selectors
from coach.fallback import evidence_ranking
from coach.models import Recommendation, Strategy
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
    """Compute and store the learner's recommendation; a second run on the same data is a no-op."""
    if not Learner.objects.filter(pk=learner_id).exists():
        return None  # the learner deleted their account meanwhile
    strategies = selectors.strategy_list()
    record = selectors.strategy_record(learner_id=learner_id, strategies=strategies)
    basis = f"evidence:{record.basis}:{subject}:{task_kind}"
    existing = Recommendation.objects.filter(learner_id=learner_id, basis=basis).first()
    if existing is not None:
        return existing
    mean, std = evidence_ranking([s.utility for s in strategies], record.counts, record.means)
    order = np.argsort(-mean, kind="stable")
    best = strategies[order[0]]
    ranking = [_ranking_item(strategies[i], mean[i], std[i], int(record.counts[i])) for i in order]
    source = Recommendation.Source.HISTORY if record.counts.sum() else Recommendation.Source.EVIDENCE
    try:
        with transaction.atomic():
            return Recommendation.objects.create(
                learner_id=learner_id,
                subject=subject,
                task_kind=task_kind,
                strategy=best,
                expected_score=float(mean[order[0]]),
                score_std=float(std[order[0]]),
                reason=_evidence_reason(best, ranking, int(record.counts[order[0]]), record.means[order[0]]),
                ranking=ranking,
                source=source,
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


def _ranking_item(strategy: Strategy, mean: float, std: float, n: int) -> dict[str, object]:
    return {
        "slug": strategy.slug,
        "name": strategy.name,
        "utility": strategy.utility,
        "expected": round(float(mean), 1),
        "std": round(float(std), 1),
        "low": round(max(0.0, mean - 1.645 * std), 1),
        "high": round(min(100.0, mean + 1.645 * std), 1),
        "own_sessions": n,
    }


def _evidence_reason(best: Strategy, ranking: list[dict[str, object]], n: int, own_mean: float) -> str:
    runner_up = ranking[1]
    evidence = _("%(name)s is rated %(utility)s utility in published research (Dunlosky et al. 2013).") % {
        "name": best.name,
        "utility": best.get_utility_display().lower(),
    }
    if n:
        own = _("Your own average with it is %(mean).0f over %(n)d scored sessions.") % {
            "mean": own_mean,
            "n": n,
        }
    else:
        own = _("Log sessions with a self-test score to make this advice your own.")
    gap = _("Expected score %(expected).0f, %(gap).0f points above the next option, %(other)s.") % {
        "expected": ranking[0]["expected"],
        "gap": float(ranking[0]["expected"]) - float(runner_up["expected"]),  # type: ignore[arg-type]
        "other": runner_up["name"],
    }
    return f"{evidence} {own} {gap}"
