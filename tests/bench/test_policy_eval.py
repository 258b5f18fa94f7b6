"""The off-policy evaluation part of the bench on tiny sizes: what it logs, how it scores the
estimators, and how the report marks its targets. Its figures are not asserted here."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from bench import policy_eval, policy_eval_report, report
from coach.engine import ModelMetaLearner, SessionLog
from coach.engine.simulate import STRATEGIES, make_population


@pytest.fixture(scope="module")
def quick() -> dict[str, Any]:
    return policy_eval.run(seed=1, **policy_eval.sizes(quick=True))


@pytest.fixture(scope="module")
def logged() -> tuple[policy_eval.Logged, ModelMetaLearner, Any]:
    rng = np.random.default_rng(5)
    population = make_population(60, rng)
    model = ModelMetaLearner(len(STRATEGIES)).fit(population.sessions(np.arange(50), 8, rng))
    ids = np.arange(50, 60)
    return policy_eval.log_sessions(model, population, ids, 4, rng), model, population


def test_the_published_ranking_puts_practice_testing_first() -> None:
    assert STRATEGIES[policy_eval.published_first()] == "practice testing"


def test_the_logged_propensity_is_the_mixture_of_suggestion_and_habit(logged: Any) -> None:
    found, _, population = logged
    log = found.log
    rows = np.arange(len(log))
    habit = population.habits[log.group, log.action]
    suggested = found.target["thompson"][rows, log.action]
    expected = policy_eval.FOLLOW * suggested + (1 - policy_eval.FOLLOW) * habit
    np.testing.assert_allclose(log.propensity, expected)
    np.testing.assert_allclose(found.target["thompson"].sum(axis=1), 1.0)


def test_predictions_use_the_learners_own_sessions_so_far(logged: Any) -> None:
    found, model, _ = logged
    log, first = found.log, 2 * 4  # the third learner's rows: 8..11
    for i in range(first, first + 4):
        history = SessionLog(
            learner=log.group[first:i],
            strategy=log.action[first:i],
            context=found.context[first:i],
            outcome=log.reward[first:i],
        )
        mean, _ = model.predict(history, found.context[i : i + 1])
        np.testing.assert_allclose(found.reward_hat[i], mean[0])
        np.testing.assert_array_equal(found.target["greedy"][i], np.eye(len(STRATEGIES))[mean[0].argmax()])


def test_true_values_average_the_simulators_expected_scores_under_each_target(logged: Any) -> None:
    found, _, _ = logged
    assert set(found.truth) == set(policy_eval.TARGETS)
    assert all(0.0 < v < 1.0 for v in found.truth.values())


def test_scores_against_the_truth_of_the_other_replications() -> None:
    """Four replications laid out by hand: each is judged against the mean truth of the others."""
    n_targets, n_estimators = len(policy_eval.TARGETS), len(policy_eval.ESTIMATORS)
    truths = np.tile(np.array([[0.5], [0.6], [0.7], [0.8]]), (1, n_targets))  # loo: .7, .667, .633, .6
    values = np.zeros((4, n_targets, n_estimators, 4))
    values[..., 0] = 0.65
    values[..., 1] = 0.62  # low
    values[..., 2] = 0.68  # high
    values[..., 3] = 40.0
    values[3, 0, 1] = np.nan  # snips undefined on the last log for the first target
    out = policy_eval.summarise(values, truths)
    ips = out["targets"]["greedy"]["estimators"]["ips"]
    assert ips["coverage"] == pytest.approx(0.5)  # .667 and .633 lie in [.62, .68]
    assert ips["bias"] == pytest.approx(0.65 - 0.65)
    assert ips["undefined"] == 0
    snips = out["targets"]["greedy"]["estimators"]["snips"]
    assert snips["undefined"] == 1 and snips["coverage"] == pytest.approx(0.5)
    assert out["truth"]["greedy"]["value"] == pytest.approx(0.65)
    assert out["targets"]["greedy"]["ess"] == pytest.approx(40.0)


def test_wilson_interval() -> None:
    low, high = policy_eval.wilson(95, 100)
    assert (low, high) == pytest.approx((0.888, 0.978), abs=1e-3)


def test_quick_run_reports_every_estimator_on_every_target(quick: dict[str, Any]) -> None:
    assert set(quick["targets"]) == set(policy_eval.TARGETS)
    for block in quick["targets"].values():
        assert set(block["estimators"]) == set(policy_eval.ESTIMATORS)
        for row in block["estimators"].values():
            low, high = row["coverage_ci95"]
            assert 0.0 <= low <= row["coverage"] <= high <= 1.0
    assert quick["setup"]["n_replications"] == policy_eval.QUICK["n_replications"]
    assert quick["seconds"] > 0 and quick["cpu_seconds"] > 0


def test_the_report_shows_each_figure_beside_its_target(quick: dict[str, Any]) -> None:
    text = "\n".join(policy_eval_report.text(quick))
    assert "Off-policy evaluation" in text and "dm (reference)" in text
    names = [c.name for c in policy_eval_report.checks(quick, quick=True)]
    assert names == [
        *(
            f"OPE {m}: coverage of its 95% interval (greedy, thompson, ranking)"
            for m in ("ips", "snips", "dr", "switch-dr")
        ),
        "OPE: DR RMSE <= SNIPS RMSE (greedy, thompson, ranking)",
    ]
    assert len(policy_eval_report.figures(quick)) == 2


def _with(part: dict[str, Any], coverage: float, dr_rmse: float, seconds: float) -> dict[str, Any]:
    changed = copy.deepcopy(part)
    for block in changed["targets"].values():
        for row in block["estimators"].values():
            row["coverage"] = coverage
    for pair in changed["dr_vs_snips"].values():
        pair["dr_rmse"], pair["snips_rmse"] = dr_rmse, 0.02
    changed["cpu_seconds"] = seconds
    return changed


@pytest.mark.parametrize(
    ("coverage", "dr_rmse", "seconds", "marks"),
    [
        (0.95, 0.01, 60.0, ["met"] * 6),
        (0.88, 0.01, 60.0, ["MISSED"] * 4 + ["met", "met"]),
        (0.99, 0.03, 120.0, ["MISSED"] * 6),
    ],
)
def test_targets_are_marked_met_or_missed(
    quick: dict[str, Any], coverage: float, dr_rmse: float, seconds: float, marks: list[str]
) -> None:
    found = policy_eval_report.checks(_with(quick, coverage, dr_rmse, seconds))
    assert [c.mark for c in found] == marks


def test_a_part_that_failed_is_not_measured() -> None:
    found = policy_eval_report.checks({"error": "ValueError: x"})
    assert [(c.measured, c.met) for c in found] == [("ValueError: x", None)]
    assert policy_eval_report.figures(None) == []
    assert isinstance(found[0], report.Check)


def test_runs_as_a_module() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "bench.policy_eval", "--help"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
