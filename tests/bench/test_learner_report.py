"""The engine learners' targets (bench/learner_report.py): each check fails on a made-up missed
figure, passes on a met one, and says n/a when the figure is missing."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from bench import introprog, learner_report, report, simulated
from bench import run as bench_run

KS = [0, 1, 2, 5, 10, 20]
BOUND = [0.60, 0.50, 0.44, 0.34, 0.26, 0.20]


def _sim_row(ratio: list[float], coverage: float = 0.90) -> dict[str, Any]:
    return {
        "regret_ratio": ratio,
        "regret_ratio_ci95": [[r - 0.03, r + 0.03] for r in ratio],
        "coverage90": [coverage] * len(ratio),
        "fit_seconds": 1.0,
    }


def _block(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"learners": rows, "reference": {"known_population_regret_ratio": list(BOUND)}}


def _met() -> dict[str, Any]:
    """Results in which every learner meets every target."""
    close = [b + 0.01 for b in BOUND]
    rows = {name: _sim_row(list(close)) for name in learner_report.LEARNERS}
    rows[learner_report.COMBINED]["best_other_diff_ci95"] = [[-0.02, 0.02]] * len(KS)
    # Where learners come in kinds, the memory learner's regret is 0.8 of the model learner's.
    kinds = copy.deepcopy(_block(rows))
    kinds["learners"]["memory"]["regret_ratio"] = [0.8 * r for r in close]
    intro_row = {
        "auc": 0.86,
        "bucket_auc": [0.80, 0.82, 0.84, 0.85, 0.86, 0.87],
        "predict_ms_median": 0.5,
        "fit_seconds": 1.0,
    }
    return {
        "quick": False,
        "seconds": {},
        "simulated": {
            "ks": list(KS),
            "setup": {"population": "families"},
            **_block(rows),
            "sensitivity": [{"population": learner_report.ARCHETYPES, **kinds}],
        },
        "speed": {
            "setup": {"n_learners": 10_000, "n_sessions": 30},
            "learners": {n: {"fit_seconds": 10.0, "predict_ms_median": 1.0} for n in learner_report.LEARNERS},
        },
        "introprog": {
            "buckets": [label for _, _, label in introprog.BUCKETS],
            "learners": {n: dict(intro_row) for n in learner_report.LEARNERS}
            | {
                learner_report.COMBINED: intro_row
                | {"best_other_auc_diff": 0.0, "best_other_auc_diff_ci95": [-0.004, 0.002]}
            },
            "baselines": {"pybkt": {"auc": 0.70, "bucket_auc": [0.7] * 6}},
        },
    }


def _marks(results: dict[str, Any], fragment: str) -> list[str]:
    found = [c.mark for c in learner_report.checks(results) if fragment in c.name]
    assert found, f"no check named like {fragment!r}"
    return found


def test_every_learner_meets_every_target_on_met_figures() -> None:
    checks = learner_report.checks(_met())
    assert {c.mark for c in checks} == {"met"}
    names = " ".join(c.name for c in checks)
    for name in learner_report.LEARNERS:
        assert f"{name} within 0.02 of the best possible regret" in names


def test_the_learner_list_is_the_benchs() -> None:
    assert bench_run.LEARNERS == learner_report.LEARNERS
    assert "optimization" in learner_report.LEARNERS
    assert set(bench_run._simulated_factories(0)) == set(learner_report.LEARNERS)


@pytest.mark.parametrize(
    ("k", "above", "mark"), [(1, 0.025, "MISSED"), (20, 0.021, "MISSED"), (0, 0.08, "met"), (5, 0.019, "met")]
)
def test_distance_to_the_bound_counts_from_k_1(k: int, above: float, mark: str) -> None:
    results = _met()
    results["simulated"]["learners"]["memory"]["regret_ratio"][KS.index(k)] = BOUND[KS.index(k)] + above
    assert _marks(results, "memory within 0.02 of the best possible") == [mark]
    assert _marks(results, "model within 0.02 of the best possible") == ["met"]


def test_distance_to_the_bound_is_not_measured_without_the_bound() -> None:
    results = _met()
    del results["simulated"]["reference"]
    assert _marks(results, "optimization within 0.02 of the best possible") == ["n/a"]


def test_optimization_regret_is_held_to_the_model_learners() -> None:
    results = _met()
    ratio = results["simulated"]["learners"]["optimization"]["regret_ratio"]
    ratio[KS.index(2)] += 0.029
    assert _marks(results, "optimization regret ratio within 0.03 of model's") == ["met"]
    ratio[KS.index(2)] += 0.002
    assert _marks(results, "optimization regret ratio within 0.03 of model's") == ["MISSED"]
    # Better than the model learner is within the target.
    ratio[:] = [r - 0.1 for r in ratio]
    assert _marks(results, "optimization regret ratio within 0.03 of model's") == ["met"]
    del results["simulated"]["learners"]["model"]
    assert _marks(results, "optimization regret ratio within 0.03 of model's") == ["n/a"]


@pytest.mark.parametrize(("coverage", "mark"), [(0.84, "MISSED"), (0.96, "MISSED"), (0.95, "met")])
def test_optimization_coverage_is_checked_at_every_k(coverage: float, mark: str) -> None:
    results = _met()
    results["simulated"]["learners"]["optimization"]["coverage90"][-1] = coverage
    assert _marks(results, "optimization coverage90") == [mark]


def test_memory_coverage_stays_unchecked() -> None:
    results = _met()
    results["simulated"]["learners"]["memory"]["coverage90"] = [0.5] * len(KS)
    assert not [c for c in learner_report.checks(results) if c.name.startswith("memory coverage")]


@pytest.mark.parametrize(
    ("name", "seconds", "mark"),
    [("optimization", 59.0, "met"), ("optimization", 61.0, "MISSED"), ("model", 21.0, "MISSED")],
)
def test_meta_train_time_has_each_learners_limit(name: str, seconds: float, mark: str) -> None:
    results = _met()
    results["speed"]["learners"][name]["fit_seconds"] = seconds
    assert _marks(results, f"{name} meta-train") == [mark]


def test_optimization_predict_time_is_checked() -> None:
    results = _met()
    results["speed"]["learners"]["optimization"]["predict_ms_median"] = 2.5
    assert _marks(results, "optimization predict median") == ["MISSED"]


@pytest.mark.parametrize(("auc", "mark"), [(0.839, "MISSED"), (0.84, "met")])
def test_optimization_introprog_auc_target(auc: float, mark: str) -> None:
    results = _met()
    results["introprog"]["learners"]["optimization"]["auc"] = auc
    checks = learner_report.checks(results)
    assert [c.mark for c in checks if c.name == "introprog optimization AUC"] == [mark]


def test_optimization_must_beat_pybkt_from_three_earlier_attempts_on() -> None:
    results = _met()
    results["introprog"]["learners"]["optimization"]["bucket_auc"][0] = 0.5  # bucket "0": not checked
    assert _marks(results, "introprog optimization > pyBKT, buckets") == ["met"]
    results["introprog"]["learners"]["optimization"]["bucket_auc"][-1] = 0.69  # "21+"
    assert _marks(results, "introprog optimization > pyBKT, buckets") == ["MISSED"]


def test_a_learner_not_run_is_reported_not_measured() -> None:
    results = _met()
    for part in ("simulated", "speed", "introprog"):
        del results[part]["learners"]["optimization"]
    missing = [c for c in learner_report.checks(results) if "optimization" in c.name]
    assert missing and all(c.met is None for c in missing)


# The combination ---------------------------------------------------------------------------------
def _with_combined(low: float, auc_bounds: list[float]) -> dict[str, Any]:
    results = _met()
    sim = results["simulated"]
    row = _sim_row([b + 0.01 for b in BOUND]) | {"best_other_diff_ci95": [[low, low + 0.04]] * len(KS)}
    sim["learners"]["combined"] = row
    sim["stress"] = {"population": "independent", **copy.deepcopy(_block(sim["learners"]))}
    sim["sensitivity"] = [{"population": "smaller quirks", **copy.deepcopy(_block(sim["learners"]))}]
    intro = results["introprog"]
    intro["learners"]["combined"] = dict(intro["learners"]["model"]) | {
        "best_other_auc_diff": sum(auc_bounds) / 2,
        "best_other_auc_diff_ci95": auc_bounds,
    }
    return results


def test_combined_checks_wait_for_a_combination() -> None:
    results = _met()
    for part in ("simulated", "introprog"):
        del results[part]["learners"][learner_report.COMBINED]
    assert learner_report.combined_checks(results) == []


def test_combined_passes_when_no_worse_than_the_best_single_learner_within_noise() -> None:
    checks = learner_report.combined_checks(_with_combined(-0.02, [-0.004, 0.002]))
    assert len(checks) == 4  # three populations and IntroProg
    assert {c.mark for c in checks} == {"met"}


def test_combined_fails_where_clearly_worse() -> None:
    results = _with_combined(-0.02, [-0.010, -0.001])
    results["simulated"]["stress"]["learners"]["combined"]["best_other_diff_ci95"][2] = [0.005, 0.03]
    marks = {c.name: c.mark for c in learner_report.combined_checks(results)}
    assert [m for n, m in marks.items() if "independent" in n] == ["MISSED"]
    assert [m for n, m in marks.items() if "families" in n] == ["met"]
    assert marks["introprog combined AUC no worse than the best single learner"] == "MISSED"


# The figures behind the checks -----------------------------------------------------------------
def test_best_other_pairs_each_k_with_the_best_other_learner() -> None:
    rng = np.random.default_rng(0)
    good, bad = rng.random((40, 3)) * 0.1, 1.0 + rng.random((40, 3))
    regrets = {"a": good + 0.5, "b": good, "c": bad}
    resamples = rng.integers(0, 40, (300, 40))
    paired = simulated._best_other("a", regrets, np.ones(40), resamples)
    assert paired["best_other"] == ["b", "b", "b"]
    for low, high in paired["best_other_diff_ci95"]:
        assert low == pytest.approx(0.5) and high == pytest.approx(0.5)  # paired: the noise cancels
    assert simulated._best_other("a", {"a": good}, np.ones(40), resamples) == {}


def test_best_other_auc_tells_a_clearly_better_learner() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    test = introprog.Attempts(
        user=np.repeat(np.arange(100), n // 100),
        correct=rng.integers(0, 2, n),
        assignment=np.zeros(n, dtype=np.int64),
        earlier=np.tile(np.arange(n // 100), 100),
        context=np.zeros((n, 1)),
    )
    sharp = np.clip(test.correct * 0.6 + rng.random(n) * 0.4, 0, 1)
    paired = introprog.best_other_auc(test, {"sharp": sharp, "noise": rng.random(n)}, n_resamples=50)
    assert paired["sharp"]["best_other_auc"] == "noise"
    assert paired["sharp"]["best_other_auc_diff_ci95"][0] > 0
    assert paired["noise"]["best_other_auc_diff_ci95"][1] < 0


def test_the_table_shows_each_learners_distance_to_the_bound() -> None:
    results = _met()
    sim = results["simulated"]
    for row in sim["learners"].values():
        row |= {"rmse": [0.1] * len(KS), "predict_ms": [0.1] * len(KS)}
    sim["setup"] |= {"n_train": 10, "n_test": 5, "n_situations": 2}
    text = "\n".join(report._simulated_text(sim))
    for name in learner_report.LEARNERS:
        assert f"  {name}: distance to the best possible" in text
    assert learner_report.bound_figure(sim) is not None


def _archetypes(memory_k5: float, model_k5: float) -> dict[str, Any]:
    learner = {"regret_ratio": [0.9, 0.8, 0.0], "neighbour_weight": {"k": [0, 5], "share": [0.0, 1.0]}}
    block = {
        "population": learner_report.ARCHETYPES,
        "learners": {
            "memory": {**learner, "regret_ratio": [0.9, 0.8, memory_k5]},
            "model": {**learner, "regret_ratio": [0.9, 0.8, model_k5]},
        },
    }
    return {"simulated": {"ks": [0, 1, 5], "sensitivity": [block]}}


def test_the_memory_learner_must_earn_its_place_where_learners_come_in_kinds() -> None:
    (met,) = learner_report.archetype_checks(_archetypes(0.60, 0.70))
    (missed,) = learner_report.archetype_checks(_archetypes(0.68, 0.70))
    (absent,) = learner_report.archetype_checks({"simulated": {"ks": [0, 1, 5], "sensitivity": []}})
    assert met.met is True and "5: 1.00" in met.measured
    assert missed.met is False and missed.measured.startswith("0.971")
    assert absent.met is None
