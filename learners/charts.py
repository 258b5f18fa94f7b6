"""Plotly figures for learners' and cohorts' pages: pure functions from plain data to figures.

No queries here: selectors produce the data, these functions draw it, templates embed the
result with `includes/chart.html` and plotly's own JavaScript served from static/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import plotly.graph_objects as go
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.selectors.dashboard import CalibrationStats, DashboardData

ACCENT = "#2f6f5e"
OTHERS = "#8a6d3b"
MUTED = "#8b949e"
HEATMAP_WEEKS = 26
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans SC', sans-serif"


@dataclass(frozen=True)
class Chart:
    """A figure with what a screen reader announces instead of it."""

    key: str  # stable id of the chart's element
    title: str
    summary: str  # one or two plain sentences with the numbers the figure shows
    figure: go.Figure | None  # None: nothing to draw yet; the template shows `summary` as the empty state

    def html(self) -> SafeString:
        if self.figure is None:
            return mark_safe("")
        html = self.figure.to_html(
            include_plotlyjs=False,
            full_html=False,
            div_id=f"chart-{self.key}",
            # No mode bar: its buttons would be focusable inside the figure hidden from screen readers.
            config={"displaylogo": False, "displayModeBar": False, "responsive": True},
        )
        return mark_safe(html)


def base_layout(figure: go.Figure, *, title: str, height: int = 320) -> go.Figure:
    """The look every chart shares: readable font, no clutter, room for small screens."""
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 48, "r": 16, "t": 48, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


# Learner dashboard -------------------------------------------------------------------------------


def dashboard_charts(data: DashboardData) -> list[Chart]:
    """The four charts of a learner's dashboard, in the order the page shows them."""
    return [
        weekly_minutes_chart(data),
        strategy_scores_chart(data),
        calibration_chart(data),
        study_calendar_chart(data),
    ]


def weekly_minutes_chart(data: DashboardData) -> Chart:
    title = _("Minutes studied per week")
    streak = ngettext(
        "Current streak: %(days)d day in a row.", "Current streak: %(days)d days in a row.", data.streak_days
    ) % {"days": data.streak_days}
    if data.n_sessions == 0:
        return Chart(
            "weekly-minutes", title, _("No study time yet: log a session to start your chart."), None
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
    labels = [date_format(w.week_start, "M j") for w in weeks]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=[w.minutes for w in weeks],
            marker_color=ACCENT,
            hovertemplate=_("Week of %{x}: %{y} minutes") + "<extra></extra>",
        )
    )
    base_layout(figure, title=streak)
    figure.update_yaxes(title_text=_("minutes"), rangemode="tozero")
    figure.update_xaxes(type="category")
    return Chart("weekly-minutes", title, summary, figure)


def comparison_name(label: str) -> str:
    return _("Your cohort") if label == "cohort" else _("All learners")


def strategy_scores_chart(data: DashboardData) -> Chart:
    title = _("Self-test score by strategy")
    if not data.strategy_scores:
        return Chart(
            "strategy-scores",
            title,
            _("No self-test scores yet: add a score after a session to compare your strategies."),
            None,
        )
    others = comparison_name(data.comparison_label)
    names = [s.name for s in data.strategy_scores]
    figure = go.Figure()
    points_x, points_y = [], []
    for s in data.strategy_scores:
        points_x += [s.name] * s.n
        points_y += list(s.scores)
    figure.add_trace(
        go.Scatter(
            x=points_x,
            y=points_y,
            mode="markers",
            name=_("Your sessions"),
            marker={"color": ACCENT, "opacity": 0.35, "size": 7},
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=names,
            y=[s.mean for s in data.strategy_scores],
            mode="markers",
            name=_("Your mean (95% interval)"),
            marker={"color": ACCENT, "size": 13, "symbol": "diamond"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [s.high - s.mean for s in data.strategy_scores],
                "arrayminus": [s.mean - s.low for s in data.strategy_scores],
                "color": ACCENT,
            },
            hovertemplate="%{x}: %{y:.0f}<extra></extra>",
        )
    )
    compared = [s for s in data.strategy_scores if s.comparison_mean is not None]
    if compared:
        figure.add_trace(
            go.Scatter(
                x=[s.name for s in compared],
                y=[s.comparison_mean for s in compared],
                mode="markers",
                name=_("%(group)s (95%% interval)") % {"group": others},
                marker={"color": OTHERS, "size": 11, "symbol": "circle-open", "line": {"width": 2}},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(s.comparison_high or 0) - (s.comparison_mean or 0) for s in compared],
                    "arrayminus": [(s.comparison_mean or 0) - (s.comparison_low or 0) for s in compared],
                    "color": OTHERS,
                },
                hovertemplate="%{x}: %{y:.0f}<extra></extra>",
            )
        )
    base_layout(figure, title="", height=360)
    figure.update_layout(margin={"t": 16}, legend={"y": -0.3})
    figure.update_yaxes(title_text=_("self-test score"), range=[0, 105])
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=names)
    parts = []
    for s in data.strategy_scores:
        part = _("%(name)s: mean %(mean).0f over %(n)d sessions (95%% interval %(low).0f–%(high).0f)") % {
            "name": s.name,
            "mean": s.mean,
            "n": s.n,
            "low": s.low,
            "high": s.high,
        }
        if s.comparison_mean is not None:
            part += _("; %(group)s: %(mean).0f") % {"group": others.lower(), "mean": s.comparison_mean}
        parts.append(part)
    return Chart("strategy-scores", title, "; ".join(parts) + ".", figure)


def calibration_sentence(stats: CalibrationStats) -> str:
    """The learner's bias in plain words."""
    points = round(abs(stats.bias))
    if points < 3:
        return _("Your expectations match your scores well: on average you are within %(points)d points.") % {
            "points": points
        }
    if stats.bias > 0:
        return ngettext(
            "You tend to expect %(points)d point more than you score.",
            "You tend to expect %(points)d points more than you score.",
            points,
        ) % {"points": points}
    return ngettext(
        "You tend to expect %(points)d point less than you score.",
        "You tend to expect %(points)d points less than you score.",
        points,
    ) % {"points": points}


def calibration_numbers(stats: CalibrationStats) -> str:
    gamma = "–" if stats.gamma is None else f"{stats.gamma:.2f}"
    return _(
        "Bias %(bias)+.0f points, absolute accuracy %(accuracy).0f points, Brier score %(brier).3f, "
        "gamma %(gamma)s, over %(n)d sessions."
    ) % {"bias": stats.bias, "accuracy": stats.accuracy, "brier": stats.brier, "gamma": gamma, "n": stats.n}


def calibration_chart(data: DashboardData) -> Chart:
    title = _("Calibration: what you expected against what you scored")
    stats = data.calibration_stats
    if stats is None:
        return Chart(
            "calibration",
            title,
            _("Nothing to compare yet: state your confidence before a session, your score after."),
            None,
        )
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 100],
            y=[0, 100],
            mode="lines",
            name=_("Perfect calibration"),
            line={"color": MUTED, "dash": "dash"},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[p.confidence for p in data.calibration],
            y=[p.score for p in data.calibration],
            mode="markers",
            name=_("Your sessions"),
            marker={"color": ACCENT, "size": 9, "opacity": 0.7},
            text=[f"{p.strategy}, {date_format(p.day, 'SHORT_DATE_FORMAT')}" for p in data.calibration],
            hovertemplate=_("%{text}<br>expected %{x}, scored %{y}") + "<extra></extra>",
        )
    )
    base_layout(figure, title="", height=360)
    figure.update_layout(margin={"t": 16})
    figure.update_xaxes(
        title_text=_("confidence before (expected score)"), range=[-2, 102], constrain="domain"
    )
    figure.update_yaxes(
        title_text=_("self-test score"), range=[-2, 102], scaleanchor="x", scaleratio=1, constrain="domain"
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
    summary = f"{calibration_sentence(stats)} {calibration_numbers(stats)}"
    return Chart("calibration", title, summary, figure)


def study_calendar_chart(data: DashboardData) -> Chart:
    title = _("Study days")
    if not data.study_days:
        return Chart(
            "study-calendar", title, _("No study days yet: each day you study will light up here."), None
        )
    today = data.today
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=HEATMAP_WEEKS - 1)
    minutes = dict(data.study_days)
    z: list[list[float | None]] = [[None] * HEATMAP_WEEKS for _day in range(7)]
    text: list[list[str]] = [[""] * HEATMAP_WEEKS for _day in range(7)]
    for week in range(HEATMAP_WEEKS):
        for weekday in range(7):
            day = first_monday + timedelta(weeks=week, days=weekday)
            if day > today:
                continue
            m = minutes.get(day, 0)
            z[weekday][week] = m
            text[weekday][week] = _("%(day)s: %(minutes)d minutes") % {
                "day": date_format(day, "DATE_FORMAT"),
                "minutes": m,
            }
    weekdays = [date_format(first_monday + timedelta(days=d), "D") for d in range(7)]
    weeks = [date_format(first_monday + timedelta(weeks=w), "M j") for w in range(HEATMAP_WEEKS)]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=weeks,
            y=weekdays,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            colorscale=[[0, "#eef3f1"], [0.01, "#b8d8cc"], [1, ACCENT]],
            showscale=False,
            xgap=3,
            ygap=3,
        )
    )
    base_layout(figure, title="", height=240)
    figure.update_layout(margin={"t": 16, "l": 40, "b": 32})
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category", nticks=8)
    recent = [d for d, m in data.study_days if d >= first_monday and m > 0]
    summary = ngettext(
        "You studied on %(days)d day in the last %(weeks)d weeks.",
        "You studied on %(days)d days in the last %(weeks)d weeks.",
        len(recent),
    ) % {"days": len(recent), "weeks": HEATMAP_WEEKS}
    return Chart("study-calendar", title, summary, figure)


def profile_radar_chart(
    *, scores: dict[str, float], previous: dict[str, float] | None, labels: dict[str, str]
) -> Chart:
    """A metacognition profile (dimension → 1..5) as a radar, beside the previous one."""
    title = _("Your metacognition profile")
    if not scores:
        return Chart("profile", title, _("Fill in the questionnaire to see your profile."), None)
    keys = list(labels)
    names = [str(labels[k]) for k in keys]
    figure = go.Figure()
    if previous:
        figure.add_trace(
            go.Scatterpolar(
                r=[previous.get(k, 0) for k in keys] + [previous.get(keys[0], 0)],
                theta=[*names, names[0]],
                name=_("Previous"),
                line={"color": OTHERS, "dash": "dot"},
            )
        )
    figure.add_trace(
        go.Scatterpolar(
            r=[scores.get(k, 0) for k in keys] + [scores.get(keys[0], 0)],
            theta=[*names, names[0]],
            name=_("Now"),
            fill="toself",
            line={"color": ACCENT},
            fillcolor="rgba(47,111,94,0.2)",
        )
    )
    base_layout(figure, title="", height=380)
    figure.update_layout(
        margin={"t": 24, "l": 56, "r": 56}, polar={"radialaxis": {"range": [1, 5], "dtick": 1}}
    )
    parts = []
    for k, name in zip(keys, names, strict=True):
        part = _("%(name)s %(score).1f") % {"name": name, "score": scores.get(k, math.nan)}
        if previous and k in previous:
            part += _(" (before %(score).1f)") % {"score": previous[k]}
        parts.append(part)
    summary = _("Scores from 1 to 5: %(scores)s.") % {"scores": "; ".join(parts)}
    return Chart("profile", title, summary, figure)


# Cohort charts -----------------------------------------------------------------------------------
# Pure functions of the plain data in learners.selectors.cohorts.CohortOverview.

UTILITY_SHADES = {
    "high": ["#2f6f5e", "#5fa38c"],
    "moderate": ["#2b5c8a", "#4f83b8", "#8bb3d9"],
    "low": ["#b5651d", "#d08c4f", "#e3b487", "#a39e93", "#cfcac0"],
}
# label, n, mean, low, high: a learners.selectors.cohorts.Estimate
CohortEstimate = tuple[str, int, float | None, float | None, float | None]


def _error_bars(estimates: list[CohortEstimate]) -> tuple[list[float], list[float], list[float]]:
    """Means and the distances to their interval ends, as plotly's error bars want them."""
    means, plus, minus = [], [], []
    for estimate in estimates:
        mean = float(estimate[2] or 0.0)
        low = mean if estimate[3] is None else float(estimate[3])
        high = mean if estimate[4] is None else float(estimate[4])
        means.append(round(mean, 1))
        plus.append(round(high - mean, 1))
        minus.append(round(mean - low, 1))
    return means, plus, minus


def _week_labels(weeks: list) -> list[str]:
    return [date_format(w, "M j") for w in weeks]


def cohort_active_chart(*, weeks: list, active: list[int]) -> Chart:
    title = _("Active learners per week")
    if not any(active):
        return Chart("cohort-active", title, _("No member has logged a session in the last 12 weeks."), None)
    figure = go.Figure(go.Bar(x=_week_labels(weeks), y=active, marker_color=ACCENT, name=title))
    figure.update_yaxes(title=_("learners"), rangemode="tozero", dtick=max(1, max(active) // 5))
    summary = _("%(now)d learners studied this week, %(peak)d in the busiest of the last 12 weeks.") % {
        "now": active[-1],
        "peak": max(active),
    }
    return Chart("cohort-active", title, summary, base_layout(figure, title=""))


def cohort_minutes_chart(*, weeks: list, minutes: list[float]) -> Chart:
    title = _("Minutes per active learner per week")
    if not any(minutes):
        return Chart("cohort-minutes", title, _("No study time logged in the last 12 weeks."), None)
    figure = go.Figure(
        go.Scatter(x=_week_labels(weeks), y=minutes, mode="lines+markers", line_color=ACCENT, name=title)
    )
    figure.update_yaxes(title=_("minutes"), rangemode="tozero")
    weeks_active = [m for m in minutes if m]
    summary = _("An active learner studied %(mean).0f minutes a week on average (%(last).0f this week).") % {
        "mean": sum(weeks_active) / len(weeks_active),
        "last": minutes[-1],
    }
    return Chart("cohort-minutes", title, summary, base_layout(figure, title=""))


def cohort_strategy_mix_chart(
    *,
    weeks: list,
    mix: dict[str, list[float]],
    utility: dict[str, str],
) -> Chart:
    title = _("Strategy mix per week")
    if not mix:
        return Chart("cohort-mix", title, _("No sessions in the last 12 weeks."), None)
    labels = _week_labels(weeks)
    figure = go.Figure()
    used = {level: 0 for level in UTILITY_SHADES}
    for name, shares in mix.items():
        level = utility.get(name, "low")
        shades = UTILITY_SHADES.get(level, UTILITY_SHADES["low"])
        colour = shades[used.get(level, 0) % len(shades)]
        used[level] = used.get(level, 0) + 1
        figure.add_bar(x=labels, y=[round(100 * s) for s in shares], name=name, marker_color=colour)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title=_("% of sessions"), range=[0, 100])
    high = [
        sum(shares[i] for name, shares in mix.items() if utility.get(name) == "high")
        for i in range(len(weeks))
    ]
    with_sessions = [i for i in range(len(weeks)) if any(shares[i] for shares in mix.values())]
    first, last = with_sessions[0], with_sessions[-1]
    summary = _(
        "High-utility strategies (practice testing, distributed practice) made up %(first).0f%% of sessions "
        "in the first week shown and %(last).0f%% in the latest."
    ) % {"first": 100 * high[first], "last": 100 * high[last]}
    return Chart("cohort-mix", title, summary, base_layout(figure, title="", height=380))


def cohort_score_chart(*, estimates: list[CohortEstimate]) -> Chart:
    title = _("Self-test score by strategy (95% interval)")
    drawn = [e for e in estimates if e[2] is not None]
    if not drawn:
        return Chart("cohort-scores", title, _("No scored sessions yet."), None)
    names = [e[0] for e in drawn]
    means, plus, minus = _error_bars(drawn)
    figure = go.Figure(
        go.Scatter(
            x=means,
            y=names,
            mode="markers",
            marker={"color": ACCENT, "size": 10},
            error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
            customdata=[e[1] for e in drawn],
            hovertemplate="%{y}: %{x} (n=%{customdata})<extra></extra>",
            name=title,
        )
    )
    figure.update_xaxes(title=_("mean self-test score"), range=[0, 100])
    figure.update_yaxes(autorange="reversed")
    best = drawn[means.index(max(means))]
    summary = _("Highest mean score: %(name)s, %(mean).0f over %(n)d sessions.") % {
        "name": best[0],
        "mean": best[2],
        "n": best[1],
    }
    height = max(260, 60 + 34 * len(drawn))
    return Chart("cohort-scores", title, summary, base_layout(figure, title="", height=height))


def cohort_bias_chart(*, biases: list[float]) -> Chart:
    title = _("Calibration bias per learner")
    if not biases:
        return Chart("cohort-bias", title, _("No learner has a scored session yet."), None)
    figure = go.Figure(go.Histogram(x=biases, xbins={"size": 5}, marker_color=ACCENT, name=title))
    figure.add_vline(x=0, line_dash="dash", line_color=MUTED)
    figure.update_xaxes(title=_("confidence minus score (points; above 0 = overconfident)"))
    figure.update_yaxes(title=_("learners"), rangemode="tozero", dtick=max(1, len(biases) // 5))
    over = sum(1 for b in biases if b >= 15)
    summary = _(
        "%(over)d of %(n)d learners expect at least 15 points more than they score; median bias %(median).0f."
    ) % {"over": over, "n": len(biases), "median": sorted(biases)[len(biases) // 2]}
    return Chart("cohort-bias", title, summary, base_layout(figure, title=""))


def cohort_follow_chart(*, follow: dict[str, int], after: list[CohortEstimate]) -> Chart:
    title = _("Recommendations: shown, followed, dismissed")
    total = sum(follow.values())
    if not total:
        return Chart("cohort-follow", title, _("No recommendations yet."), None)
    labels = {"shown": _("Shown, no answer"), "followed": _("Followed"), "dismissed": _("Dismissed")}
    colours = {"shown": MUTED, "followed": ACCENT, "dismissed": OTHERS}
    figure = go.Figure(
        go.Bar(
            x=[labels.get(k, k) for k in follow],
            y=list(follow.values()),
            marker_color=[colours.get(k, MUTED) for k in follow],
            name=title,
        )
    )
    step = max(1, max(follow.values()) // 5)
    figure.update_yaxes(title=_("recommendations"), rangemode="tozero", dtick=step)
    scores = {e[0]: e for e in after if e[2] is not None}
    summary = _("%(followed)d of %(total)d recommendations were followed, %(dismissed)d dismissed.") % {
        "followed": follow.get("followed", 0),
        "total": total,
        "dismissed": follow.get("dismissed", 0),
    }
    if "followed" in scores and "not_followed" in scores:
        summary += " " + _("Mean score after following: %(yes).0f; otherwise %(no).0f.") % {
            "yes": scores["followed"][2],
            "no": scores["not_followed"][2],
        }
    return Chart("cohort-follow", title, summary, base_layout(figure, title=""))


def cohort_after_chart(*, after: list[CohortEstimate]) -> Chart:
    title = _("Self-test score after a recommendation (95% interval)")
    drawn = [e for e in after if e[2] is not None]
    if not drawn:
        return Chart("cohort-after", title, _("No scored session follows a recommendation yet."), None)
    labels = {"followed": _("Followed"), "not_followed": _("Not followed")}
    means, plus, minus = _error_bars(drawn)
    figure = go.Figure(
        go.Bar(
            x=[labels.get(e[0], e[0]) for e in drawn],
            y=means,
            error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
            marker_color=[ACCENT if e[0] == "followed" else OTHERS for e in drawn],
            customdata=[e[1] for e in drawn],
            hovertemplate="%{x}: %{y} (n=%{customdata})<extra></extra>",
            name=title,
        )
    )
    figure.update_yaxes(title=_("mean self-test score"), range=[0, 100])
    summary = "; ".join(
        _("%(label)s: %(mean).0f over %(n)d sessions")
        % {"label": labels.get(e[0], e[0]), "mean": e[2], "n": e[1]}
        for e in drawn
    )
    return Chart("cohort-after", title, summary + ".", base_layout(figure, title=""))


def engine_rmse_chart(*, metrics: dict) -> Chart:
    """RMSE of each engine learner on held-out learners' next sessions, after k of their sessions."""
    title = _("Prediction error on new learners (RMSE, lower is better)")
    ks = metrics.get("ks") or []
    learners = metrics.get("learners") or {}
    if not ks or not learners:
        empty = _("No evaluation yet: run a retrain once learners have scores.")
        return Chart("engine-rmse", title, empty, None)
    names = {"model": _("Model"), "memory": _("Memory"), "evidence": _("Evidence only")}
    colours = {"model": ACCENT, "memory": "#2b5c8a", "evidence": MUTED}
    figure = go.Figure()
    parts = []
    for key, values in learners.items():
        rmse = [None if v is None or math.isnan(v) else v for v in values.get("rmse", [])]
        figure.add_scatter(
            x=ks, y=rmse, mode="lines+markers", name=names.get(key, key), line_color=colours.get(key, OTHERS)
        )
        if rmse and rmse[-1] is not None:
            parts.append(_("%(name)s %(rmse).1f") % {"name": names.get(key, key), "rmse": rmse[-1]})
    figure.update_xaxes(title=_("sessions of the new learner seen (k)"))
    figure.update_yaxes(title=_("RMSE (score points)"), rangemode="tozero")
    summary = _("RMSE after %(k)d sessions: %(parts)s.") % {"k": ks[-1], "parts": ", ".join(parts)}
    return Chart("engine-rmse", title, summary, base_layout(figure, title=""))
