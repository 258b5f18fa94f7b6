"""The off-policy evaluation part's figures as text, targets and plots, from bench/policy_eval.py's
results; the bench's table (bench/report.py) and `python -m bench.policy_eval` print the same."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from bench import report

# Targets
COVERAGE_RANGE = (0.90, 0.98)
SECONDS_MAX = 90.0


def _names(part: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Targets, estimators, and the estimators whose interval has a target."""
    setup = part["setup"]
    checked = [m for m in setup["estimators"] if m not in setup["reference"]]
    return setup["targets"], setup["estimators"], checked


def text(part: dict[str, Any]) -> list[str]:
    setup = part["setup"]
    targets, estimators, checked = _names(part)
    out = [
        f"== Off-policy evaluation: {setup['n_replications']} fresh logs of {setup['n_learners']} new "
        f"learners x {setup['n_sessions']} sessions ==",
        f"each session the product's suggestion (followed with probability {setup['follow']:g}) or the "
        f"learner's habit; the model meta-trained once on {setup['n_train']} learners",
        "true value (population value: the mean over replications, +- its standard error): "
        + ", ".join(f"{t} {part['truth'][t]['value']:.3f} +- {part['truth'][t]['se']:.3f}" for t in targets),
    ]
    header = ["target", "estimator", "coverage95", "its 95%", "bias", "RMSE", "width", "ESS"]
    rows = []
    for target in targets:
        block = part["targets"][target]
        for method in estimators:
            row = block["estimators"][method]
            low, high = row["coverage_ci95"]
            rows.append(
                [
                    f"  {target}",
                    method + ("" if method in checked else " (reference)"),
                    f"{row['coverage']:.2f}",
                    f"{low:.2f}-{high:.2f}",
                    f"{row['bias']:+.4f}",
                    f"{row['rmse']:.4f}",
                    f"{row['width']:.3f}",
                    f"{block['ess']:.0f}",
                ]
            )
    out.append(report._grid(header, rows, numeric=False))
    n_rows = setup["n_learners"] * setup["n_sessions"]
    out += [
        f"ESS: (sum w)^2 / sum w^2 of the importance weights, mean over logs of {n_rows} sessions; switch-dr",
        f"keeps the model alone where w > {setup['tau']:g}; dm's interval ignores the model's error",
    ]
    undefined = [
        f"{method} on {target} in {row['undefined']} logs"
        for target in targets
        for method, row in part["targets"][target]["estimators"].items()
        if row.get("undefined")
    ]
    if undefined:
        out.append("undefined (counted as intervals that missed): " + ", ".join(undefined))
    return out


def standalone(part: dict[str, Any], *, quick: bool) -> str:
    """The text and the targets, as `python -m bench.policy_eval` prints them."""
    out = (
        ["QUICK RUN: tiny sizes to check the pipeline; the numbers below are not meaningful."]
        if quick
        else []
    )
    rows = [[f"  {c.mark}", c.name, c.target, c.measured] for c in checks(part, quick=quick)]
    out += [
        *text(part),
        "",
        "== Targets ==",
        report._grid(["", "", "target", "measured"], rows, numeric=False),
    ]
    return "\n".join(out)


def checks(part: dict[str, Any] | None, *, quick: bool = False) -> list[report.Check]:
    if not part or "error" in part:
        return [report.Check("off-policy evaluation", (part or {}).get("error", "not run"), "", None)]
    targets, _, checked = _names(part)
    low, high = COVERAGE_RANGE
    out = []
    for method in checked:
        coverage = [part["targets"][t]["estimators"][method]["coverage"] for t in targets]
        out.append(
            report.Check(
                f"OPE {method}: coverage of its 95% interval ({', '.join(targets)})",
                " ".join(f"{c:.2f}" for c in coverage),
                f"in [{low:.2f}, {high:.2f}]",
                all(low <= c <= high for c in coverage),
            )
        )
    pairs = [part["dr_vs_snips"][t] for t in targets]
    out.append(
        report.Check(
            f"OPE: DR RMSE <= SNIPS RMSE ({', '.join(targets)})",
            " ".join(f"{p['dr_rmse']:.4f}/{p['snips_rmse']:.4f}" for p in pairs),
            "each",
            all(p["dr_rmse"] <= p["snips_rmse"] for p in pairs),
        )
    )
    cpu = part.get("cpu_seconds")
    if cpu is not None and not quick:
        # Processor time: the part is single-threaded, and its wall time also counts the waits
        # for a core that other processes hold (the bench's own workers, or anyone's).
        wall = f"wall {part['seconds']:.0f} s at a load average of {part['load_average']:.1f}"
        out.append(
            report.Check(
                "OPE processor time, single-threaded (s)",
                f"{cpu:.0f} ({wall})",
                f"<= {SECONDS_MAX:g}",
                cpu <= SECONDS_MAX,
            )
        )
    return out


def figures(part: dict[str, Any] | None) -> list[go.Figure]:
    if not part or "error" in part:
        return []
    targets, estimators, checked = _names(part)
    coverage = go.Figure()
    rmse = go.Figure()
    for method in estimators:
        rows = [part["targets"][t]["estimators"][method] for t in targets]
        values = [r["coverage"] for r in rows]
        if method in checked:
            bars = report._error_bars(values, [r["coverage_ci95"] for r in rows])
            coverage.add_trace(go.Bar(x=targets, y=values, name=method, error_y=bars))
        rmse.add_trace(go.Bar(x=targets, y=[r["rmse"] for r in rows], name=method))
    for bound in COVERAGE_RANGE:
        coverage.add_hline(y=bound, line_dash="dash", line_width=1, annotation_text=f"target {bound:.2f}")
    coverage.update_layout(
        title="Off-policy evaluation: coverage of the 95% interval by target policy (with its 95% interval)",
        xaxis_title="target policy",
        yaxis_title="share of logs whose interval holds the true value",
        barmode="group",
    )
    rmse.update_layout(
        title="Off-policy evaluation: RMSE of each estimator by target policy (lower is better)",
        xaxis_title="target policy",
        yaxis_title="RMSE (score as a fraction)",
        barmode="group",
    )
    return [coverage, rmse]
