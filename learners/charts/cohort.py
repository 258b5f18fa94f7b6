"""Cohort overview and engine charts for educators."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.charts.base import ACCENT, MUTED, OTHERS, Chart, base_layout, chart_day, interval_bars
from learners.charts.figure import Figure, trace
from learners.scores import OVERCONFIDENCE_POINTS

# Cohort charts -----------------------------------------------------------------------------------
# Pure functions of the plain data in learners.selectors.cohorts.CohortOverview.

UTILITY_SHADES = {
    "high": ["#2f6f5e", "#5fa38c"],
    "moderate": ["#2b5c8a", "#4f83b8", "#8bb3d9"],
    "low": ["#b5651d", "#d08c4f", "#e3b487", "#a39e93", "#cfcac0"],
}
# Width of a bar in the calibration bias chart, in points.
BIAS_BIN = 5
# label, n, mean, low, high: a learners.selectors.cohorts.Estimate
CohortEstimate = tuple[str, int, float | None, float | None, float | None]


def _estimate_bars(estimates: list[CohortEstimate]) -> tuple[list[float], dict[str, Any]]:
    """Rounded means, and error bars to their interval ends (none where there is no interval)."""
    means = [round(float(e[2] or 0.0), 1) for e in estimates]
    return means, interval_bars(means, [e[3] for e in estimates], [e[4] for e in estimates])


def _week_labels(weeks: list) -> list[str]:
    return [chart_day(w) for w in weeks]


def cohort_active_chart(*, weeks: list, active: list[int]) -> Chart:
    title = _("Active learners per week")
    if not any(active):
        return Chart("cohort-active", title, _("No member has logged a session in the last 12 weeks."), None)
    figure = Figure([trace("bar", x=_week_labels(weeks), y=active, marker={"color": ACCENT}, name=title)])
    figure.update_yaxes(title={"text": _("learners")}, rangemode="tozero", dtick=max(1, max(active) // 5))
    summary = _("%(now)d learners studied this week, %(peak)d in the busiest of the last 12 weeks.") % {
        "now": active[-1],
        "peak": max(active),
    }
    return Chart("cohort-active", title, summary, base_layout(figure, title=""))


def cohort_minutes_chart(*, weeks: list, minutes: list[float]) -> Chart:
    title = _("Minutes per active learner per week")
    if not any(minutes):
        return Chart("cohort-minutes", title, _("No study time logged in the last 12 weeks."), None)
    figure = Figure(
        [
            trace(
                "scatter",
                x=_week_labels(weeks),
                y=minutes,
                mode="lines+markers",
                line={"color": ACCENT},
                marker={"color": ACCENT},
                name=title,
            )
        ]
    )
    figure.update_yaxes(title={"text": _("minutes")}, rangemode="tozero")
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
    figure = Figure()
    used = {level: 0 for level in UTILITY_SHADES}
    for name, shares in mix.items():
        level = utility.get(name, "low")
        shades = UTILITY_SHADES.get(level, UTILITY_SHADES["low"])
        colour = shades[used.get(level, 0) % len(shades)]
        used[level] = used.get(level, 0) + 1
        figure.add_trace(
            trace("bar", x=labels, y=[round(100 * s) for s in shares], name=name, marker={"color": colour})
        )
    figure.update_layout(barmode="stack")
    # xgettext:no-python-format
    figure.update_yaxes(title={"text": _("% of sessions")}, range=[0, 100])
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
    # xgettext:no-python-format
    title = _("Self-test score by strategy (95% interval)")
    drawn = [e for e in estimates if e[2] is not None]
    if not drawn:
        return Chart("cohort-scores", title, _("No scored sessions yet."), None)
    names = [e[0] for e in drawn]
    means, bars = _estimate_bars(drawn)
    figure = Figure(
        [
            trace(
                "scatter",
                x=means,
                y=names,
                mode="markers",
                marker={"color": ACCENT, "size": 10},
                error_x=bars,
                customdata=[e[1] for e in drawn],
                hovertemplate="%{y}: %{x} (n=%{customdata})<extra></extra>",
                name=title,
            )
        ]
    )
    figure.update_xaxes(title={"text": _("mean self-test score")}, range=[0, 100])
    figure.update_yaxes(autorange="reversed")
    best = drawn[means.index(max(means))]
    summary = ngettext(
        "Highest mean score: %(name)s, %(mean).0f over %(n)d session.",
        "Highest mean score: %(name)s, %(mean).0f over %(n)d sessions.",
        best[1],
    ) % {
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
    # Binned here rather than by a histogram trace: the served plotly.js bundle draws bars, not
    # histograms, and is the lighter for it.
    counts = Counter(BIAS_BIN * math.floor(b / BIAS_BIN) for b in biases)
    starts = sorted(counts)
    figure = Figure(
        [
            trace(
                "bar",
                x=[start + BIAS_BIN / 2 for start in starts],
                y=[counts[start] for start in starts],
                width=BIAS_BIN,
                text=[
                    ngettext(
                        "%(low)g to %(high)g: %(n)d learner",
                        "%(low)g to %(high)g: %(n)d learners",
                        counts[start],
                    )
                    % {"low": start, "high": start + BIAS_BIN, "n": counts[start]}
                    for start in starts
                ],
                textposition="none",
                hovertemplate="%{text}<extra></extra>",
                marker={"color": ACCENT, "line": {"width": 1, "color": "#ffffff"}},
                name=title,
            )
        ]
    )
    figure.add_vline(x=0, dash="dash", color=MUTED)
    # Two short lines: one long axis title runs off a phone's width.
    figure.update_xaxes(
        title={"text": _("confidence minus score (points)<br>above 0 = overconfident")}, automargin=True
    )
    figure.update_yaxes(title={"text": _("learners")}, rangemode="tozero", dtick=max(1, len(biases) // 5))
    over = sum(1 for b in biases if b >= OVERCONFIDENCE_POINTS)
    summary = ngettext(
        "%(over)d of %(n)d learner expects at least %(points).0f points more than they score; "
        "median bias %(median).0f.",
        "%(over)d of %(n)d learners expect at least %(points).0f points more than they score; "
        "median bias %(median).0f.",
        len(biases),
    ) % {
        "over": over,
        "n": len(biases),
        "points": OVERCONFIDENCE_POINTS,
        "median": sorted(biases)[len(biases) // 2],
    }
    return Chart("cohort-bias", title, summary, base_layout(figure, title=""))


def cohort_follow_chart(*, follow: dict[str, int], after: list[CohortEstimate]) -> Chart:
    title = _("Recommendations: shown, followed, dismissed")
    total = sum(follow.values())
    if not total:
        return Chart("cohort-follow", title, _("No recommendations yet."), None)
    labels = {
        "shown": _("Shown, no answer"),
        "followed": _("Followed"),
        "dismissed": _("Dismissed"),
        "other": _("Studied something else"),
    }
    colours = {"shown": MUTED, "followed": ACCENT, "dismissed": OTHERS, "other": OTHERS}
    figure = Figure(
        [
            trace(
                "bar",
                x=[labels.get(k, k) for k in follow],
                y=list(follow.values()),
                marker={"color": [colours.get(k, MUTED) for k in follow]},
                name=title,
            )
        ]
    )
    step = max(1, max(follow.values()) // 5)
    figure.update_yaxes(title={"text": _("recommendations")}, rangemode="tozero", dtick=step)
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
    # xgettext:no-python-format
    title = _("Self-test score after a recommendation (95% interval)")
    drawn = [e for e in after if e[2] is not None]
    if not drawn:
        return Chart("cohort-after", title, _("No scored session follows a recommendation yet."), None)
    labels = {"followed": _("Followed"), "not_followed": _("Not followed")}
    means, bars = _estimate_bars(drawn)
    figure = Figure(
        [
            trace(
                "bar",
                x=[labels.get(e[0], e[0]) for e in drawn],
                y=means,
                error_y=bars,
                marker={"color": [ACCENT if e[0] == "followed" else OTHERS for e in drawn]},
                customdata=[e[1] for e in drawn],
                hovertemplate="%{x}: %{y} (n=%{customdata})<extra></extra>",
                name=title,
            )
        ]
    )
    figure.update_yaxes(title={"text": _("mean self-test score")}, range=[0, 100])
    summary = "; ".join(
        ngettext(
            "%(label)s: %(mean).0f over %(n)d session", "%(label)s: %(mean).0f over %(n)d sessions", e[1]
        )
        % {"label": labels.get(e[0], e[0]), "mean": e[2], "n": e[1]}
        for e in drawn
    )
    return Chart("cohort-after", title, summary + ".", base_layout(figure, title=""))
