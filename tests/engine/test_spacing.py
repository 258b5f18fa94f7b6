"""The spacing schedule: Cepeda et al.'s ridgeline, gaps that never shrink, nothing after the exam."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from coach.engine.spacing import (
    DEFAULT_HORIZON_DAYS,
    MAX_SESSIONS,
    optimal_gap_share,
    spacing_schedule,
)

TODAY = date(2026, 3, 2)


def _gaps(dates: tuple[date, ...]) -> list[int]:
    return [(b - a).days for a, b in itertools.pairwise(dates)]


@pytest.mark.parametrize(("days", "low", "high"), [(7, 0.20, 0.40), (30, 0.10, 0.20), (365, 0.05, 0.10)])
def test_share_of_the_retention_interval_is_within_the_published_band(
    days: int, low: float, high: float
) -> None:
    assert low <= optimal_gap_share(days) <= high


def test_share_falls_as_the_retention_interval_grows() -> None:
    shares = [optimal_gap_share(d) for d in range(1, 800)]
    assert all(a >= b for a, b in itertools.pairwise(shares))


def test_last_session_is_the_day_before_the_exam() -> None:
    exam = TODAY + timedelta(days=60)
    dates = spacing_schedule(today=TODAY, exam=exam)
    assert dates[-1] == exam - timedelta(days=1)
    assert len(dates) >= 3


def test_gaps_expand_towards_a_year_away_exam() -> None:
    dates = spacing_schedule(today=TODAY, exam=TODAY + timedelta(days=365))
    gaps = _gaps(dates)
    assert gaps[-1] > gaps[0]
    # The first gap is the ridgeline's: about 5-10% of a year.
    assert 18 <= (dates[0] - TODAY).days <= 37


def test_without_an_exam_the_default_horizon_bounds_the_dates() -> None:
    dates = spacing_schedule(today=TODAY)
    assert dates
    assert dates[-1] <= TODAY + timedelta(days=DEFAULT_HORIZON_DAYS)


def test_first_gap_counts_from_the_last_study() -> None:
    exam = TODAY + timedelta(days=60)
    fresh = spacing_schedule(today=TODAY, exam=exam)
    studied = spacing_schedule(today=TODAY, last_studied=TODAY - timedelta(days=3), exam=exam)
    assert studied[0] == fresh[0] - timedelta(days=3)


def test_an_overdue_first_session_is_tomorrow() -> None:
    dates = spacing_schedule(
        today=TODAY, last_studied=TODAY - timedelta(days=90), exam=TODAY + timedelta(days=30)
    )
    assert dates[0] == TODAY + timedelta(days=1)


@pytest.mark.parametrize("days", [-5, 0, 1])
def test_no_dates_when_no_day_is_left_before_the_exam(days: int) -> None:
    assert spacing_schedule(today=TODAY, exam=TODAY + timedelta(days=days)) == ()


def test_exam_in_two_days_gives_tomorrow() -> None:
    assert spacing_schedule(today=TODAY, exam=TODAY + timedelta(days=2)) == (TODAY + timedelta(days=1),)


def test_max_sessions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_sessions"):
        spacing_schedule(today=TODAY, max_sessions=0)


# Properties, checked over every exam up to two years away and a range of last-study dates
# (hypothesis is not among the dev requirements; the grid covers the same space exhaustively).
CASES = [
    (exam_days, last)
    for exam_days in [*range(2, 120), *range(120, 731, 7)]
    for last in (None, 0, 1, 4, 13, 40)
]


@pytest.mark.parametrize("max_sessions", [1, 3, MAX_SESSIONS])
def test_properties_hold_for_every_exam_and_last_study(max_sessions: int) -> None:
    for exam_days, last in CASES:
        exam = TODAY + timedelta(days=exam_days)
        last_studied = None if last is None else TODAY - timedelta(days=last)
        dates = spacing_schedule(today=TODAY, last_studied=last_studied, exam=exam, max_sessions=max_sessions)
        case = (exam_days, last, dates)
        assert 1 <= len(dates) <= max_sessions, case
        assert all(TODAY < d < exam for d in dates), case
        assert len(set(dates)) == len(dates), case
        gaps = _gaps(dates)
        assert all(g >= 1 for g in gaps), case
        assert all(a <= b for a, b in itertools.pairwise(gaps)), case
        assert dates[-1] == exam - timedelta(days=1), case
