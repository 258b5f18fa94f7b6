"""What a learner's dashboard shows, as plain data: time studied, results by strategy, calibration.

Also used by an educator's read-only view of a member, so nothing here depends on a request.
A fixed number of queries whatever the number of sessions: rows are fetched once and summed here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np
from django.core.cache import cache
from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language, gettext

from learners import versions
from learners.models import CohortMembership, Learner, SelfReport, StudySession
from learners.scores import OVERCONFIDENCE_MIN_SESSIONS, OVERCONFIDENCE_POINTS, WEEKS_SHOWN, score_interval
from learners.selectors.sessions import learner_today, learner_zone

# A comparison group's mean is shown only when enough of its sessions back it.
COMPARISON_MIN_SESSIONS = 3


@dataclass(frozen=True)
class WeekMinutes:
    week_start: date  # a Monday, in the learner's time zone
    minutes: int


@dataclass(frozen=True)
class StrategyScores:
    slug: str
    name: str
    utility: str
    scores: tuple[int, ...]
    mean: float
    low: float | None  # 95% interval of the mean; None from a single session, which gives none
    high: float | None
    # Other learners with the same strategy: the learner's cohort, or everyone when not in one.
    comparison_n: int = 0
    comparison_mean: float | None = None
    comparison_low: float | None = None
    comparison_high: float | None = None

    @property
    def n(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class CalibrationPair:
    confidence: int
    score: int
    strategy: str
    day: date


@dataclass(frozen=True)
class CalibrationStats:
    """Schraw (2009): bias, absolute accuracy, Brier score and Goodman–Kruskal gamma."""

    n: int
    bias: float  # mean(confidence − score), in points; > 0 means overconfident
    accuracy: float  # mean |confidence − score|, in points; 0 is perfect
    brier: float  # mean((confidence − score)/100)²; 0 is perfect
    gamma: float | None  # −1..1, None when every pair is tied


@dataclass(frozen=True)
class DashboardData:
    n_sessions: int
    total_minutes: int
    weekly_minutes: tuple[WeekMinutes, ...]
    streak_days: int  # consecutive study days ending today (or yesterday, if not yet today)
    strategy_scores: tuple[StrategyScores, ...]
    comparison_label: str  # "cohort" or "population"
    calibration: tuple[CalibrationPair, ...]
    calibration_stats: CalibrationStats | None
    study_days: tuple[tuple[date, int], ...]  # (day, minutes), oldest first
    today: date
    low_utility_bias: float | None  # calibration bias over low-utility sessions alone
    low_utility_n: int

    @property
    def overconfident_on_low_utility(self) -> bool:
        return (
            self.low_utility_bias is not None
            and self.low_utility_n >= OVERCONFIDENCE_MIN_SESSIONS
            and self.low_utility_bias >= OVERCONFIDENCE_POINTS
        )


def dashboard_data(*, learner: Learner, now: datetime | None = None) -> DashboardData:
    zone = learner_zone(learner=learner)
    today = learner_today(learner=learner, now=now)
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in StudySession.objects.filter(learner=learner)
        .order_by("started_at", "id")
        .values(
            "started_at",
            "minutes",
            "confidence",
            "score",
            "strategy_id",
            "strategy__slug",
            "strategy__name",
            "strategy__utility",
        )
    ]
    for row in rows:
        row["day"] = timezone.localtime(row["started_at"], zone).date()

    minutes_by_day: dict[date, int] = defaultdict(int)
    for row in rows:
        minutes_by_day[row["day"]] += row["minutes"]
    scored = [row for row in rows if row["score"] is not None]
    comparison_label, comparison = _comparison(learner=learner, scored=scored)
    low = [r for r in scored if r["strategy__utility"] == "low"]

    return DashboardData(
        n_sessions=len(rows),
        total_minutes=sum(minutes_by_day.values()),
        weekly_minutes=_weekly(minutes_by_day, today),
        streak_days=_streak(set(minutes_by_day), today),
        strategy_scores=_strategy_scores(scored, comparison),
        comparison_label=comparison_label,
        calibration=tuple(
            CalibrationPair(r["confidence"], r["score"], gettext(r["strategy__name"]), r["day"])
            for r in scored
        ),
        calibration_stats=calibration_stats(
            confidence=[r["confidence"] for r in scored], score=[r["score"] for r in scored]
        ),
        study_days=tuple(sorted(minutes_by_day.items())),
        today=today,
        low_utility_bias=(sum(r["confidence"] - r["score"] for r in low) / len(low)) if low else None,
        low_utility_n=len(low),
    )


# Kept until the learner's data, day, time zone or language changes, or the comparison is renewed.
DASHBOARD_SECONDS = 24 * 3600


def dashboard_key(*, learner: Learner, now: datetime | None = None) -> str:
    """A key for everything the dashboard builds from the learner's data (learners.versions)."""
    now = now or timezone.now()
    today = learner_today(learner=learner, now=now)
    # Other learners' figures are renewed every COMPARISON_SECONDS, whatever the learner does.
    renewal = int(now.timestamp() // COMPARISON_SECONDS)
    parts = [
        learner.pk,
        versions.learner_version(learner.pk),
        today,
        learner.timezone,
        get_language(),
        renewal,
    ]
    return ":".join(str(part) for part in parts)


def dashboard_data_cached(*, learner: Learner, key: str) -> DashboardData:
    """dashboard_data(), built once for each key."""
    return cast(
        DashboardData,
        cache.get_or_set(f"dashboard-data:{key}", lambda: dashboard_data(learner=learner), DASHBOARD_SECONDS),
    )


def calibration_stats(*, confidence: list[int], score: list[int]) -> CalibrationStats | None:
    if not score:
        return None
    c = np.asarray(confidence, dtype=float)
    s = np.asarray(score, dtype=float)
    diff = c - s
    # Goodman–Kruskal gamma over all pairs of sessions: concordant minus discordant, ties dropped.
    sign = np.sign(c[:, None] - c[None, :]) * np.sign(s[:, None] - s[None, :])
    concordant = int((sign > 0).sum()) // 2
    discordant = int((sign < 0).sum()) // 2
    gamma = (concordant - discordant) / (concordant + discordant) if concordant + discordant else None
    return CalibrationStats(
        n=len(s),
        bias=float(diff.mean()),
        accuracy=float(np.abs(diff).mean()),
        brier=float(((diff / 100.0) ** 2).mean()),
        gamma=gamma,
    )


def _weekly(minutes_by_day: dict[date, int], today: date) -> tuple[WeekMinutes, ...]:
    this_monday = today - timedelta(days=today.weekday())
    weeks = {this_monday - timedelta(weeks=k): 0 for k in range(WEEKS_SHOWN - 1, -1, -1)}
    for day, minutes in minutes_by_day.items():
        monday = day - timedelta(days=day.weekday())
        if monday in weeks:
            weeks[monday] += minutes
    return tuple(WeekMinutes(week_start=w, minutes=m) for w, m in weeks.items())


def _streak(days: set[date], today: date) -> int:
    # Today not studied yet does not break the streak: it counts back from yesterday.
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def _strategy_scores(
    scored: list[dict[str, Any]], comparison: dict[int, tuple[int, float, float]]
) -> tuple[StrategyScores, ...]:
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in scored:
        groups[row["strategy_id"]].append(row)
    result = []
    for strategy_id, group in groups.items():
        scores = tuple(r["score"] for r in group)
        mean = sum(scores) / len(scores)
        sd = float(np.std(scores, ddof=1)) if len(scores) > 1 else math.nan
        low, high = score_interval(mean, sd, len(scores))
        other = comparison.get(strategy_id)
        extra: dict[str, Any] = {}
        if other is not None:
            n, other_mean, other_sd = other
            other_low, other_high = score_interval(other_mean, other_sd, n)
            extra = {
                "comparison_n": n,
                "comparison_mean": other_mean,
                "comparison_low": other_low,
                "comparison_high": other_high,
            }
        first = group[0]
        result.append(
            StrategyScores(
                slug=first["strategy__slug"],
                name=gettext(first["strategy__name"]),
                utility=first["strategy__utility"],
                scores=scores,
                mean=mean,
                low=low,
                high=high,
                **extra,
            )
        )
    result.sort(key=lambda s: -s.mean)
    return tuple(result)


def _comparison(
    *, learner: Learner, scored: list[dict[str, Any]]
) -> tuple[str, dict[int, tuple[int, float, float]]]:
    """Count, mean and spread of other learners' scores by strategy: the cohort's, else everyone's."""
    cohort_id = _comparison_cohort(learner)
    group = _group_sums(cohort_id)
    # The group's sums less the learner's own: the others, without a query per learner.
    own: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in scored:
        sums = own[row["strategy_id"]]
        sums[0] += 1
        sums[1] += row["score"]
        sums[2] += row["score"] ** 2
    result = {}
    for strategy_id in own:
        group_n, group_total, group_total_sq = group.get(strategy_id, (0, 0.0, 0.0))
        own_n, own_total, own_total_sq = own[strategy_id]
        n, total, total_sq = int(group_n - own_n), group_total - own_total, group_total_sq - own_total_sq
        if n < COMPARISON_MIN_SESSIONS:
            continue
        mean = total / n
        variance = max(0.0, total_sq / n - mean**2) * n / (n - 1)
        result[strategy_id] = (n, mean, math.sqrt(variance))
    return ("cohort" if cohort_id is not None else "population"), result


def _comparison_cohort(learner: Learner) -> int | None:
    """The cohort a learner is compared with: the first they joined that still runs."""
    return (
        CohortMembership.objects.filter(learner=learner, cohort__archived=False)
        .order_by("joined_at")
        .values_list("cohort_id", flat=True)
        .first()
    )


# Other learners' figures change with every session anyone logs; as the background to a learner's
# own they are recomputed at most this often, so that a dashboard stays cached between its own changes.
COMPARISON_SECONDS = 600


def _group_sums(cohort_id: int | None) -> dict[int, tuple[int, float, float]]:
    """Per strategy, the count, sum and sum of squares of the scores of a cohort or of everyone."""
    key = f"comparison-sums:{versions.FORMAT}:{cohort_id or 'all'}"
    cached = cache.get(key)
    if cached is not None:
        return cast(dict[int, tuple[int, float, float]], cached)
    sessions = StudySession.objects.filter(score__isnull=False)
    if cohort_id is not None:
        sessions = sessions.filter(learner__memberships__cohort_id=cohort_id)
    score = Cast(F("score"), FloatField())
    rows = sessions.values("strategy_id").annotate(
        n=Count("id"), total=Sum(score), total_sq=Sum(score * score)
    )
    sums = {row["strategy_id"]: (row["n"], float(row["total"]), float(row["total_sq"])) for row in rows}
    cache.set(key, sums, COMPARISON_SECONDS)
    return sums


# Self-report ---------------------------------------------------------------------------------------

SELFREPORT_INTERVAL = timedelta(days=30)


def selfreport_recent(*, learner: Learner) -> list[SelfReport]:
    """The latest self-report and the one before it, newest first."""
    return list(SelfReport.objects.filter(learner=learner).order_by("-created_at", "-id")[:2])


def selfreport_due(*, latest: SelfReport | None, now: datetime | None = None) -> bool:
    """Prompted after sign-up, then once a month."""
    return latest is None or (now or timezone.now()) - latest.created_at >= SELFREPORT_INTERVAL
