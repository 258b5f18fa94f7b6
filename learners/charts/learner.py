"""The learner dashboard's charts and the self-report radar."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.charts.base import (
    ACCENT,
    EDUCATOR,
    HEATMAP_WEEKS,
    LEARNER,
    MUTED,
    OTHERS,
    Audience,
    Chart,
    base_layout,
    chart_day,
    day_text,
    interval_bars,
)
from learners.charts.figure import Figure, Trace, trace
from learners.selectors.dashboard import CalibrationStats, DashboardData, StrategyScores

# Learner dashboard -------------------------------------------------------------------------------


def dashboard_charts(data: DashboardData, audience: Audience = LEARNER) -> list[Chart]:
    """The four charts of a learner's dashboard, in the order the page shows them; an educator's
    view of a member reads them about the learner rather than to them."""
    return [
        weekly_minutes_chart(data, audience),
        strategy_scores_chart(data, audience),
        calibration_chart(data, audience),
        study_calendar_chart(data, audience),
    ]


def weekly_minutes_chart(data: DashboardData, audience: Audience = LEARNER) -> Chart:
    title = _("Minutes studied per week")
    streak = ngettext(
        "Current streak: %(days)d day in a row.", "Current streak: %(days)d days in a row.", data.streak_days
    ) % {"days": data.streak_days}
    if data.n_sessions == 0:
        return Chart(
            "weekly-minutes",
            title,
            _("No study time yet: log a session to start your chart.")
            if audience == LEARNER
            else _("No study time logged yet."),
            None,
        )
    weeks = data.weekly_minutes
    this_week = weeks[-1].minutes if weeks else 0
    summary = _(
        "%(total)d minutes in the last %(weeks)d weeks; %(this_week)d minutes this week. %(streak)s"
    ) % {
        "total": sum(w.minutes for w in weeks),
        "weeks": len(weeks),
        "this_week": this_week,
        "streak": streak,
    }
    labels = [chart_day(w.week_start) for w in weeks]
    figure = Figure(
        [
            trace(
                "bar",
                x=labels,
                y=[w.minutes for w in weeks],
                marker={"color": ACCENT},
                hovertemplate=_("Week of %{x}: %{y} minutes") + "<extra></extra>",
            )
        ]
    )
    base_layout(figure, title=streak)
    figure.update_yaxes(title={"text": _("minutes")}, rangemode="tozero")
    figure.update_xaxes(type="category")
    return Chart("weekly-minutes", title, summary, figure)


def comparison_name(label: str, audience: Audience = LEARNER) -> str:
    if label != "cohort":
        return _("All learners")
    return _("Your cohort") if audience == LEARNER else _("Their cohort")


def strategy_scores_chart(data: DashboardData, audience: Audience = LEARNER) -> Chart:
    """Every scored session by strategy, the mean with its interval, and the comparison group's."""
    title = _("Self-test score by strategy")
    if not data.strategy_scores:
        return Chart(
            "strategy-scores",
            title,
            _("No self-test scores yet: add a score after a session to compare your strategies.")
            if audience == LEARNER
            else _("No self-test scores logged yet."),
            None,
        )
    others = comparison_name(data.comparison_label, audience)
    names = [s.name for s in data.strategy_scores]
    figure = Figure(
        [_session_points(data.strategy_scores, audience), _strategy_means(data.strategy_scores, audience)]
    )
    compared = [s for s in data.strategy_scores if s.comparison_mean is not None]
    if compared:
        figure.add_trace(_comparison_means(compared, others))
    base_layout(figure, title="", height=380)
    figure.update_yaxes(title={"text": _("self-test score")}, range=[0, 105])
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=names)
    summary = "; ".join(_strategy_score_text(s, others) for s in data.strategy_scores)
    return Chart("strategy-scores", title, summary + ".", figure)


def _sessions_name(audience: Audience) -> str:
    return _("Your sessions") if audience == LEARNER else _("Their sessions")


def _session_points(scores: Sequence[StrategyScores], audience: Audience) -> Trace:
    return trace(
        "scatter",
        x=[s.name for s in scores for _score in s.scores],
        y=[score for s in scores for score in s.scores],
        mode="markers",
        name=_sessions_name(audience),
        marker={"color": ACCENT, "opacity": 0.35, "size": 7},
        hovertemplate="%{x}: %{y}<extra></extra>",
    )


def _mean_name(audience: Audience) -> str:
    if audience == LEARNER:
        # xgettext:no-python-format
        return _("Your mean (95% interval)")
    # xgettext:no-python-format
    return _("Their mean (95% interval)")


def _strategy_means(scores: Sequence[StrategyScores], audience: Audience) -> Trace:
    means = [s.mean for s in scores]
    return trace(
        "scatter",
        x=[s.name for s in scores],
        y=means,
        mode="markers",
        name=_mean_name(audience),
        marker={"color": ACCENT, "size": 13, "symbol": "diamond"},
        error_y=interval_bars(means, [s.low for s in scores], [s.high for s in scores], color=ACCENT),
        hovertemplate="%{x}: %{y:.0f}<extra></extra>",
    )


def _comparison_means(compared: Sequence[StrategyScores], group: str) -> Trace:
    means = [s.comparison_mean for s in compared]
    return trace(
        "scatter",
        x=[s.name for s in compared],
        y=means,
        mode="markers",
        name=_("%(group)s (95%% interval)") % {"group": group},
        marker={"color": OTHERS, "size": 11, "symbol": "circle-open", "line": {"width": 2}},
        error_y=interval_bars(
            means, [s.comparison_low for s in compared], [s.comparison_high for s in compared], color=OTHERS
        ),
        hovertemplate="%{x}: %{y:.0f}<extra></extra>",
    )


def _strategy_score_text(s: StrategyScores, group: str) -> str:
    if s.low is None or s.high is None:
        text = _("%(name)s: %(mean).0f from a single session, too few for an interval") % {
            "name": s.name,
            "mean": s.mean,
        }
    else:
        text = ngettext(
            "%(name)s: mean %(mean).0f over %(n)d session (95%% interval %(low).0f–%(high).0f)",
            "%(name)s: mean %(mean).0f over %(n)d sessions (95%% interval %(low).0f–%(high).0f)",
            s.n,
        ) % {
            "name": s.name,
            "mean": s.mean,
            "n": s.n,
            "low": s.low,
            "high": s.high,
        }
    if s.comparison_mean is not None:
        text += _("; %(group)s: %(mean).0f") % {"group": group.lower(), "mean": s.comparison_mean}
    return text


def calibration_sentence(stats: CalibrationStats, audience: Audience = LEARNER) -> str:
    """The learner's bias in plain words, to them or about them."""
    points = round(abs(stats.bias))
    values = {"points": points}
    if points < 3:
        if audience == EDUCATOR:
            return (
                ngettext(
                    "Their expectations match their scores well: on average they are within "
                    "%(points)d point.",
                    "Their expectations match their scores well: on average they are within "
                    "%(points)d points.",
                    points,
                )
                % values
            )
        return (
            ngettext(
                "Your expectations match your scores well: on average you are within %(points)d point.",
                "Your expectations match your scores well: on average you are within %(points)d points.",
                points,
            )
            % values
        )
    if audience == EDUCATOR:
        if stats.bias > 0:
            return (
                ngettext(
                    "They tend to expect %(points)d point more than they score.",
                    "They tend to expect %(points)d points more than they score.",
                    points,
                )
                % values
            )
        return (
            ngettext(
                "They tend to expect %(points)d point less than they score.",
                "They tend to expect %(points)d points less than they score.",
                points,
            )
            % values
        )
    if stats.bias > 0:
        return (
            ngettext(
                "You tend to expect %(points)d point more than you score.",
                "You tend to expect %(points)d points more than you score.",
                points,
            )
            % values
        )
    return (
        ngettext(
            "You tend to expect %(points)d point less than you score.",
            "You tend to expect %(points)d points less than you score.",
            points,
        )
        % values
    )


def calibration_numbers(stats: CalibrationStats) -> str:
    gamma = "–" if stats.gamma is None else f"{stats.gamma:.2f}"
    return ngettext(
        "Bias %(bias)+.0f points, absolute accuracy %(accuracy).0f points, Brier score %(brier).3f, "
        "gamma %(gamma)s, over %(n)d session.",
        "Bias %(bias)+.0f points, absolute accuracy %(accuracy).0f points, Brier score %(brier).3f, "
        "gamma %(gamma)s, over %(n)d sessions.",
        stats.n,
    ) % {"bias": stats.bias, "accuracy": stats.accuracy, "brier": stats.brier, "gamma": gamma, "n": stats.n}


def calibration_chart(data: DashboardData, audience: Audience = LEARNER) -> Chart:
    title = (
        _("Calibration: what you expected against what you scored")
        if audience == LEARNER
        else _("Calibration: what they expected against what they scored")
    )
    stats = data.calibration_stats
    if stats is None:
        return Chart(
            "calibration",
            title,
            _("Nothing to compare yet: state your confidence before a session, your score after.")
            if audience == LEARNER
            else _("Nothing to compare yet: no session has both a confidence and a score."),
            None,
        )
    figure = Figure()
    figure.add_trace(
        trace(
            "scatter",
            x=[0, 100],
            y=[0, 100],
            mode="lines",
            name=_("Perfect calibration"),
            line={"color": MUTED, "dash": "dash"},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        trace(
            "scatter",
            x=[p.confidence for p in data.calibration],
            y=[p.score for p in data.calibration],
            mode="markers",
            name=_sessions_name(audience),
            marker={"color": ACCENT, "size": 9, "opacity": 0.7},
            text=[f"{p.strategy}, {day_text(p.day, 'SHORT_DATE_FORMAT')}" for p in data.calibration],
            hovertemplate=_("%{text}<br>expected %{x}, scored %{y}") + "<extra></extra>",
        )
    )
    base_layout(figure, title="", height=380)
    figure.update_xaxes(
        title={"text": _("confidence before (expected score)")}, range=[-2, 102], constrain="domain"
    )
    figure.update_yaxes(
        title={"text": _("self-test score")},
        range=[-2, 102],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    figure.add_annotation(
        x=8, y=96, text=_("scored more than expected"), showarrow=False, xanchor="left", font={"color": MUTED}
    )
    figure.add_annotation(
        x=96,
        y=4,
        text=_("expected more than scored"),
        showarrow=False,
        xanchor="right",
        font={"color": MUTED},
    )
    summary = f"{calibration_sentence(stats, audience)} {calibration_numbers(stats)}"
    return Chart("calibration", title, summary, figure)


def study_calendar_chart(data: DashboardData, audience: Audience = LEARNER) -> Chart:
    title = _("Study days")
    if not data.study_days:
        return Chart(
            "study-calendar",
            title,
            _("No study days yet: each day you study will light up here.")
            if audience == LEARNER
            else _("No study days logged yet."),
            None,
        )
    today = data.today
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=HEATMAP_WEEKS - 1)
    minutes = dict(data.study_days)
    weeks = [chart_day(first_monday + timedelta(weeks=w)) for w in range(HEATMAP_WEEKS)]
    most = max(minutes.values(), default=0) or 1
    # A grid of days as stacked bars, one trace per weekday: one cell high each, coloured by the
    # minutes studied, with gaps drawn in the page's colour. The served plotly.js bundle has no
    # heatmap trace, and bars fill the width at every screen size as a heatmap does.
    traces = []
    for weekday in range(7):
        days = [first_monday + timedelta(weeks=week, days=weekday) for week in range(HEATMAP_WEEKS)]
        traces.append(
            trace(
                "bar",
                x=weeks,
                y=[0 if day > today else 1 for day in days],
                text=[
                    ""
                    if day > today
                    else _("%(day)s: %(minutes)d minutes")
                    % {"day": day_text(day, "DATE_FORMAT"), "minutes": minutes.get(day, 0)}
                    for day in days
                ],
                textposition="none",
                hovertemplate="%{text}<extra></extra>",
                marker={
                    "color": [minutes.get(day, 0) for day in days],
                    "colorscale": [[0, "#eef3f1"], [0.01, "#b8d8cc"], [1, ACCENT]],
                    "cmin": 0,
                    "cmax": most,
                    "line": {"width": 2, "color": "#ffffff"},
                },
                name=day_text(days[0], "D"),
                showlegend=False,
            )
        )
    figure = Figure(traces)
    base_layout(figure, title="", height=240)
    figure.update_layout(margin={"l": 40, "b": 32}, barmode="stack", bargap=0.08)
    # Monday on top, as in a calendar.
    figure.update_yaxes(
        range=[7, 0],
        tickvals=[weekday + 0.5 for weekday in range(7)],
        ticktext=[day_text(first_monday + timedelta(days=d), "D") for d in range(7)],
        showgrid=False,
        zeroline=False,
    )
    figure.update_xaxes(type="category", nticks=8, showgrid=False)
    recent = [d for d, m in data.study_days if d >= first_monday and m > 0]
    values = {"days": len(recent), "weeks": HEATMAP_WEEKS}
    if audience == EDUCATOR:
        summary = (
            ngettext(
                "They studied on %(days)d day in the last %(weeks)d weeks.",
                "They studied on %(days)d days in the last %(weeks)d weeks.",
                len(recent),
            )
            % values
        )
    else:
        summary = (
            ngettext(
                "You studied on %(days)d day in the last %(weeks)d weeks.",
                "You studied on %(days)d days in the last %(weeks)d weeks.",
                len(recent),
            )
            % values
        )
    return Chart("study-calendar", title, summary, figure)


def profile_chart(
    *, scores: dict[str, float], previous: dict[str, float] | None, labels: dict[str, str]
) -> Chart:
    """A metacognition profile (dimension → 1..5) as horizontal bars, beside the previous one.
    Bars on one 1-5 axis read more exactly than a radar, and need only plotly's bar traces."""
    title = _("Your metacognition profile")
    if not scores:
        return Chart("profile", title, _("Fill in the questionnaire to see your profile."), None)
    keys = list(labels)
    names = [str(labels[k]) for k in keys]
    figure = Figure()
    if previous:
        figure.add_trace(
            trace(
                "bar",
                x=[previous.get(k, 0) for k in keys],
                y=names,
                orientation="h",
                name=_("Previous"),
                marker={"color": OTHERS},
            )
        )
    figure.add_trace(
        trace(
            "bar",
            x=[scores.get(k, 0) for k in keys],
            y=names,
            orientation="h",
            name=_("Now"),
            marker={"color": ACCENT},
        )
    )
    base_layout(figure, title="", height=120 + 48 * len(keys))
    figure.update_layout(
        barmode="group",
        margin={"l": 8, "r": 8},
        xaxis={"range": [1, 5], "dtick": 1, "title": {"text": _("score, 1 to 5")}},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    parts = []
    for k, name in zip(keys, names, strict=True):
        part = _("%(name)s %(score).1f") % {"name": name, "score": scores.get(k, math.nan)}
        if previous and k in previous:
            part += _(" (before %(score).1f)") % {"score": previous[k]}
        parts.append(part)
    summary = _("Scores from 1 to 5: %(scores)s.") % {"scores": "; ".join(parts)}
    return Chart("profile", title, summary, figure)
