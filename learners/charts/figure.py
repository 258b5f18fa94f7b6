"""Figures as plain data: plotly.js's own JSON schema, built from dicts and drawn in the browser.

plotly's graph objects validate every property as they are built, which cost a dashboard request
more than all its queries; the charts need none of it, since the tests pin what they draw. The few
methods here keep the names of their graph-object counterparts.
"""

from __future__ import annotations

from typing import Any

from plotly.io.json import to_json_plotly

Trace = dict[str, Any]
# JSON inside <script> must not close the element or open a comment (as Django's json_script).
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def _merge(target: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts update key by key, as plotly's update_layout does; other values replace."""
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def trace(kind: str, **props: Any) -> Trace:
    """One trace of plotly.js's type `kind` (bar, scatter, heatmap, histogram); properties given
    as None are left out, so plotly.js applies its default."""
    return {"type": kind, **{key: value for key, value in props.items() if value is not None}}


class Figure:
    def __init__(self, data: list[Trace] | None = None) -> None:
        self.data: list[Trace] = list(data or [])
        self.layout: dict[str, Any] = {}

    def add_trace(self, added: Trace) -> Figure:
        self.data.append(added)
        return self

    def update_layout(self, **props: Any) -> Figure:
        _merge(self.layout, props)
        return self

    def update_xaxes(self, **props: Any) -> Figure:
        return self.update_layout(xaxis=props)

    def update_yaxes(self, **props: Any) -> Figure:
        return self.update_layout(yaxis=props)

    def add_annotation(self, **props: Any) -> Figure:
        self.layout.setdefault("annotations", []).append(props)
        return self

    def add_vline(self, x: float, **line: Any) -> Figure:
        """A vertical line across the whole plot height at `x`."""
        shape = {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": line,
        }
        self.layout.setdefault("shapes", []).append(shape)
        return self

    def to_json(self) -> str:
        """The figure as JSON safe to embed in a <script> element (numpy values and NaN handled)."""
        return to_json_plotly({"data": self.data, "layout": self.layout}).translate(_SCRIPT_ESCAPES)
