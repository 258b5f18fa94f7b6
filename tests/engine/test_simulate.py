"""The simulated population and the benchmark that runs on it."""

from __future__ import annotations

import numpy as np

from bench.simulated import run, speed
from coach.engine.model import ModelMetaLearner
from coach.engine.simulate import HABIT, N_FEATURES, N_STRATEGIES, STRATEGIES, UTILITY, simulate


def test_simulate_is_reproducible_with_seed() -> None:
    a, _ = simulate(20, 5, seed=3)
    b, _ = simulate(20, 5, seed=3)
    c, _ = simulate(20, 5, seed=4)
    np.testing.assert_array_equal(a.outcome, b.outcome)
    assert not np.array_equal(a.outcome, c.outcome)


def test_simulated_log_has_documented_shapes_and_ranges() -> None:
    log, _ = simulate(30, 7, seed=0)
    assert len(log) == 210 and log.context.shape == (210, N_FEATURES)
    assert log.strategy.min() >= 0 and log.strategy.max() < N_STRATEGIES
    assert np.all((log.outcome >= 0) & (log.outcome <= 1))
    np.testing.assert_array_equal(log.context[:, :5].sum(axis=1), 1.0)
    assert np.all(np.diff(log.learner) >= 0)


def test_catalogue_lists_ten_strategies_with_ratings() -> None:
    assert len(STRATEGIES) == len(UTILITY) == N_STRATEGIES == 10
    assert STRATEGIES[0] == "practice testing" and STRATEGIES[-1] == "rereading"


def test_behaviour_overuses_rereading() -> None:
    log, _ = simulate(300, 20, seed=0)
    share = np.bincount(log.strategy, minlength=N_STRATEGIES) / len(log)
    assert share.argmax() == STRATEGIES.index("rereading")
    assert abs(share[-1] - HABIT[-1]) < 0.03


def test_high_utility_strategies_are_best_on_average() -> None:
    _, population = simulate(500, 1, seed=0)
    ids = np.repeat(np.arange(500), 10)
    truth = population.true_mean(ids, population.draw_situations(ids, np.random.default_rng(1)))
    average = truth.mean(axis=0)
    high = [i for i, u in enumerate(UTILITY) if u == "high"]
    low = [i for i, u in enumerate(UTILITY) if u == "low"]
    assert average[high].min() > average[low].max()


def test_evidence_is_wrong_for_a_fair_share_of_situations() -> None:
    _, population = simulate(500, 1, seed=0)
    ids = np.repeat(np.arange(500), 10)
    truth = population.true_mean(ids, population.draw_situations(ids, np.random.default_rng(2)))
    best_is_high_utility = np.isin(truth.argmax(axis=1), [0, 1])
    assert 0.2 < 1.0 - best_is_high_utility.mean() < 0.8


def test_realised_outcomes_average_to_true_mean() -> None:
    _, population = simulate(1, 1, seed=0)
    rng = np.random.default_rng(3)
    draws = population.draw_outcomes(np.full(20_000, 0.7), rng)
    assert abs(draws.mean() - 0.7) < 0.005
    assert 0.08 < draws.std() < 0.16


def test_bench_run_reports_every_metric_for_every_k() -> None:
    result = run({"model": lambda: ModelMetaLearner(N_STRATEGIES)}, n_train=60, n_test=20, ks=(0, 2, 5))
    assert result["ks"] == [0, 2, 5]
    scores = result["learners"]["model"]
    for key in ("regret", "regret_ratio", "rmse", "rmse_true", "coverage90", "predict_ms"):
        assert len(scores[key]) == 3 and all(np.isfinite(scores[key]))
    assert len(result["baseline"]["regret"]) == 3
    assert 0 <= result["reference"]["known_traits_regret_ratio"] <= 1.5


def test_bench_speed_reports_costs() -> None:
    result = speed(
        {"model": lambda: ModelMetaLearner(N_STRATEGIES)}, n_learners=40, n_sessions=5, n_repeats=5
    )
    costs = result["learners"]["model"]
    assert costs["fit_seconds"] > 0 and costs["predict_ms_median"] > 0
    assert costs["fit_peak_mb"] > 0 and costs["saved_kb"] > 0
