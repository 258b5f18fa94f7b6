"""Reads for educators: their cohorts, cohort analytics and members.

Every figure is aggregated in the database, so the number of queries does not grow with the cohort.
Callers pass a cohort already checked by `learners.permissions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, cast

from django.contrib.auth.models import User
from django.core.cache import cache
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
from django.utils.translation import get_language

from coach.models import Strategy
from learners import versions
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


# Kept until a member's data, the membership, the week, the time zone or the language changes.
OVERVIEW_SECONDS = 24 * 3600


def cohort_overview_key(*, cohort: Cohort, now: datetime | None = None) -> str:
    """A key for everything the cohort page builds from its members' data (learners.versions)."""
    week = _week_start(now or timezone.now())
    parts = [cohort.pk, versions.cohort_version(cohort.pk), week, timezone.get_current_timezone_name()]
    return ":".join(str(part) for part in [*parts, get_language()])


def member_table_key(*, overview_key: str, search: str, sort: str, page: str) -> str:
    """A key for one page of the member table: the cohort's data as for the overview, and the day,
    since who counts as inactive changes with it."""
    return ":".join([overview_key, str(timezone.localdate()), search, sort, page])


def cohort_overview_cached(*, cohort: Cohort, key: str) -> CohortOverview:
    """cohort_overview(), built once for each key."""
    return cast(
        CohortOverview,
        cache.get_or_set(f"cohort-overview:{key}", lambda: cohort_overview(cohort=cohort), OVERVIEW_SECONDS),
    )


def cohort_overview(*, cohort: Cohort, now: datetime | None = None) -> CohortOverview:
    """The cohort page's figures: weekly activity and strategy mix over the window, scores and
    calibration over all sessions, and what became of the recommendations."""
    last_week = _week_start(now or timezone.now())
    weeks = [last_week - timedelta(weeks=i) for i in range(WEEKS_SHOWN - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(weeks[0], datetime.min.time()))
    sessions = _cohort_sessions(cohort)
    recent = sessions.filter(started_at__gte=since).annotate(week=TruncWeek("started_at"))
    scored = sessions.filter(score__isnull=False)
    strategies = list(Strategy.objects.order_by("position").only("pk", "name", "utility"))
    by_week = _weekly_totals(recent)
    return CohortOverview(
        members=CohortMembership.objects.filter(cohort=cohort).count(),
        weeks=weeks,
        active_learners=[by_week[w]["learners"] if w in by_week else 0 for w in weeks],
        minutes_per_learner=[
            round(by_week[w]["minutes"] / by_week[w]["learners"], 1) if w in by_week else 0.0 for w in weeks
        ],
        strategy_mix=_strategy_mix(recent, weeks, by_week, strategies),
        strategy_utility={s.label: s.utility for s in strategies},
        score_by_strategy=_scores_by_strategy(scored, strategies),
        biases=_calibration_biases(scored),
        follow_through=_follow_through(cohort),
        score_after=_scores_after_recommendation(scored),
    )


def _weekly_totals(recent: QuerySet[Any, Any]) -> dict[date, dict[str, Any]]:
    """Per week: active learners, minutes and sessions."""
    rows = recent.values("week").annotate(
        learners=Count("learner", distinct=True), minutes=Sum("minutes"), n=Count("id")
    )
    return {_as_date(row["week"]): row for row in rows}


def _strategy_mix(
    recent: QuerySet[Any, Any],
    weeks: list[date],
    by_week: dict[date, dict[str, Any]],
    strategies: list[Strategy],
) -> dict[str, list[float]]:
    """Strategy name -> its share of each week's sessions, in catalogue order."""
    names = {s.pk: s.label for s in strategies}
    mix: dict[str, list[float]] = {}
    for row in recent.values("week", "strategy_id").annotate(n=Count("id")):
        week = _as_date(row["week"])
        if week not in by_week:
            continue
        shares = mix.setdefault(names[row["strategy_id"]], [0.0] * len(weeks))
        shares[weeks.index(week)] = row["n"] / by_week[week]["n"]
    return {s.label: mix[s.label] for s in strategies if s.label in mix}


def _score_moments(rows: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
    """Count, mean and mean of squares of the scores in each group of `rows`."""
    return rows.annotate(
        n=Count("id"), mean=Avg("score"), mean_sq=Avg(F("score") * F("score"), output_field=FloatField())
    )


def _scores_by_strategy(scored: QuerySet[StudySession], strategies: list[Strategy]) -> list[Estimate]:
    rows = {row["strategy_id"]: row for row in _score_moments(scored.values("strategy_id"))}
    return [
        _estimate(s.label, rows[s.pk]["n"], rows[s.pk]["mean"], rows[s.pk]["mean_sq"])
        for s in strategies
        if s.pk in rows
    ]


def _calibration_biases(scored: QuerySet[StudySession]) -> list[float]:
    """One per learner: their mean of confidence minus score."""
    biases = (
        scored.values("learner_id")
        .annotate(bias=Avg(F("confidence") - F("score"), output_field=FloatField()))
        .values_list("bias", flat=True)
    )
    return [round(float(b), 1) for b in biases if b is not None]


def _follow_through(cohort: Cohort) -> dict[str, int]:
    """Recommendation status -> how many of the members' recommendations have it."""
    statuses = {
        row["status"]: row["n"]
        for row in Recommendation.objects.filter(learner__memberships__cohort=cohort)
        .values("status")
        .annotate(n=Count("id"))
    }
    return {s.value: statuses.get(s.value, 0) for s in Recommendation.Status}


def _scores_after_recommendation(scored: QuerySet[StudySession]) -> list[Estimate]:
    """Scores of sessions after a followed recommendation, beside those after one not followed."""
    followed = Case(
        When(recommendation__status=Recommendation.Status.FOLLOWED, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    after = scored.filter(recommendation__isnull=False).annotate(followed=followed).values("followed")
    labels = {True: "followed", False: "not_followed"}
    estimates = [
        _estimate(labels[row["followed"]], row["n"], row["mean"], row["mean_sq"])
        for row in _score_moments(after)
    ]
    return sorted(estimates, key=lambda e: e.label)


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
    return list(member_shared_reflections(membership=membership)[:limit])


def member_shared_reflections(*, membership: CohortMembership) -> QuerySet[Reflection]:
    """All the member's reflections, newest first, if they share them with this cohort; else none."""
    if not membership.share_reflections:
        return Reflection.objects.none()
    return (
        Reflection.objects.filter(session__learner_id=membership.learner_id)
        .select_related("session__strategy")
        .order_by("-session__started_at", "-pk")
    )


def learner_memberships(*, learner: Learner) -> list[CohortMembership]:
    return list(
        CohortMembership.objects.filter(learner=learner)
        .select_related("cohort__owner")
        .order_by("cohort__name")
    )
