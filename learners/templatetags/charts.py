"""`{% if charts|drawn %}`: a page loads plotly.js only when it has a figure to draw."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from learners.charts import Chart

register = template.Library()


@register.filter
def drawn(charts: Chart | Iterable[Chart] | None) -> bool:
    if charts is None:
        return False
    if isinstance(charts, Chart):
        return charts.figure is not None
    return any(c.figure is not None for c in charts)
