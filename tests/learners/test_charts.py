"""Dashboard figures: pure functions from the selector's plain data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from learners.charts import calibration_sentence, dashboard_charts, profile_chart
from learners.selectors.dashboard import (
    CalibrationPair,
    CalibrationStats,
    DashboardData,
    StrategyScores,
    WeekMinutes,
    calibration_stats,
)

TODAY = date(2026, 3, 11)


def data(**overrides: object) -> DashboardData:
    values: dict[str, object] = {
        "n_sessions": 0,
        "total_minutes": 0,
        "weekly_minutes": tuple(WeekMinutes(TODAY - timedelta(weeks=k), 0) for k in range(11, -1, -1)),
        "streak_days": 0,
        "strategy_scores": (),
        "comparison_label": "population",
        "calibration": (),
        "calibration_stats": None,
        "study_days": (),
        "today": TODAY,
        "low_utility_bias": None,
        "low_utility_n": 0,
    }
    values.update(overrides)
    return DashboardData(**values)  # type: ignore[arg-type]


def studied() -> DashboardData:
    pairs = (
        CalibrationPair(80, 60, "Rereading", TODAY),
        CalibrationPair(70, 58, "Rereading", TODAY - timedelta(days=1)),
    )
    return data(
        n_sessions=2,
        total_minutes=70,
        streak_days=2,
        strategy_scores=(
            StrategyScores(
                "rereading",
                "Rereading",
                "low",
                (60, 58),
                59.0,
                46.3,
                71.7,
                comparison_n=9,
                comparison_mean=55.0,
                comparison_low=50.0,
                comparison_high=60.0,
            ),
        ),
        calibration=pairs,
        calibration_stats=calibration_stats(confidence=[80, 70], score=[60, 58]),
        study_days=((TODAY - timedelta(days=1), 30), (TODAY, 40)),
    )


def test_every_chart_has_an_empty_state_without_sessions() -> None:
    charts = dashboard_charts(data())
    assert [c.key for c in charts] == ["weekly-minutes", "strategy-scores", "calibration", "study-calendar"]
    assert all(c.figure is None and c.summary for c in charts)
    assert all(c.html() == "" for c in charts)


def test_every_chart_draws_a_figure_with_a_text_summary_once_there_are_sessions() -> None:
    charts = dashboard_charts(studied())
    assert all(c.figure is not None for c in charts)
    assert all(f'id="chart-{c.key}"' in c.html() for c in charts)


def test_calibration_chart_draws_the_diagonal_and_states_the_bias_in_words() -> None:
    chart = dashboard_charts(studied())[2]
    assert chart.figure is not None
    diagonal = chart.figure.data[0]
    assert list(diagonal["x"]) == [0, 100] and list(diagonal["y"]) == [0, 100]
    assert "You tend to expect 16 points more than you score." in chart.summary
    assert "Brier score 0.027" in chart.summary


def test_strategy_chart_shows_the_comparison_group_beside_the_learners_own_mean() -> None:
    chart = dashboard_charts(studied())[1]
    assert chart.figure is not None
    assert [t["name"] for t in chart.figure.data] == [
        "Your sessions",
        "Your mean (95% interval)",
        "All learners (95% interval)",
    ]
    assert "all learners: 55" in chart.summary


def test_weekly_chart_title_counts_the_streak() -> None:
    chart = dashboard_charts(studied())[0]
    assert "Current streak: 2 days in a row." in chart.summary


@pytest.mark.parametrize(
    ("bias", "sentence"),
    [
        (14.2, "You tend to expect 14 points more than you score."),
        (-9.0, "You tend to expect 9 points less than you score."),
        (1.0, "Your expectations match your scores well"),
    ],
)
def test_calibration_sentence_says_which_way_the_learner_is_off(bias: float, sentence: str) -> None:
    stats = CalibrationStats(n=5, bias=bias, accuracy=abs(bias), brier=0.02, gamma=0.5)
    assert calibration_sentence(stats).startswith(sentence)


def test_calibration_statistics_follow_schraw() -> None:
    stats = calibration_stats(confidence=[90, 50, 70], score=[80, 60, 40])
    assert stats is not None
    assert stats.bias == pytest.approx(10.0)
    assert stats.accuracy == pytest.approx((10 + 10 + 30) / 3)
    assert stats.brier == pytest.approx((0.01 + 0.01 + 0.09) / 3)
    # Pairs (90,80)-(50,60) concordant, (90,80)-(70,40) concordant, (50,60)-(70,40) discordant.
    assert stats.gamma == pytest.approx(1 / 3)


def test_gamma_is_undefined_when_every_pair_is_tied() -> None:
    stats = calibration_stats(confidence=[70, 70], score=[50, 60])
    assert stats is not None and stats.gamma is None


def test_profile_chart_overlays_the_previous_profile() -> None:
    labels = {"planning": "Planning", "monitoring": "Monitoring", "evaluating": "Evaluating"}
    chart = profile_chart(
        scores={"planning": 4.0, "monitoring": 3.0, "evaluating": 2.5},
        previous={"planning": 3.0, "monitoring": 3.0, "evaluating": 2.0},
        labels=labels,
    )
    assert chart.figure is not None
    assert [t["name"] for t in chart.figure.data] == ["Previous", "Now"]
    assert "Planning 4.0 (before 3.0)" in chart.summary


def test_an_educators_view_of_a_member_speaks_about_them_not_to_them() -> None:
    from learners.charts import EDUCATOR, dashboard_charts
    from learners.charts.learner import calibration_sentence

    data = studied()
    text = " ".join(chart.summary for chart in dashboard_charts(data, EDUCATOR))
    names = " ".join(
        str(trace.get("name", ""))
        for chart in dashboard_charts(data, EDUCATOR)
        if chart.figure
        for trace in chart.figure.data
    )
    assert "You " not in text and "Your " not in names
    assert "Their sessions" in names
    stats = data.calibration_stats
    assert stats is not None
    assert calibration_sentence(stats, EDUCATOR).startswith("They tend to expect")


def test_one_point_and_one_session_are_singular() -> None:
    from learners.charts.learner import calibration_numbers, calibration_sentence

    stats = studied().calibration_stats
    assert stats is not None
    one = stats.__class__(**{**vars(stats), "bias": 1.0, "n": 1})
    assert "within 1 point." in calibration_sentence(one)
    assert "over 1 session." in calibration_numbers(one)


def test_every_trace_the_charts_draw_is_in_the_served_plotly_bundle() -> None:
    """The pages load plotly.js's basic bundle; a trace type outside it would draw nothing."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bundle = (root / "static" / "vendor" / "plotly" / "plotly-basic.min.js").read_text()
    served = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    assert "bar" in served and "heatmap" not in served  # the pattern finds the trace modules
    charts = root / "learners" / "charts"
    drawn = {
        node.args[0].value
        for path in charts.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "trace"
        and isinstance(node.args[0], ast.Constant)
    }
    assert drawn and drawn <= served, drawn - served


def test_the_served_plotly_bundle_is_the_version_plotly_python_writes_for() -> None:
    import re
    from pathlib import Path

    import plotly

    def version(path: Path) -> str:
        found = re.search(
            r"plotly\.js \([^)]*\)? ?v(\d+\.\d+\.\d+)|plotly\.js v(\d+\.\d+\.\d+)", path.read_text()[:500]
        )
        assert found, path
        return next(g for g in found.groups() if g)

    served = Path(__file__).resolve().parents[2] / "static" / "vendor" / "plotly" / "plotly-basic.min.js"
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert version(served) == version(bundled)


def test_the_page_holds_each_figures_height_before_plotly_draws_it() -> None:
    """A chart's element carries a class the stylesheet gives its figure's exact height, so the
    page does not move when plotly.js draws it late."""
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_text()
    for chart in dashboard_charts(studied()):
        assert chart.figure is not None
        height = chart.figure.layout["height"]
        assert f'class="plotly-chart chart-h-{height}"' in chart.html()
        assert f".chart-h-{height} {{ min-height: {height}px; }}" in css
