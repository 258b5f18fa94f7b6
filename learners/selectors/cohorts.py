"""Reads for educators: their cohorts, cohort analytics and members.

Every figure is aggregated in the database, so the number of queries does not grow with the cohort.
Callers pass a cohort already checked by `learners.permissions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from coach.models import EngineRun, Strategy
from learners.models import Cohort, CohortMembership, Learner, Recommendation, Reflection, StudySession
from learners.permissions import cohorts_for_educator
from learners.scores import (
    OVERCONFIDENCE_MIN_SESSIONS,
    OVERCONFIDENCE_POINTS,
    WEEKS_SHOWN,
    score_interval,
    score_sd_from_moments,
)

INACTIVE_DAYS = 14


class Estimate(NamedTuple):
    """A mean with its 95% interval (`learners.scores.score_interval`); no interval below two values."""

    label: str
    n: int
    mean: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class CohortOverview:
    members: int
    weeks: list[date]
    active_learners: list[int]
    minutes_per_learner: list[float]
    # strategy name -> share of the week's sessions (0-1), aligned with `weeks`
    strategy_mix: dict[str, list[float]]
    strategy_utility: dict[str, str]
    score_by_strategy: list[Estimate]
    biases: list[float]  # one per learner with a scored session: mean of confidence minus score
    follow_through: dict[str, int]  # recommendation status -> count
    score_after: list[Estimate] = field(default_factory=list)  # followed vs not followed


def cohort_list_for_educator(*, user: User, include_archived: bool = False) -> QuerySet[Cohort]:
    cohorts = cohorts_for_educator(user).annotate(n_members=Count("memberships", distinct=True))
    if not include_archived:
        cohorts = cohorts.filter(archived=False)
    return cohorts.order_by("archived", "name")


def _cohort_sessions(cohort: Cohort) -> QuerySet[StudySession]:
    return StudySession.objects.filter(learner__memberships__cohort=cohort)


def _estimate(label: str, n: int, mean: float | None, mean_sq: float | None) -> Estimate:
    if not n or mean is None:
        return Estimate(label=label, n=n or 0, mean=None)
    if n < 2 or mean_sq is None:
        return Estimate(label=label, n=n, mean=float(mean))
    low, high = score_interval(float(mean), score_sd_from_moments(n, mean, mean_sq), n)
    return Estimate(label=label, n=n, mean=float(mean), low=low, high=high)


def _week_start(now: datetime) -> date:
    today = timezone.localdate(now)
    return today - timedelta(days=today.weekday())


def cohort_overview(*, cohort: Cohort, now: datetime | None = None) -> CohortOverview:
    now = now or timezone.now()
    last_week = _week_start(now)
    weeks = [last_week - timedelta(weeks=i) for i in range(WEEKS_SHOWN - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(weeks[0], datetime.min.time()))
    sessions = _cohort_sessions(cohort)
    recent = sessions.filter(started_at__gte=since).annotate(week=TruncWeek("started_at"))

    by_week = {
        _as_date(row["week"]): row
        for row in recent.values("week").annotate(
            learners=Count("learner", distinct=True), minutes=Sum("minutes"), n=Count("id")
        )
    }
    active = [by_week[w]["learners"] if w in by_week else 0 for w in weeks]
    minutes = [
        round(by_week[w]["minutes"] / by_week[w]["learners"], 1) if w in by_week else 0.0 for w in weeks
    ]

    strategies = list(Strategy.objects.order_by("position").only("pk", "name", "utility"))
    names = {s.pk: s.label for s in strategies}
    mix: dict[str, list[float]] = {}
    for row in recent.values("week", "strategy_id").annotate(n=Count("id")):
        week = _as_date(row["week"])
        if week not in by_week:
            continue
        shares = mix.setdefault(names[row["strategy_id"]], [0.0] * len(weeks))
        shares[weeks.index(week)] = row["n"] / by_week[week]["n"]
    order = [s.label for s in strategies if s.label in mix]

    scored = sessions.filter(score__isnull=False)
    by_strategy = {
        row["strategy_id"]: row
        for row in scored.values("strategy_id").annotate(
            n=Count("id"), mean=Avg("score"), mean_sq=Avg(F("score") * F("score"), output_field=FloatField())
        )
    }
    score_by_strategy = [
        _estimate(s.label, by_strategy[s.pk]["n"], by_strategy[s.pk]["mean"], by_strategy[s.pk]["mean_sq"])
        for s in strategies
        if s.pk in by_strategy
    ]

    biases = [
        round(float(b), 1)
        for b in scored.values("learner_id")
        .annotate(bias=Avg(F("confidence") - F("score"), output_field=FloatField()))
        .values_list("bias", flat=True)
        if b is not None
    ]

    statuses = {
        row["status"]: row["n"]
        for row in Recommendation.objects.filter(learner__memberships__cohort=cohort)
        .values("status")
        .annotate(n=Count("id"))
    }
    follow = {s.value: statuses.get(s.value, 0) for s in Recommendation.Status}

    after_rows = {
        row["followed"]: row
        for row in scored.filter(recommendation__isnull=False)
        .annotate(
            followed=Case(
                When(recommendation__status=Recommendation.Status.FOLLOWED, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("followed")
        .annotate(
            n=Count("id"), mean=Avg("score"), mean_sq=Avg(F("score") * F("score"), output_field=FloatField())
        )
    }
    labels = {True: "followed", False: "not_followed"}
    score_after = [
        _estimate(labels[key], row["n"], row["mean"], row["mean_sq"]) for key, row in after_rows.items()
    ]
    score_after.sort(key=lambda e: e.label)

    return CohortOverview(
        members=CohortMembership.objects.filter(cohort=cohort).count(),
        weeks=weeks,
        active_learners=active,
        minutes_per_learner=minutes,
        strategy_mix={name: mix[name] for name in order},
        strategy_utility={s.label: s.utility for s in strategies},
        score_by_strategy=score_by_strategy,
        biases=biases,
        follow_through=follow,
        score_after=score_after,
    )


def _as_date(value: date | datetime) -> date:
    return timezone.localdate(value) if isinstance(value, datetime) else value


MEMBER_SORTS = {
    "name": "learner__user__username",
    "last": "last_activity",
    "sessions": "n_sessions",
    "score": "mean_score",
    "bias": "bias",
    "flag": "flagged",
}


def member_table(
    *, cohort: Cohort, search: str = "", sort: str = "name", now: datetime | None = None
) -> QuerySet[CohortMembership]:
    """Members with last activity, sessions, mean score, calibration bias and a flag, one query."""
    cutoff = (now or timezone.now()) - timedelta(days=INACTIVE_DAYS)
    rows = (
        CohortMembership.objects.filter(cohort=cohort)
        .select_related("learner__user")
        .annotate(
            last_activity=Max("learner__sessions__started_at"),
            n_sessions=Count("learner__sessions"),
            n_scored=Count("learner__sessions__score"),
            mean_score=Avg("learner__sessions__score"),
            bias=Avg(
                ExpressionWrapper(
                    F("learner__sessions__confidence") - F("learner__sessions__score"),
                    output_field=FloatField(),
                )
            ),
        )
        .annotate(
            inactive=Case(
                When(Q(last_activity__lt=cutoff), then=Value(True)),
                When(Q(last_activity__isnull=True, joined_at__lt=cutoff), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            overconfident=Case(
                When(
                    Q(bias__gte=OVERCONFIDENCE_POINTS, n_scored__gte=OVERCONFIDENCE_MIN_SESSIONS),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .annotate(
            flagged=Case(
                When(Q(inactive=True) | Q(overconfident=True), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )
    if search.strip():
        rows = rows.filter(learner__user__username__icontains=search.strip())
    descending = sort.startswith("-")
    column = MEMBER_SORTS.get(sort.lstrip("-"), MEMBER_SORTS["name"])
    expression = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return rows.order_by(expression, "learner__user__username")


def member_reflections(*, membership: CohortMembership, limit: int = 50) -> list[Reflection]:
    """The member's latest reflections, only when they chose to share them with this cohort."""
    if not membership.share_reflections:
        return []
    return list(
        Reflection.objects.filter(session__learner_id=membership.learner_id)
        .select_related("session__strategy")
        .order_by("-session__started_at", "-pk")[:limit]
    )


def learner_memberships(*, learner: Learner) -> list[CohortMembership]:
    return list(
        CohortMembership.objects.filter(learner=learner)
        .select_related("cohort__owner")
        .order_by("cohort__name")
    )


ENGINE_LEARNERS = ("model", "memory", "evidence")


@dataclass(frozen=True)
class EngineRunRow:
    """An engine run with the figures of its evaluation at the largest k, for the runs table."""

    run: EngineRun
    k: int | None
    held_out: int | None
    rmse: dict[str, float | None]  # learner name -> RMSE in score points
    coverage: float | None  # share of held-out outcomes inside the model's 90% interval


def engine_run_rows(*, runs: list[EngineRun]) -> list[EngineRunRow]:
    rows = []
    for run in runs:
        metrics = run.metrics or {}
        ks = metrics.get("ks") or []
        learners = metrics.get("learners") or {}
        rmse = {name: _last(learners.get(name, {}).get("rmse")) for name in ENGINE_LEARNERS}
        rows.append(
            EngineRunRow(
                run=run,
                k=ks[-1] if ks else None,
                held_out=metrics.get("held_out_learners"),
                rmse=rmse,
                coverage=_last(learners.get("model", {}).get("coverage90")),
            )
        )
    return rows


def _last(values: list[float | None] | None) -> float | None:
    if not values:
        return None
    value = values[-1]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
