"""The engine learners benched and their targets, as checks on the bench's results.

One place names the learners (`LEARNERS`, which bench/run.py builds) and holds each one's
targets, keyed by name: a learner is added to the bench by adding its name here with its
targets. A learner without an entry in a table has no such target. Every learner has the
targets that hold for all: its regret ratio falls with k, it stays within `BOUND_DISTANCE_MAX`
of the best possible regret (bench/bayes.py) at every k >= 1 on the main population, its
predict is fast, and on IntroProg it beats pyBKT.
"""

from __future__ import annotations

import itertools
from typing import Any

import plotly.graph_objects as go

# The module, not its names: report imports this one back.
from bench import report

LEARNERS = ("model", "memory", "optimization", "combined")
# A learner that combines the others; its targets apply when the results hold it.
COMBINED = "combined"


def fit_learner(name: str, learner: Any, log: Any, fitted: dict[str, Any]) -> Any:
    """`learner` (unfitted, of kind `name`) fitted on `log`. The combination takes its bases from
    `fitted` ({name: learner already fitted on log}), as the product's retrain does, so only its
    held-out fits and weights are left: its fit time is what it adds to theirs."""
    if name == COMBINED:
        return learner.fit(log, bases={base: fitted[base] for base in learner.learners})
    return learner.fit(log)


REGRET_TARGET_K5 = {"model": 0.45, "memory": 0.55}
# (other learner, tolerance): the regret ratio at most the other's plus the tolerance, every k.
REGRET_NEAR = {"optimization": ("model", 0.03)}
BOUND_DISTANCE_MAX = 0.02  # regret ratio above the best possible, every k >= 1, main population
COVERAGE_CHECKED = ("model", "optimization")
COVERAGE_RANGE = (0.85, 0.95)
AUC_TARGET = {"model": 0.83, "memory": 0.80, "optimization": 0.84}
# Meta-training on the speed part's 10,000 learners x 30 sessions
FIT_SECONDS_MAX = {"model": 20.0, "memory": 20.0, "optimization": 60.0}
PREDICT_MS_MAX = 2.0
# Buckets of earlier attempts where the engine must beat BKT
LATE_BUCKETS = ("3-5", "6-10", "11-20", "21+")


def checks(results: dict[str, Any]) -> list[report.Check]:
    out: list[report.Check] = []
    for name in LEARNERS:
        out += _simulated_checks(results, name)
    out += _speed_checks(results)
    for name in LEARNERS:
        out += _introprog_checks(results, name)
    return out + archetype_checks(results) + combined_checks(results)


# Where similar learners matter (coach.engine.simulate's archetypes): the memory learner's regret
# at k = 5 at most this share of the model learner's, with its neighbours carrying weight.
ARCHETYPES = "archetypes"
ARCHETYPE_MEMORY_SHARE_MAX = 0.9


def archetype_checks(results: dict[str, Any]) -> list[report.Check]:
    sim = results.get("simulated") or {}
    block = next((b for b in sim.get("sensitivity", []) if b.get("population") == ARCHETYPES), None)
    label = f"memory regret at k=5 / model's ({ARCHETYPES}), neighbours weighed"
    target = f"<= {ARCHETYPE_MEMORY_SHARE_MAX}"
    if block is None or 5 not in sim.get("ks", []):
        return [report.Check(label, "not run", target, None)]
    at = sim["ks"].index(5)
    memory, model = block["learners"]["memory"], block["learners"]["model"]
    share = memory["regret_ratio"][at] / model["regret_ratio"][at]
    weights = memory.get("neighbour_weight") or {}
    measured = f"{share:.3f} ({memory['regret_ratio'][at]:.3f} / {model['regret_ratio'][at]:.3f})"
    if weights.get("k"):
        pairs = ", ".join(f"{k}: {w:.2f}" for k, w in zip(weights["k"], weights["share"], strict=True))
        measured += f"; neighbour weight at k = {pairs}"
    return [report.Check(label, measured, target, share <= ARCHETYPE_MEMORY_SHARE_MAX)]


def _learner(results: dict[str, Any], part: str, name: str) -> dict[str, Any] | None:
    section = results.get(part) or {}
    return (section.get("learners") or {}).get(name)


def bound_distance(block: dict[str, Any], name: str) -> list[float] | None:
    """The learner's regret ratio minus the best possible at each k, on one population; None
    where the bound was not computed."""
    bound = (block.get("reference") or {}).get("known_population_regret_ratio")
    row = (block.get("learners") or {}).get(name)
    if not bound or row is None:
        return None
    return [r - b for r, b in zip(row["regret_ratio"], bound, strict=True)]


# Simulated learners ------------------------------------------------------------------------------
def _simulated_checks(results: dict[str, Any], name: str) -> list[report.Check]:
    sim = results.get("simulated") or {}
    row = _learner(results, "simulated", name)
    if row is None:
        return [report.Check(f"simulated {name}", "not run", "", None)]
    ks, ratio = sim["ks"], row["regret_ratio"]
    out = []
    if name in REGRET_TARGET_K5:
        out.append(_regret_at_k5(name, ks, row))
    if name in REGRET_NEAR:
        out.append(_regret_near(sim, name, *REGRET_NEAR[name]))
    out.append(
        report.Check(
            f"{name} regret ratio falls with k",
            ", ".join(report._fmt(r, 2) for r in ratio)
            + report._largest_rise(ks, ratio, row.get("regret_ratio_step_ci95")),
            "non-increasing",
            all(b <= a for a, b in itertools.pairwise(ratio)),
        )
    )
    out.append(_bound_check(sim, name))
    if name in COVERAGE_CHECKED:
        low, high = COVERAGE_RANGE
        cov = row["coverage90"]
        ok = all(low <= c <= high for c in cov)
        measured = " ".join(report._fmt(c, 2) for c in cov)
        out.append(report.Check(f"{name} coverage90 at every k", measured, f"in [{low}, {high}]", ok))
    return out


def _regret_at_k5(name: str, ks: list[int], row: dict[str, Any]) -> report.Check:
    at5 = row["regret_ratio"][ks.index(5)] if 5 in ks else None
    measured = report._fmt(at5)
    if at5 is not None and (intervals := row.get("regret_ratio_ci95")):
        measured += f" (95% {report._interval(intervals[ks.index(5)])})"
    limit = REGRET_TARGET_K5[name]
    met = None if at5 is None else at5 <= limit
    return report.Check(f"{name} regret ratio at k=5", measured, f"<= {limit}", met)


def _regret_near(sim: dict[str, Any], name: str, other: str, tolerance: float) -> report.Check:
    label = f"{name} regret ratio within {tolerance:g} of {other}'s, every k"
    theirs = (sim.get("learners") or {}).get(other)
    if theirs is None:
        return report.Check(label, f"{other} not run", f"<= {other} + {tolerance:g}", None)
    diffs = [
        a - b for a, b in zip(sim["learners"][name]["regret_ratio"], theirs["regret_ratio"], strict=True)
    ]
    measured = " ".join(f"{d:+.3f}" for d in diffs)
    return report.Check(label, measured, f"<= {other} + {tolerance:g}", all(d <= tolerance for d in diffs))


def _bound_check(sim: dict[str, Any], name: str) -> report.Check:
    label = f"{name} within {BOUND_DISTANCE_MAX:g} of the best possible regret, every k >= 1"
    target = f"<= {BOUND_DISTANCE_MAX:g} above"
    distance = bound_distance(sim, name)
    if distance is None:
        return report.Check(label, "bound not computed", target, None)
    late = [(k, d) for k, d in zip(sim["ks"], distance, strict=True) if k >= 1]
    measured = " ".join(f"{d:+.3f}" for _, d in late)
    return report.Check(label, measured, target, all(d <= BOUND_DISTANCE_MAX for _, d in late))


# Speed and IntroProg -----------------------------------------------------------------------------
def _speed_checks(results: dict[str, Any]) -> list[report.Check]:
    speed = results.get("speed") or {}
    setup = speed.get("setup", {})
    size = f"{setup.get('n_learners', '?')} x {setup.get('n_sessions', '?')}"
    out: list[report.Check] = []
    for name in LEARNERS:
        row = (speed.get("learners") or {}).get(name)
        if row is None:
            out.append(report.Check(f"speed {name}", "not run", "", None))
            continue
        fit, ms = row["fit_seconds"], row["predict_ms_median"]
        if name in FIT_SECONDS_MAX:
            limit = FIT_SECONDS_MAX[name]
            out.append(
                report.Check(
                    f"{name} meta-train {size} (s)", report._fmt(fit, 1), f"<= {limit:g}", fit <= limit
                )
            )
        out.append(
            report.Check(
                f"{name} predict median (ms)",
                report._fmt(ms, 2),
                f"<= {PREDICT_MS_MAX:g}",
                ms <= PREDICT_MS_MAX,
            )
        )
    return out


def _introprog_checks(results: dict[str, Any], name: str) -> list[report.Check]:
    intro = results.get("introprog") or {}
    row = _learner(results, "introprog", name)
    if row is None:
        return [report.Check(f"introprog {name}", "not run", "", None)]
    out = []
    if name in AUC_TARGET:
        limit = AUC_TARGET[name]
        out.append(
            report.Check(f"introprog {name} AUC", report._fmt(row["auc"]), f">= {limit}", row["auc"] >= limit)
        )
    bkt = (intro.get("baselines") or {}).get("pybkt")
    if bkt is None:
        why = intro.get("pybkt_status", "pyBKT not run")
        out.append(report.Check(f"introprog {name} AUC > pyBKT", why, "overall and buckets >= 3", None))
        return out
    out.append(
        report.Check(
            f"introprog {name} AUC > pyBKT overall",
            f"{report._fmt(row['auc'])} vs {report._fmt(bkt['auc'])}",
            ">",
            row["auc"] > bkt["auc"],
        )
    )
    labels = intro["buckets"]
    pairs = [(row["bucket_auc"][labels.index(b)], bkt["bucket_auc"][labels.index(b)]) for b in LATE_BUCKETS]
    ok = all(a is not None and b is not None and a > b for a, b in pairs)
    shown = " ".join(f"{report._fmt(a)}/{report._fmt(b)}" for a, b in pairs)
    out.append(report.Check(f"introprog {name} > pyBKT, buckets {','.join(LATE_BUCKETS)}", shown, ">", ok))
    return out


# The combination ---------------------------------------------------------------------------------
def combined_checks(results: dict[str, Any]) -> list[report.Check]:
    """At least as good as the best single learner, within noise, on every population and on
    IntroProg: the paired 95% interval of its difference to the best other learner does not lie
    wholly on the worse side, at any k. Nothing when the results hold no combination."""
    sim = results.get("simulated") or {}
    intro = results.get("introprog") or {}
    present = [p for p in (sim, intro) if COMBINED in (p.get("learners") or {})]
    if not present:
        return []
    out = []
    if COMBINED in (sim.get("learners") or {}):
        blocks = [sim, *([sim["stress"]] if sim.get("stress") else []), *sim.get("sensitivity", [])]
        for block in blocks:
            population = block.get("population") or (sim.get("setup") or {}).get("population", "main")
            out.append(_combined_population(sim["ks"], block, str(population)))
    if COMBINED in (intro.get("learners") or {}):
        out.append(_combined_introprog(intro["learners"][COMBINED]))
    return out


def _combined_population(ks: list[int], block: dict[str, Any], population: str) -> report.Check:
    label = f"{COMBINED} regret no worse than the best single learner ({population}), every k"
    row = block["learners"].get(COMBINED) or {}
    intervals = row.get("best_other_diff_ci95")
    if not intervals:
        return report.Check(label, "not measured", "95% of difference holds <= 0", None)
    worse = [k for k, (low, _) in zip(ks, intervals, strict=True) if low > 0]
    measured = "worse at k=" + ",".join(map(str, worse)) if worse else "no k worse"
    return report.Check(label, measured, "95% of difference holds <= 0", not worse)


def _combined_introprog(row: dict[str, Any]) -> report.Check:
    label = f"introprog {COMBINED} AUC no worse than the best single learner"
    bounds = row.get("best_other_auc_diff_ci95")
    if not bounds:
        return report.Check(label, "not measured", "95% of difference holds >= 0", None)
    measured = f"{row['best_other_auc_diff']:+.3f} (95% {bounds[0]:+.3f} to {bounds[1]:+.3f})"
    return report.Check(label, measured, "95% of difference holds >= 0", bounds[1] >= 0)


# Figures -----------------------------------------------------------------------------------------
def bound_figure(sim: dict[str, Any]) -> go.Figure | None:
    """Each learner's distance to the best possible regret against k, on the main population."""
    fig = go.Figure()
    for name, row in sim["learners"].items():
        distance = bound_distance(sim, name)
        if distance is None:
            return None
        bars = report._error_bars(distance, row.get("bound_distance_ci95"))
        fig.add_trace(go.Scatter(x=sim["ks"], y=distance, mode="lines+markers", name=name, error_y=bars))
    fig.add_hline(y=BOUND_DISTANCE_MAX, line_dash="dash", line_width=1, annotation_text="target from k=1")
    fig.update_layout(
        title="Simulated learners: distance to the best possible regret ratio (Bayes), 95% paired intervals",
        xaxis_title="k: the new learner's sessions revealed",
        yaxis_title="regret ratio - best possible",
    )
    return fig
