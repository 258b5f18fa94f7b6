"""When to study a subject next: a spacing schedule bounded by the exam.

Source: Cepeda, Vul, Rohrer, Wixted & Pashler (2008). Spacing effects in learning: a temporal
ridgeline of optimal retention. Psychological Science, 19(11), 1095-1102. Over 1,354 people
tested up to a year later, the gap between two study sessions that gave the best recall at the
test was a share of the retention interval (the time from the last session to the test), and
that share fell as the interval grew: about 20-40% of a one-week interval, 10-20% of a month,
5-10% of a year. `RIDGELINE` holds the middle of each of those bands:

    retention interval (days)   optimal gap, share of it
            7                          0.30
           30                          0.15
          365                          0.075

Between the rows the share is interpolated linearly in log(interval days); outside them it is
held at the end value. The retention interval is the days from today to the exam or, with no
exam, `DEFAULT_HORIZON_DAYS` (a month: the study found the benefit of spacing at every interval
it tried, and a month is the usual span between course tests).

The study measured two sessions. For more, the first gap is the ridgeline's and each later gap
is `GROWTH` times the one before (expanding practice: each return to the material lets it hold
for longer), so gaps never shrink. With an exam, the last session falls on the day before it;
if that day comes too soon after the session before it, that session moves to the day before
the exam instead, which keeps the gaps non-decreasing.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

RIDGELINE_DAYS = np.array([7.0, 30.0, 365.0])
RIDGELINE_SHARE = np.array([0.30, 0.15, 0.075])
DEFAULT_HORIZON_DAYS = 30
GROWTH = 1.5
MAX_SESSIONS = 10


def optimal_gap_share(retention_days: float) -> float:
    """The ridgeline's optimal gap as a share of a retention interval of `retention_days`."""
    if retention_days <= 0:
        raise ValueError(f"retention_days must be positive, got {retention_days}")
    return float(np.interp(np.log(retention_days), np.log(RIDGELINE_DAYS), RIDGELINE_SHARE))


def spacing_schedule(
    *,
    today: date,
    last_studied: date | None = None,
    exam: date | None = None,
    max_sessions: int = MAX_SESSIONS,
) -> tuple[date, ...]:
    """The next study dates, after today and before the exam, with gaps that never shrink.

    `last_studied` (the learner's last session of the subject, if any) anchors the first gap; a
    first date that would fall today or earlier becomes tomorrow. No dates when the exam is
    today or tomorrow: there is no day left between now and the exam.
    """
    if max_sessions < 1:
        raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
    end = exam if exam is not None else today + timedelta(days=DEFAULT_HORIZON_DAYS + 1)
    last_day = end - timedelta(days=1)  # the latest date a session may have
    if last_day <= today:
        return ()
    retention = (end - today).days
    gap = max(1.0, optimal_gap_share(retention) * retention)
    anchor = last_studied if last_studied is not None and last_studied <= today else today
    first = max(anchor + timedelta(days=round(gap)), today + timedelta(days=1))
    dates = [first] if first <= last_day else []
    while dates and len(dates) < max_sessions:
        gap *= GROWTH
        step = max(round(gap), (dates[-1] - dates[-2]).days if len(dates) > 1 else 1)
        following = dates[-1] + timedelta(days=step)
        if following > last_day:
            break
        dates.append(following)
    if exam is not None:
        dates = _end_before_exam(dates, last_day=last_day, max_sessions=max_sessions)
    return tuple(dates)


def _end_before_exam(dates: list[date], *, last_day: date, max_sessions: int) -> list[date]:
    """Make the day before the exam the last session without making a gap shorter."""
    if not dates:
        return [last_day]
    if dates[-1] == last_day:
        return dates
    before = (dates[-1] - dates[-2]).days if len(dates) > 1 else 0
    if (last_day - dates[-1]).days >= before and len(dates) < max_sessions:
        return [*dates, last_day]
    return [*dates[:-1], last_day]
