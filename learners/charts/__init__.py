"""Plotly figures for learners' and cohorts' pages: pure functions from plain data to figures.

No queries here: selectors produce the data, these functions draw it, templates embed the
result with `includes/chart.html` and plotly's own JavaScript served from static/.
"""

from learners.charts.base import EDUCATOR, LEARNER, Audience, Chart, base_layout
from learners.charts.cohort import (
    cohort_active_chart,
    cohort_after_chart,
    cohort_bias_chart,
    cohort_follow_chart,
    cohort_minutes_chart,
    cohort_score_chart,
    cohort_strategy_mix_chart,
)
from learners.charts.engine import engine_rmse_chart
from learners.charts.learner import (
    calibration_chart,
    calibration_numbers,
    calibration_sentence,
    dashboard_charts,
    profile_chart,
    strategy_scores_chart,
    study_calendar_chart,
    weekly_minutes_chart,
)

__all__ = [
    "EDUCATOR",
    "LEARNER",
    "Audience",
    "Chart",
    "base_layout",
    "calibration_chart",
    "calibration_numbers",
    "calibration_sentence",
    "cohort_active_chart",
    "cohort_after_chart",
    "cohort_bias_chart",
    "cohort_follow_chart",
    "cohort_minutes_chart",
    "cohort_score_chart",
    "cohort_strategy_mix_chart",
    "dashboard_charts",
    "engine_rmse_chart",
    "profile_chart",
    "strategy_scores_chart",
    "study_calendar_chart",
    "weekly_minutes_chart",
]
