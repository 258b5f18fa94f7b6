"""What every chart shares: the Chart record, colours and the common layout."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, pgettext

from learners.charts.figure import Figure

ACCENT = "#2f6f5e"
OTHERS = "#8a6d3b"
MUTED = "#8b949e"
HEATMAP_WEEKS = 26
# Who reads a learner's charts: the learner ("your sessions") or an educator ("their sessions").
Audience = Literal["learner", "educator"]
LEARNER: Audience = "learner"
EDUCATOR: Audience = "educator"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans SC', sans-serif"


@dataclass(frozen=True)
class Chart:
    """A figure with what a screen reader announces instead of it."""

    key: str  # stable id of the chart's element
    title: str
    summary: str  # one or two plain sentences with the numbers the figure shows
    figure: Figure | None  # None: nothing to draw yet; the template shows `summary` as the empty state

    def html(self) -> SafeString:
        """An empty element and the figure as JSON beside it; static/js/charts.js draws one in the
        other once plotly.js has loaded, so pages carry no inline script."""
        if self.figure is None:
            return mark_safe("")
        height = self.figure.layout.get("height", 0)
        return format_html(
            '<div id="chart-{}" class="plotly-chart chart-h-{}"></div>'
            '<script type="application/json" data-plotly-figure="chart-{}">{}</script>',
            self.key,
            height,
            self.key,
            mark_safe(self.figure.to_json()),
        )


def day_text(day: date, format_name: str) -> str:
    """`day` in a Django date format (a name such as DATE_FORMAT, or a pattern) in the active
    language. The study calendar alone labels 182 days; the same days recur on every page and
    for every learner, so each is formatted once per process."""
    return _day_text(day, format_name, get_language())


@functools.lru_cache(maxsize=16384)
def _day_text(day: date, format_name: str, language: str) -> str:
    return date_format(day, format_name)


def chart_day(day: date) -> str:
    """A short day for an axis: "Sep 14" in English, "9月14日" in Chinese."""
    # Translators: a PHP-style date format for chart axes (Django's date filter); Chinese: n月j日
    return day_text(day, pgettext("chart axis day", "M j"))


# The page holds a figure's height before plotly.js draws it, with one CSS class per height
# (static/css/app.css: chart-h-200 … chart-h-600), so drawing it later moves nothing.
CHART_HEIGHTS = range(200, 601, 20)


def chart_height(height: int) -> int:
    """`height` rounded up to one the stylesheet holds room for."""
    return min(CHART_HEIGHTS[-1], max(CHART_HEIGHTS[0], 20 * math.ceil(height / 20)))


def base_layout(figure: Figure, *, title: str, height: int = 320) -> Figure:
    """The look every chart shares: readable font, no clutter, room for small screens.

    The legend sits above the plot, where it can never cover the tick labels or axis titles
    below it however they wrap, and axes make room for their labels (automargin).
    """
    figure.update_layout(
        font={"family": FONT, "size": 13},
        height=chart_height(height),
        margin={"l": 48, "r": 16, "t": 48 if title else 16, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        xaxis={"automargin": True},
        yaxis={"automargin": True},
    )
    if title:
        figure.update_layout(title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}})
    return figure


def interval_bars(
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    **style: Any,
) -> dict[str, Any]:
    """Plotly's asymmetric error bars reaching from each value to its interval's ends; none
    where the value or an end is missing."""
    ends = list(zip(values, lows, highs, strict=True))
    return {
        "type": "data",
        "symmetric": False,
        "array": [None if v is None or high is None else high - v for v, _, high in ends],
        "arrayminus": [None if v is None or low is None else v - low for v, low, _ in ends],
        **style,
    }
