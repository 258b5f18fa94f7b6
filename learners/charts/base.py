"""What every chart shares: the Chart record, colours and the common layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import plotly.graph_objects as go
from django.utils.safestring import SafeString, mark_safe

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
