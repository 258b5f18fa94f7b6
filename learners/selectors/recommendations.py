"""Reads about a learner's recommendations and the record they are computed from."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db import models
from django.db.models import Avg, Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coach.advice import DEFAULT_MAX_COST, DEFAULT_POLICY, PolicySetting, StrategyRecord
from coach.fallback import Population, population_estimate
from coach.models import Policy, Strategy
from learners.models import CohortMembership, Learner, Recommendation, StudySession

# How long the dashboard waits for an answer to a request that may write nothing new.
PENDING_WINDOW = timedelta(minutes=2)
# After this long without an answer the card says the worker may be busy or stopped.
WAITING_AFTER = timedelta(seconds=30)


def recommendation_latest(*, learner: Learner) -> Recommendation | None:
    return Recommendation.objects.filter(learner=learner).select_related("strategy").first()


def strategy_record(*, learner_id: int, strategies: list[Strategy]) -> StrategyRecord:
    sessions = StudySession.objects.filter(learner_id=learner_id)
    rows = (
        sessions.filter(score__isnull=False).values("strategy_id").annotate(n=Count("id"), mean=Avg("score"))
    )
    index = {s.pk: i for i, s in enumerate(strategies)}
    counts = np.zeros(len(strategies))
    means = np.full(len(strategies), np.nan)
    for row in rows:
        counts[index[row["strategy_id"]]] = row["n"]
        means[index[row["strategy_id"]]] = row["mean"]
    summary = sessions.aggregate(n=Count("id"), last=Max("updated_at"))
    last = summary["last"].timestamp() if summary["last"] else 0
    return StrategyRecord(counts=counts, means=means, basis=f"{summary['n']}:{last:.6f}")


POPULATION_SESSIONS = 5000  # the latest scored sessions the spreads are estimated from


def population_current(*, strategies: list[Strategy]) -> Population:
    """The install's learners in general, from its latest scored sessions (for advice before a
    snapshot, when there are few)."""
    rows = (
        StudySession.objects.filter(score__isnull=False, strategy__in=strategies)
        .order_by("-pk")
        .values_list("learner_id", "strategy_id", "score")[:POPULATION_SESSIONS]
    )
    index = {s.pk: i for i, s in enumerate(strategies)}
    data = np.array(list(rows), dtype=np.int64).reshape(-1, 3)
    return population_estimate(
        [s.utility for s in strategies],
        data[:, 0],
        np.array([index[pk] for pk in data[:, 1]], dtype=np.int64),
        data[:, 2].astype(np.float64),
    )


def learners_needing_refresh(*, limit: int = 500) -> list[int]:
    """Learners whose sessions changed after their latest recommendation, or who have none yet."""
    latest = (
        Recommendation.objects.filter(learner=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    )
    changed = (
        StudySession.objects.filter(learner=OuterRef("pk")).order_by("-updated_at").values("updated_at")[:1]
    )
    learners: QuerySet[Learner] = Learner.objects.annotate(latest=Subquery(latest), changed=Subquery(changed))
    stale = learners.filter(Q(latest__isnull=True) | Q(changed__gt=F("latest")))
    return list(stale.order_by("pk").values_list("pk", flat=True)[:limit])


def recommendation_is_stale(*, learner: Learner) -> bool:
    latest = recommendation_latest(learner=learner)
    if latest is None:
        return True
    return StudySession.objects.filter(learner=learner, updated_at__gt=latest.created_at).exists()


def recommendation_get(*, learner: Learner, recommendation_id: int) -> Recommendation:
    """The learner's own recommendation; anyone else's answers 404, as if it did not exist."""
    return get_object_or_404(
        Recommendation.objects.select_related("strategy"), pk=recommendation_id, learner=learner
    )


class RecommendationStatus(models.TextChoices):
    """What the card says about the recommendation it shows."""

    READY = "ready", _("Up to date")
    NEW_SESSIONS = "new_sessions", _("Updating with your latest sessions…")
    ASKED = "asked", _("Working out the recommendation you asked for…")
    WAITING = (
        "waiting",
        _(
            "The background engine has not answered yet; it may be busy or stopped. Your sessions are "
            "saved, and the recommendation will follow."
        ),
    )


def recommendation_status(
    *, learner: Learner, latest: Recommendation | None, now: datetime | None = None
) -> RecommendationStatus:
    """Ready; computing after new sessions or for a new request; or waiting on a worker that has
    not answered within WAITING_AFTER."""
    now = now or timezone.now()
    asked = learner.refresh_requested_at
    answered = latest.created_at if latest else None
    waiting_since = asked if asked is not None and (answered is None or asked > answered) else None
    if latest is None or recommendation_is_stale(learner=learner):
        unanswered = waiting_since is None or now - waiting_since > WAITING_AFTER
        if unanswered and (latest is not None or asked is not None):
            return RecommendationStatus.WAITING
        return RecommendationStatus.NEW_SESSIONS
    # A request for a situation already answered writes nothing new: stop waiting after a while.
    if waiting_since is not None and now - waiting_since < PENDING_WINDOW:
        return RecommendationStatus.ASKED
    return RecommendationStatus.READY


def strategies_set_aside(*, learner_id: int, subject: str, task_kind: str) -> set[int]:
    """Strategy ids the learner dismissed for this situation (subject and kind of task)."""
    dismissed = Recommendation.objects.filter(
        learner_id=learner_id, subject=subject, task_kind=task_kind, status=Recommendation.Status.DISMISSED
    )
    return set(dismissed.values_list("strategy_id", flat=True))


def policy_setting(*, learner_id: int) -> PolicySetting:
    """The rule the engine follows for this learner: that of the cohort they joined most recently
    among their cohorts (archived ones aside) whose setting differs from the default; the default
    when none does. One query."""
    default = Q(cohort__policy_rule=Policy.THOMPSON, cohort__policy_max_cost=DEFAULT_MAX_COST)
    row = (
        CohortMembership.objects.filter(learner_id=learner_id, cohort__archived=False)
        .exclude(default)
        .order_by("-joined_at", "-pk")
        .values_list("cohort__policy_rule", "cohort__policy_max_cost")
        .first()
    )
    return DEFAULT_POLICY if row is None else PolicySetting(rule=row[0], max_cost=row[1])
