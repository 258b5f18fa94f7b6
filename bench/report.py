"""Bench output: a plain-text table with targets, results.json and an offline plotly report."""

from __future__ import annotations

import html
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from bench import closed_loop_report, learner_report, load_report, pages_report, policy_eval_report

BENCH_SECONDS_MAX = 600.0


@dataclass(frozen=True)
class Check:
    name: str
    measured: str
    target: str
    met: bool | None  # None: could not be measured

    @property
    def mark(self) -> str:
        return {True: "met", False: "MISSED", None: "n/a"}[self.met]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(bounds: list[float]) -> str:
    return f"{bounds[0]:.2f}-{bounds[1]:.2f}"


def _largest_rise(ks: list[int], ratio: list[float], steps: list[list[float]] | None) -> str:
    """The largest rise from one k to the next with its paired 95% interval; empty if none."""
    rises = [b - a for a, b in itertools.pairwise(ratio)]
    if not steps or not rises or max(rises) <= 0:
        return ""
    worst = int(np.argmax(rises))
    low, high = steps[worst]
    span = f"k={ks[worst]} to k={ks[worst + 1]}"
    return f"; rises {rises[worst]:+.3f} from {span} (95% {low:+.3f} to {high:+.3f})"


# Targets -----------------------------------------------------------------------------------------
def checks(results: dict[str, Any]) -> list[Check]:
    out = learner_report.checks(results)
    out += _product_checks(results)
    out += policy_eval_report.checks(results.get("policy_eval"), quick=bool(results.get("quick")))
    out += closed_loop_report.checks(results.get("closed_loop"), quick=bool(results.get("quick")))
    out += pages_report.checks(results.get("pages"))
    out += load_report.checks(results.get("load"))
    total = (results.get("seconds") or {}).get("total")
    if total is not None and not results.get("quick"):
        limit = f"<= {BENCH_SECONDS_MAX:g}"
        out.append(Check("bench wall time (s)", _fmt(total, 0), limit, total <= BENCH_SECONDS_MAX))
    return out


def _product_checks(results: dict[str, Any]) -> list[Check]:
    product = results.get("product") or {}
    if "engine" not in product:
        return []
    out: list[Check] = []
    for phase, label in (("cold", "product cold start"), ("engine", "product after retrain")):
        rows = [product[phase][str(k)] for k in product["ks"]]
        coverage = [r["coverage"] for r in rows]
        out.append(
            Check(
                f"{label}: coverage of shown 90% range, every k",
                " ".join(f"{c:.2f}" for c in coverage),
                "in [0.85, 0.95]",
                all(0.85 <= c <= 0.95 for c in coverage),
            )
        )
        medians = [r["width_median"] for r in rows]
        out.append(
            Check(
                f"{label}: median width of shown range never grows",
                " ".join(f"{m:.0f}" for m in medians),
                "non-increasing",
                all(b <= a + 1e-9 for a, b in itertools.pairwise(medians)),
            )
        )
        widest = max(r["width_max"] for k, r in zip(product["ks"], rows, strict=True) if k >= 1)
        out.append(Check(f"{label}: widest shown range after k >= 1", f"{widest:.0f}", "< 90", widest < 90))
        inside = [r["regret_diff_ci95"][0] <= 0.0 <= r["regret_diff_ci95"][1] for r in rows]
        out.append(
            Check(
                f"{label}: shown regret = engine regret (95% CI of difference holds 0)",
                " ".join("yes" if ok else "no" for ok in inside),
                "every k",
                all(inside),
            )
        )
    return out


# Plain-text table --------------------------------------------------------------------------------
def _grid(header: list[str], rows: list[list[str]], *, numeric: bool = True) -> str:
    """Columns padded to width; the first (and, unless numeric, every) column left-aligned."""
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if numeric and i > 0 else text.ljust(widths[i])

    return "\n".join("  ".join(cell(i, c) for i, c in enumerate(r)).rstrip() for r in table)


_REGRET_TITLE = (
    "regret_ratio, with its 95% interval over test learners; below, each learner's distance to the "
    "best possible: its regret_ratio minus the bound's, with a paired 95% interval"
)


def _simulated_text(sim: dict[str, Any]) -> list[str]:
    ks = sim["ks"]
    setup = sim.get("setup", {})
    out = [
        f"== Simulated learners: meta-train {setup.get('n_train')}, test {setup.get('n_test')} new learners, "
        f"{setup.get('n_situations')} situations each; k = own sessions revealed =="
    ]
    header = ["", *[f"k={k}" for k in ks]]
    for metric in ("regret_ratio", "rmse", "coverage90", "predict_ms"):
        if metric == "regret_ratio":
            out += [_REGRET_TITLE, _regret_grid(sim, header)]
            continue
        rows = [[f"  {name}", *[_fmt(v) for v in row[metric]]] for name, row in sim["learners"].items()]
        out += [metric, _grid(header, rows)]
    fits = ", ".join(f"{n} {_fmt(r['fit_seconds'], 1)} s" for n, r in sim["learners"].items())
    out.append(f"meta-train time: {fits} (taken beside the bench's other jobs; Speed below is taken alone)")
    out += _neighbour_lines(sim["learners"])
    reference = sim.get("reference") or {}
    if reference.get("known_traits_regret_ratio") is not None:
        out.append(
            "not observable, for scale: choosing with the true latent traits (no per-learner quirks) gives "
            f"{_fmt(reference['known_traits_regret_ratio'])}; with traits and family sensitivities "
            f"{_fmt(reference.get('known_families_regret_ratio'))}"
        )
    if stress := sim.get("stress"):
        out += [f"stress population ({stress.get('population')}): regret_ratio", _regret_grid(stress, header)]
    if variants := sim.get("sensitivity"):
        out.append("sensitivity: regret_ratio when one assumption of the population changes")
        out += [line for v in variants for line in (f"{v['population']}:", _regret_grid(v, header))]
    return out


def _neighbour_lines(learners: dict[str, Any]) -> list[str]:
    """How much the memory learner's neighbours count, level by level (see neighbour_weights)."""
    out = []
    for name, row in learners.items():
        if weights := row.get("neighbour_weight"):
            shown = ", ".join(
                f"k={k}: {_fmt(w, 2)}" for k, w in zip(weights["k"], weights["share"], strict=True)
            )
            out.append(f"{name}: weight of the neighbours against the level below: {shown}")
    return out


def _regret_grid(block: dict[str, Any], header: list[str]) -> str:
    rows = []
    for name, row in block["learners"].items():
        rows += _ratio_rows(f"  {name}", row["regret_ratio"], row.get("regret_ratio_ci95"))
    rows += _regret_reference_rows(block, len(header) - 1)
    for name, row in block["learners"].items():
        if (distance := learner_report.bound_distance(block, name)) is not None:
            label = f"  {name}: distance to the best possible"
            rows += _ratio_rows(label, distance, row.get("bound_distance_ci95"), signed=True)
    return _grid(header, rows)


def _ratio_rows(
    label: str, ratios: list[float], intervals: list[list[float]] | None, *, signed: bool = False
) -> list[list[str]]:
    """A row of values and, below, their 95% intervals; `signed` for differences, which cross 0."""
    rows = [[label, *[f"{v:+.3f}" if signed else _fmt(v) for v in ratios]]]
    if intervals:
        rows.append(
            ["", *[f"{lo:+.2f}..{hi:+.2f}" if signed else _interval([lo, hi]) for lo, hi in intervals]]
        )
    return rows


def _regret_reference_rows(sim: dict[str, Any], n: int) -> list[list[str]]:
    rows = [["  baseline (fixed best-on-average)", *["1.000"] * n]]
    reference = sim.get("reference") or {}
    if best := reference.get("known_population_regret_ratio"):
        label = "  best possible (Bayes, knows the population)"
        rows += _ratio_rows(label, best, reference.get("known_population_regret_ratio_ci95"))
    if draws := reference.get("known_population_draws"):
        label = f"    effective draws behind it, of {draws['n_draws']}"
        rows.append([label, *[f"{e:.0f}" for e in draws["ess"]]])
    return rows


def _speed_text(speed: dict[str, Any]) -> list[str]:
    setup = speed.get("setup", {})
    out = [f"== Speed: {setup.get('n_learners')} learners x {setup.get('n_sessions')} sessions =="]
    header = ["", "fit s", "predict median ms", "predict p90 ms", "fit peak MB", "saved KB"]
    keys = ("fit_seconds", "predict_ms_median", "predict_ms_p90", "fit_peak_mb", "saved_kb")
    rows = [[f"  {n}", *[_fmt(r.get(k), 2) for k in keys]] for n, r in speed["learners"].items()]
    return [*out, _grid(header, rows)]


def _introprog_text(intro: dict[str, Any]) -> list[str]:
    out = [
        f"== IntroProg real learners: meta-train {intro['n_train_learners']} learners "
        f"({intro['n_train_attempts']} attempts), predict {intro['n_test_learners']} held-out learners "
        f"({intro['n_test_attempts']} attempts), each attempt from earlier ones only =="
    ]
    header = ["", "AUC", "log loss", *[f"AUC@{b}" for b in intro["buckets"]]]
    rows = []
    named = [*intro["learners"].items(), *intro["baselines"].items()]
    for name, row in named:
        label = f"  {name}" + (" (reference)" if name == "logistic_regression" else "")
        rows.append([label, _fmt(row["auc"]), _fmt(row["log_loss"]), *[_fmt(a) for a in row["bucket_auc"]]])
    rows.append(["  attempts in bucket", "", "", *[str(n) for n in named[0][1]["bucket_n"]]] if named else [])
    out.append(_grid(header, [r for r in rows if r]))
    for name, row in intro["learners"].items():
        out.append(
            f"{name}: meta-train {_fmt(row['fit_seconds'], 1)} s, predict median "
            f"{_fmt(row['predict_ms_median'], 2)} ms per attempt"
        )
    out += _neighbour_lines(intro["learners"])
    bkt = intro["baselines"].get("pybkt")
    if bkt is not None:
        out.append(
            f"pyBKT: one skill per assignment, fitted on the training learners; {_fmt(bkt['seconds'], 1)} s"
        )
    else:
        out.append(f"pyBKT: {intro.get('pybkt_status')}")
    return out


def _product_text(product: dict[str, Any]) -> list[str]:
    sizes = product["sizes"]
    out = [
        "== Product path: the recommendation card, through the product's own code ==",
        f"training cohort {sizes['n_train']} x {sizes['train_sessions']} sessions; "
        f"{sizes['n_cold']} new learners before any snapshot, {sizes['n_new']} after the first retrain",
    ]
    header = ["k", "coverage", "width med", "p95", "max", "regret", "engine", "diff 95%", "explore", "price"]
    for phase, label in (("cold", "cold start (evidence)"), ("engine", "after the first retrain")):
        rows = []
        for k in product["ks"]:
            r = product[phase][str(k)]
            rows.append(
                [
                    str(k),
                    f"{r['coverage']:.2f}",
                    f"{r['width_median']:.0f}",
                    f"{r['width_p95']:.0f}",
                    f"{r['width_max']:.0f}",
                    f"{r['regret']:.1f}",
                    f"{r['regret_engine']:.1f}",
                    _interval(r["regret_diff_ci95"]),
                    f"{r['explore_share']:.2f}",
                    f"{r['explore_price']:.1f}",
                ]
            )
        out += [label + " (regret and price in points)", _grid(header, rows)]
    return out


def format_table(results: dict[str, Any]) -> str:
    out: list[str] = []
    if results.get("quick"):
        out.append("QUICK RUN: tiny sizes to check the pipeline; the numbers below are not meaningful.")
    for part, render in (
        ("simulated", _simulated_text),
        ("speed", _speed_text),
        ("introprog", _introprog_text),
        ("product", _product_text),
        ("policy_eval", policy_eval_report.text),
        ("closed_loop", closed_loop_report.text),
        ("pages", pages_report.text),
        ("load", load_report.text),
    ):
        section = results.get(part)
        if section and "error" not in section:
            out += [*render(section), ""]
        else:
            out += [f"== {part}: not run ({(section or {}).get('error', 'skipped')}) ==", ""]
    rows = [[f"  {c.mark}", c.name, c.target, c.measured] for c in checks(results)]
    out += ["== Targets ==", _grid(["", "", "target", "measured"], rows, numeric=False)]
    timings = ", ".join(f"{k} {_fmt(v, 1)} s" for k, v in (results.get("seconds") or {}).items())
    if timings:
        jobs = results.get("jobs", 1)
        pooled = "simulated, introprog, policy_eval, closed_loop"
        beside = f"{pooled} side by side in {jobs} processes, product path beside"
        out.append(f"wall time: {timings} ({beside})")
    return "\n".join(out)


# Files -------------------------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    """NaN and infinities become null so the file is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _clean(results) | {"checks": [c.__dict__ | {"mark": c.mark} for c in checks(results)]}
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def _error_bars(values: list[float], intervals: list[list[float]] | None) -> dict[str, Any] | None:
    """Asymmetric plotly error bars for 95% intervals, or none when there are none."""
    if not intervals:
        return None
    return {
        "type": "data",
        "symmetric": False,
        "array": [high - v for v, (_, high) in zip(values, intervals, strict=True)],
        "arrayminus": [v - low for v, (low, _) in zip(values, intervals, strict=True)],
    }


def regret_figure(sim: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for name, row in sim["learners"].items():
        ratio = row["regret_ratio"]
        bars = _error_bars(ratio, row.get("regret_ratio_ci95"))
        fig.add_trace(go.Scatter(x=sim["ks"], y=ratio, mode="lines+markers", name=name, error_y=bars))
    fig.add_trace(
        go.Scatter(
            x=sim["ks"], y=[1.0] * len(sim["ks"]), mode="lines", name="baseline", line={"dash": "dash"}
        )
    )
    reference = sim.get("reference") or {}
    if best := reference.get("known_population_regret_ratio"):
        fig.add_trace(
            go.Scatter(
                x=sim["ks"],
                y=best,
                mode="lines",
                name="best possible (Bayes, knows the population)",
                line={"dash": "dot"},
                error_y=_error_bars(best, reference.get("known_population_regret_ratio_ci95")),
            )
        )
    fig.update_layout(
        title="Simulated learners: regret ratio against own sessions seen, 95% intervals (lower is better)",
        xaxis_title="k: the new learner's sessions revealed",
        yaxis_title="regret / baseline regret",
    )
    return fig


def sensitivity_figure(sim: dict[str, Any], k: int = 5) -> go.Figure:
    """Regret ratio at k on every population: what the learners reach beside what is possible."""
    at = sim["ks"].index(k)
    blocks = [sim, sim["stress"], *sim["sensitivity"]]
    names = [str(sim["setup"]["population"]), *[str(b["population"]) for b in blocks[1:]]]
    fig = go.Figure()
    for learner in sim["learners"]:
        rows = [b["learners"][learner] for b in blocks]
        fig.add_trace(_bar_at(names, rows, "regret_ratio", at, learner))
    references = [b["reference"] for b in blocks]
    fig.add_trace(
        _bar_at(
            names,
            references,
            "known_population_regret_ratio",
            at,
            "best possible (Bayes, knows the population)",
        )
    )
    for learner, limit in learner_report.REGRET_TARGET_K5.items():
        fig.add_hline(y=limit, line_dash="dash", line_width=1, annotation_text=f"{learner} target at k={k}")
    fig.update_layout(
        title=f"Regret ratio at k={k} on each simulated population (lower is better)",
        xaxis_title="population",
        yaxis_title="regret / baseline regret",
        barmode="group",
    )
    return fig


def _bar_at(names: list[str], rows: list[dict[str, Any]], key: str, at: int, label: str) -> go.Bar:
    """One bar per population: `row[key][at]`, with its 95% interval where there is one."""
    values = [row[key][at] for row in rows]
    intervals = [row[f"{key}_ci95"][at] for row in rows] if all(f"{key}_ci95" in r for r in rows) else None
    return go.Bar(x=names, y=values, name=label, error_y=_error_bars(values, intervals))


def auc_figure(intro: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    rows = [*intro["learners"].items(), *intro["baselines"].items()]
    for name, row in rows:
        dash = None if name in intro["learners"] else "dot"
        fig.add_trace(
            go.Scatter(
                x=intro["buckets"], y=row["bucket_auc"], mode="lines+markers", name=name, line={"dash": dash}
            )
        )
    fig.update_layout(
        title="IntroProg: AUC by the learner's number of earlier attempts (higher is better)",
        xaxis_title="earlier attempts of the learner",
        yaxis_title="AUC",
    )
    return fig


def write_html(results: dict[str, Any], path: Path) -> None:
    """One self-contained page: plotly.js is embedded, so it opens offline."""
    figures = []
    if (sim := results.get("simulated")) and "error" not in sim:
        figures.append(regret_figure(sim))
        if (bound := learner_report.bound_figure(sim)) is not None:
            figures.append(bound)
        if sim.get("sensitivity") and 5 in sim["ks"]:
            figures.append(sensitivity_figure(sim))
    if (intro := results.get("introprog")) and "error" not in intro:
        figures.append(auc_figure(intro))
    figures += policy_eval_report.figures(results.get("policy_eval"))
    figures += closed_loop_report.figures(results.get("closed_loop"))
    body = [f"<pre>{html.escape(format_table(results))}</pre>"]
    for i, fig in enumerate(figures):
        # The title as a heading and the legend above the plot, so both fit a phone's width.
        body.append(f"<h2>{html.escape(str(fig.layout.title.text))}</h2>")
        fig.update_layout(
            title=None,
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
            margin={"t": 30, "r": 20},
        )
        body.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                default_height="480px",
                config={"responsive": True},
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Metacoach bench</title><style>{_STYLE}</style></head>\n"
        f"<body>\n<h1>Metacoach bench</h1>\n{chr(10).join(body)}\n</body></html>\n"
    )


# The table keeps its columns and scrolls sideways in its own box on narrow screens.
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:80rem;padding:0 1rem}"
    "pre{overflow-x:auto;font-size:12px;line-height:1.35}"
    "h2{font-size:1.05rem;font-weight:600;margin:2rem 0 0}"
)
