"""The score statistics the pages share: one interval, one overconfidence rule, one window.

A learner's dashboard, an educator's view of a member and the cohort overview all read these,
so the same sessions give the same figures wherever they are shown.
"""

from __future__ import annotations

import math

from scipy import stats

WEEKS_SHOWN = 12  # the window of the weekly charts and the cohort overview
# Confidence above the self-test score by this many points on average, over at least this many
# scored sessions, is overconfidence (the illusion-of-competence nudge, the cohort's flag).
OVERCONFIDENCE_POINTS = 15.0
OVERCONFIDENCE_MIN_SESSIONS = 3


def score_interval(mean: float, sd: float, n: int) -> tuple[float | None, float | None]:
    """The 95% interval of a mean score (Student's t), within 0-100; none from fewer than two."""
    if n < 2 or not math.isfinite(sd):
        return None, None
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return max(0.0, mean - half), min(100.0, mean + half)


def score_sd_from_moments(n: int, mean: float, mean_sq: float) -> float:
    """The sample standard deviation from a database's mean and mean of squares."""
    if n < 2:
        return math.nan
    return math.sqrt(max(0.0, (mean_sq - mean * mean) * n / (n - 1)))
