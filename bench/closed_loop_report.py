"""The closed loop's figures as text, targets and plotly figures, from the results of
bench/closed_loop.py.

Pure functions of its results dictionary, so `make bench`'s table (bench/report.py) and the
closed loop's own run print the same thing.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

# The module, not its names: report imports this one back.
from bench import report

SECONDS_MAX = 150.0  # the full closed loop, single-threaded
PRODUCT = "product"
BEATEN = ("habits", "published")  # policies (d) must beat clearly
GREEDY = "model_greedy"


def _diff(value: float, bounds: list[float]) -> str:
    return f"{value:+.2f} (95% {bounds[0]:+.2f} to {bounds[1]:+.2f})"


def _label(loop: dict[str, Any], name: str) -> str:
    return str(loop["policies"][name]["label"])


def _shown(loop: dict[str, Any]) -> list[int]:
    """Sessions shown in the table: 1, 5, 10, 20, 30 where the term reaches them, and its last."""
    n = len(loop["sessions"])
    return sorted({s for s in (1, 5, 10, 20, 30) if s <= n} | {n})


# Targets ------------------------------------------------------------------------------------------
def checks(loop: dict[str, Any] | None, *, quick: bool = False) -> list[report.Check]:
    """The targets; the time one for full runs only."""
    if not loop or "error" in loop:
        return [report.Check("closed loop", "not run", "", None)]
    timed = [] if quick else [time_check(loop)]
    return _policy_checks(loop) + timed


def time_check(loop: dict[str, Any]) -> report.Check:
    """The run is single-threaded: its processor time is its wall time on a machine of its own. On
    a shared one the wall time also counts other people's work, so it is shown beside."""
    cpu, wall = float(loop["seconds"]["cpu"]), float(loop["seconds"]["total"])
    return report.Check(
        "closed loop processor time, single-threaded (s)",
        f"{cpu:.0f} (wall {wall:.0f})",
        f"<= {SECONDS_MAX:g}",
        cpu <= SECONDS_MAX,
    )


def _policy_checks(loop: dict[str, Any]) -> list[report.Check]:
    n = len(loop["sessions"])
    out = []
    for other in BEATEN:
        row = loop["comparisons"][f"{PRODUCT} - {other}"]
        out.append(
            report.Check(
                f"closed loop: (d) beats {_label(loop, other)}, mean score of {n} sessions, paired (points)",
                _diff(row["mean_score"], row["mean_score_ci95"]),
                "95% interval above 0",
                row["mean_score_ci95"][0] > 0.0,
            )
        )
    row = loop["comparisons"][f"{PRODUCT} - {GREEDY}"]
    last, bounds = row["cumulative_regret"][-1], row["cumulative_regret_ci95"][-1]
    out.append(
        report.Check(
            f"closed loop: (d) cumulative regret at session {n} minus (c)'s, paired (points)",
            _diff(last, bounds),
            "<= 0 (no worse than greedy)",
            last <= 0.0,
        )
    )
    return out


# Text ---------------------------------------------------------------------------------------------
def text(loop: dict[str, Any]) -> list[str]:
    setup = loop["setup"]
    refits = ", ".join(str(start) for start, _ in setup["nights"][1:]) or "never"
    out = [
        f"== Closed loop: {setup['n_learners']} new learners ({setup['population']}) follow one policy for "
        f"{setup['n_sessions']} sessions; the engine is fitted on {setup['n_train']} x "
        f"{setup['n_train_sessions']} training sessions and refitted after sessions {refits} on those plus "
        "the term so far; every policy meets the same situations and score draws ==",
        "points out of 100; under each figure its 95% interval over learners",
        _table(loop),
        *[f"{row['label']}: {row['why']}" for row in loop["policies"].values() if not row.get("available")],
        "paired differences, (d) minus another policy, per learner:",
    ]
    for key, row in loop["comparisons"].items():
        other = key.split(" - ", 1)[1]
        out.append(
            f"  (d) - {_label(loop, other)}: mean score {_diff(row['mean_score'], row['mean_score_ci95'])}; "
            f"cumulative regret at session {setup['n_sessions']} "
            f"{_diff(row['cumulative_regret'][-1], row['cumulative_regret_ci95'][-1])}"
        )
    out += _exploration_lines(loop)
    out.append("targets:")
    out += [f"  {c.mark}: {c.name}: {c.measured} (target {c.target})" for c in _policy_checks(loop)]
    out.append(_seconds_line(loop))
    return out


def _table(loop: dict[str, Any]) -> str:
    shown = _shown(loop)
    header = ["policy", "mean score", *[f"regret@{s}" for s in shown]]
    rows: list[list[str]] = []
    for row in loop["policies"].values():
        if not row.get("available"):
            rows.append([row["label"], "not available", *[""] * len(shown)])
            continue
        cumulative = [row["cumulative_regret"][s - 1] for s in shown]
        bounds = [row["cumulative_regret_ci95"][s - 1] for s in shown]
        rows.append([row["label"], f"{row['mean_score']:.1f}", *[f"{v:.1f}" for v in cumulative]])
        rows.append(["", _span(row["mean_score_ci95"]), *[_span(b) for b in bounds]])
    return report._grid(header, rows)


def _span(bounds: list[float]) -> str:
    return f"{bounds[0]:.1f}-{bounds[1]:.1f}"


def _exploration_lines(loop: dict[str, Any]) -> list[str]:
    """What exploring costs and when it pays: (d) against (c), early and late in the term."""
    row = loop["comparisons"][f"{PRODUCT} - {GREEDY}"]
    product = loop["policies"][PRODUCT]
    span, n = row["sessions"], len(loop["sessions"])
    share = product["explore_share"]
    early_share, late_share = sum(share[:span]) / span, sum(share[-span:]) / span
    return [
        f"exploration, (d) against (c): (d) explores in {early_share:.0%} of sessions 1-{span} and "
        f"{late_share:.0%} of sessions {n - span + 1}-{n}, at a predicted price of "
        f"{product['explore_price']:.1f} points per explored session;",
        f"  per-session regret (d) - (c): sessions 1-{span} "
        f"{_diff(row['early_regret'], row['early_regret_ci95'])}, sessions {n - span + 1}-{n} "
        f"{_diff(row['late_regret'], row['late_regret_ci95'])}: {_verdict(row)}",
    ]


def _verdict(row: dict[str, Any]) -> str:
    """When exploring pays, from the paired intervals of (d) - (c)."""
    cumulative = row["cumulative_regret_ci95"][-1]
    late = row["late_regret_ci95"]
    if cumulative[1] < 0.0:
        return "exploring has paid back over the term"
    if late[1] < 0.0:
        return "exploring pays by the end of the term, not yet back over all of it"
    if late[0] > 0.0:
        return "exploring still costs at the end of the term"
    if cumulative[0] > 0.0:
        return "exploring no longer clearly costs by the end, but has not paid back within the term"
    return "no clear cost or gain from exploring within the term"


def _seconds_line(loop: dict[str, Any]) -> str:
    parts = [f"first model fit {loop['seconds']['first_model_fit']:.1f} s"]
    for name, row in loop["policies"].items():
        if seconds := row.get("seconds"):
            parts.append(f"{name} fit {seconds['fit']:.1f} s + advice {seconds['advise']:.1f} s")
    seconds = loop["seconds"]
    return (
        f"closed loop, single-threaded: wall {seconds['total']:.1f} s, processor {seconds['cpu']:.1f} s; "
        + ", ".join(parts)
    )


# Figures ------------------------------------------------------------------------------------------
def figures(loop: dict[str, Any] | None) -> list[go.Figure]:
    if not loop or "error" in loop:
        return []
    return [
        _line_figure(
            loop,
            "cumulative_regret",
            "Closed loop: cumulative regret over the term, by policy, 95% intervals (lower is better)",
            "cumulative regret (points)",
        ),
        _line_figure(
            loop,
            "regret",
            "Closed loop: regret of each session, by policy, 95% intervals (lower is better)",
            "regret of the session (points)",
        ),
        _difference_figure(loop),
    ]


def _difference_figure(loop: dict[str, Any]) -> go.Figure:
    """(d)'s cumulative regret minus each other policy's, paired per learner: below 0, (d) is ahead."""
    fig = go.Figure()
    for key, row in loop["comparisons"].items():
        values = row["cumulative_regret"]
        fig.add_trace(
            go.Scatter(
                x=loop["sessions"],
                y=values,
                mode="lines+markers",
                name=f"(d) - {_label(loop, key.split(' - ', 1)[1])}",
                error_y=report._error_bars(values, row["cumulative_regret_ci95"]),
            )
        )
    fig.add_hline(y=0.0, line_dash="dash", line_width=1)
    fig.update_layout(
        title="Closed loop: (d)'s cumulative regret minus another policy's, paired, 95% intervals "
        "(below 0: (d) is ahead)",
        xaxis_title="session of the term",
        yaxis_title="difference in cumulative regret (points)",
    )
    return fig


def _line_figure(loop: dict[str, Any], key: str, title: str, axis: str) -> go.Figure:
    fig = go.Figure()
    for row in loop["policies"].values():
        if not row.get("available"):
            continue
        values = row[key]
        fig.add_trace(
            go.Scatter(
                x=loop["sessions"],
                y=values,
                mode="lines+markers",
                name=row["label"],
                error_y=report._error_bars(values, row.get(f"{key}_ci95")),
            )
        )
    fig.update_layout(title=title, xaxis_title="session of the term", yaxis_title=axis)
    return fig
