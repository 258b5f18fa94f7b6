"""The engine page's chart: how well each learner predicted held-out learners."""

from __future__ import annotations

import math

import numpy as np
from django.utils.translation import gettext as _

from learners.charts.base import ACCENT, MUTED, OTHERS, Chart, base_layout, interval_bars
from learners.charts.figure import Figure, trace
from learners.selectors.engine_runs import ENGINE_LEARNERS


def engine_rmse_chart(*, metrics: dict) -> Chart:
    """RMSE of each engine learner on held-out learners' later sessions, after k of their
    sessions, with 95% intervals over those learners where the run recorded them."""
    title = _("Prediction error on new learners (RMSE, lower is better)")
    ks = metrics.get("ks") or []
    learners = metrics.get("learners") or {}
    if not ks or not learners:
        empty = _("No evaluation yet: run a retrain once learners have scores.")
        return Chart("engine-rmse", title, empty, None)
    names = {learner.key: str(learner.name) for learner in ENGINE_LEARNERS}
    colours = {
        "model": ACCENT,
        "memory": "#2b5c8a",
        "optimization": "#b5651d",
        "combined": "#6b3fa0",
        "evidence": MUTED,
    }
    # Side by side at each k, so the intervals do not hide one another.
    dodge = 0.12 * (np.arange(len(learners)) - (len(learners) - 1) / 2)
    figure = Figure()
    parts = []
    for offset, (key, values) in zip(dodge, learners.items(), strict=True):
        rmse = [_finite(v) for v in values.get("rmse", [])]
        intervals = values.get("rmse_ci95") or [None] * len(rmse)  # runs recorded before: none
        colour = colours.get(key, OTHERS)
        figure.add_trace(
            trace(
                "scatter",
                x=[float(k + offset) for k in ks],
                y=rmse,
                mode="lines+markers",
                name=names.get(key, key),
                line={"color": colour},
                marker={"color": colour},
                error_y=_interval_bars(rmse, intervals, colour),
                customdata=ks,
                hovertemplate="k=%{customdata}: %{y:.1f}<extra>" + names.get(key, key) + "</extra>",
            )
        )
        if rmse and rmse[-1] is not None:
            parts.append(_estimate_text(names.get(key, key), rmse[-1], intervals[-1]))
    figure.update_xaxes(title={"text": _("sessions of the new learner seen (k)")}, tickvals=ks)
    figure.update_yaxes(title={"text": _("RMSE (score points)")}, rangemode="tozero")
    summary = _("RMSE after %(k)d sessions: %(parts)s.") % {"k": ks[-1], "parts": "; ".join(parts)}
    return Chart("engine-rmse", title, summary, base_layout(figure, title=""))


def _interval_bars(
    values: list[float | None], intervals: list[list[float] | None], colour: str
) -> dict | None:
    """Error bars reaching each interval's ends; none where no interval was recorded."""
    if all(i is None for i in intervals):
        return None
    lows = [None if i is None else i[0] for i in intervals]
    highs = [None if i is None else i[1] for i in intervals]
    return interval_bars(values, lows, highs, thickness=1, color=colour)


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _estimate_text(name: str, value: float, interval: list[float] | None) -> str:
    if interval is None:
        return _("%(name)s %(rmse).1f") % {"name": name, "rmse": value}
    return _("%(name)s %(rmse).1f (95%% interval %(low).1f–%(high).1f)") % {
        "name": name,
        "rmse": value,
        "low": interval[0],
        "high": interval[1],
    }
