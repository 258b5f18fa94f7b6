"""The simulated population and the benchmark that runs on it."""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pytest

from bench.simulated import _ratio_interval, run, speed
from coach.engine.model import ModelMetaLearner
from coach.engine.simulate import (
    ARCHETYPE_SHARE,
    ARCHETYPES,
    ARCHETYPES_DESIGN,
    FAMILIES,
    FAMILY_LOADING,
    HABIT,
    N_FEATURES,
    N_STRATEGIES,
    SENSITIVITY,
    STRATEGIES,
    UTILITY,
    VARIANTS,
    archetype_habits,
    archetype_response,
    quirk_covariance,
    report_noise,
    simulate,
)


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


def test_variants_draw_the_same_learners_and_situations_but_for_what_they_change() -> None:
    variants = {v.name: v for v in SENSITIVITY}
    usual_log, usual = simulate(50, 8, seed=3)
    for name, changed in (
        ("smaller quirks", "quirks"),
        ("reliable self-reports", "profile"),
        ("even habits", "habits"),
        ("precise self-tests", None),
    ):
        log, population = simulate(50, 8, seed=3, design=variants[name])
        for part in ("traits", "ability", "quirks", "habits", "task_mix", "profile"):
            same = np.array_equal(getattr(population, part), getattr(usual, part))
            assert same == (part != changed), (name, part)
        np.testing.assert_array_equal(log.context[:, :6], usual_log.context[:, :6])
        if changed != "habits":
            np.testing.assert_array_equal(log.strategy, usual_log.strategy)
    np.testing.assert_allclose(
        simulate(50, 1, seed=3, design=variants["smaller quirks"])[1].quirks, usual.quirks / 2
    )
    precise_log, _ = simulate(50, 8, seed=3, design=variants["precise self-tests"])
    assert not np.array_equal(precise_log.outcome, usual_log.outcome)


def test_unknown_design_is_refused() -> None:
    with pytest.raises(ValueError, match="design"):
        simulate(5, 1, design="tailored")


def test_each_sensitivity_variant_changes_one_documented_assumption() -> None:
    variants = {v.name: v for v in SENSITIVITY}
    assert set(variants) == {"smaller quirks", "reliable self-reports", "even habits", "precise self-tests"}
    np.testing.assert_allclose(quirk_covariance(variants["smaller quirks"]), quirk_covariance() / 4)
    np.testing.assert_allclose(report_noise(variants["reliable self-reports"]), 0.8)
    _, population = simulate(500, 1, seed=0, design=variants["even habits"])
    np.testing.assert_allclose(population.habits, 0.1, atol=0.01)
    _, precise = simulate(1, 1, seed=0, design=variants["precise self-tests"])
    _, usual = simulate(1, 1, seed=0)
    rng = np.random.default_rng(3)
    sd = [p.draw_outcomes(np.full(20_000, 0.6), rng).std() for p in (precise, usual)]
    assert sd[0] < 0.65 * sd[1]


def test_quirks_are_correlated_within_a_family_and_match_the_documented_covariance() -> None:
    _, population = simulate(40_000, 1, seed=0)
    empirical = np.cov(population.quirks.T)
    np.testing.assert_allclose(empirical, quirk_covariance(), atol=0.004)
    corr = np.corrcoef(population.quirks.T)
    core = {family: np.flatnonzero(FAMILY_LOADING[:, j] >= 0.7) for j, family in enumerate(FAMILIES)}
    for members in core.values():
        pairs = corr[np.ix_(members, members)][np.triu_indices(len(members), 1)]
        assert pairs.min() > 0.5
    retrieval, passive = core["retrieval"], core["passive re-exposure"]
    assert corr[np.ix_(retrieval, passive)].mean() < -0.1
    sd = np.sqrt(np.diag(empirical))
    assert sd.min() > 0.23 and sd.max() < 0.31


def test_independent_quirks_are_uncorrelated() -> None:
    _, population = simulate(20_000, 1, seed=0, design="independent")
    corr = np.corrcoef(population.quirks.T)
    assert np.abs(corr[np.triu_indices(N_STRATEGIES, 1)]).max() < 0.05
    np.testing.assert_allclose(quirk_covariance("independent"), 0.09 * np.eye(N_STRATEGIES))


def test_self_reports_are_weak_signals_of_the_traits() -> None:
    _, population = simulate(40_000, 1, seed=0)
    validity = [np.corrcoef(population.profile[:, j], population.traits[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(validity, [0.5, 0.4, 0.3], atol=0.02)
    np.testing.assert_allclose(1.0 / np.sqrt(1.0 + report_noise() ** 2), [0.5, 0.4, 0.3], atol=0.01)


def test_most_learners_reread_most_but_habits_vary() -> None:
    _, population = simulate(20_000, 1, seed=0)
    top = population.habits.argmax(axis=1)
    assert abs(np.mean(top == STRATEGIES.index("rereading")) - 0.55) < 0.02
    assert np.median((population.habits >= 0.05).sum(axis=1)) >= 4
    assert np.mean(top == STRATEGIES.index("practice testing")) > 0.02


def test_bench_run_reports_every_metric_for_every_k() -> None:
    result = run(
        {"model": lambda: ModelMetaLearner(N_STRATEGIES)}, n_train=60, n_test=20, ks=(0, 2, 5), n_draws=200
    )
    assert result["ks"] == [0, 2, 5] and result["setup"]["population"] == "families"
    for block in (result, result["stress"]):
        scores = block["learners"]["model"]
        for key in ("regret", "regret_ratio", "rmse", "rmse_true", "coverage90", "predict_ms"):
            assert len(scores[key]) == 3 and all(np.isfinite(scores[key]))
        assert len(block["baseline"]["regret"]) == 3
        assert 0 <= block["reference"]["known_traits_regret_ratio"] <= 1.5
    assert result["stress"]["population"] == "independent"
    for block in (result, result["stress"]):
        bayes = block["reference"]["known_population_regret_ratio"]
        assert len(bayes) == 3 and all(0 <= r <= 1.5 for r in bayes)
    assert 0 <= result["reference"]["known_families_regret_ratio"] <= 1.5
    assert "known_families_regret_ratio" not in result["stress"]["reference"]
    assert [v["population"] for v in result["sensitivity"]] == [v.name for v in VARIANTS]
    assert 0 <= result["sensitivity"][-1]["reference"]["known_archetypes_regret_ratio"] <= 1.5
    for variant in result["sensitivity"]:
        assert len(variant["learners"]["model"]["regret_ratio"]) == 3
        assert len(variant["reference"]["known_population_regret_ratio"]) == 3
    for row, key in (
        (result["learners"]["model"], "regret_ratio"),
        (result["reference"], "known_population_regret_ratio"),
    ):
        for (low, high), ratio in zip(row[f"{key}_ci95"], row[key], strict=True):
            assert low <= ratio <= high and low < high


def test_bench_run_gives_the_same_figures_in_worker_processes() -> None:
    sizes = {"n_train": 60, "n_test": 10, "ks": (0, 2), "n_situations": 3, "n_draws": 100}
    factories = {"model": partial(ModelMetaLearner, N_STRATEGIES)}
    alone = run(factories, **sizes)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        beside = run(factories, executor=pool, **sizes)
    for a, b in [(alone, beside), *zip(alone["sensitivity"], beside["sensitivity"], strict=True)]:
        assert a["learners"]["model"]["regret_ratio"] == b["learners"]["model"]["regret_ratio"]
        assert (
            a["reference"]["known_population_regret_ratio"] == b["reference"]["known_population_regret_ratio"]
        )
    assert [v["population"] for v in beside["sensitivity"]] == [v.name for v in VARIANTS]


def test_ratio_interval_covers_the_ratio_and_narrows_with_more_learners() -> None:
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 800):
        base = rng.gamma(2.0, 0.02, n)
        regret = np.column_stack([0.5 * base + rng.gamma(2.0, 0.005, n), base])
        resamples = rng.integers(0, n, (2000, n))
        (low5, high5), (low1, high1) = _ratio_interval(regret, base, resamples)
        ratio = regret[:, 0].sum() / base.sum()
        assert low5 < ratio < high5
        assert low1 == pytest.approx(1.0) and high1 == pytest.approx(1.0)
        widths.append(high5 - low5)
    assert widths[1] < widths[0] / 2


def test_bench_speed_reports_costs() -> None:
    # Each learner is fitted in a spawned process: the factory must pickle.
    factory = partial(ModelMetaLearner, N_STRATEGIES)
    result = speed({"model": factory}, n_learners=40, n_sessions=5, n_repeats=5)
    costs = result["learners"]["model"]
    assert costs["fit_seconds"] > 0 and costs["predict_ms_median"] > 0
    # The resident memory a fit adds: none, for a fit this small, is a possible reading.
    assert 0 <= costs["fit_peak_mb"] < 100 and costs["saved_kb"] > 0


def test_bayes_reference_chooses_as_the_truth_when_the_self_report_tells_everything() -> None:
    # Exact self-reports and no quirks: the posterior sits on the reported traits,
    # and the general level cancels out of the choice, so nothing is left to learn.
    design = dataclasses.replace(
        SENSITIVITY[0], name="told", report_noise=(0.02, 0.02, 0.02), family_sd=0.0, specific_sd=1e-4
    )
    result = run(
        {"model": lambda: ModelMetaLearner(N_STRATEGIES)},
        n_train=60,
        n_test=30,
        ks=(0,),
        n_draws=2000,
        variants=(design,),
    )["sensitivity"][0]["reference"]
    assert result["known_population_regret_ratio"][0] == pytest.approx(
        result["known_traits_regret_ratio"], abs=0.05
    )


def test_archetypes_draw_the_same_base_learners_and_situations_as_families() -> None:
    usual_log, usual = simulate(300, 8, seed=3)
    log, population = simulate(300, 8, seed=3, design=ARCHETYPES_DESIGN)
    assert population.archetype is not None and usual.archetype is None
    np.testing.assert_array_equal(population.task_mix, usual.task_mix)
    np.testing.assert_allclose(population.profile - population.traits, usual.profile - usual.traits)
    # The traits are the same draws, moved by the archetype's mean.
    moved = population.traits - usual.traits
    for a in range(len(ARCHETYPES)):
        mine = population.archetype == a
        assert np.ptp(moved[mine], axis=0).max() < 1e-12
    np.testing.assert_array_equal(log.context[:, :6], usual_log.context[:, :6])


def test_archetype_quirks_match_the_documented_mixture() -> None:
    _, population = simulate(40_000, 1, seed=0, design=ARCHETYPES_DESIGN)
    shares = np.bincount(population.archetype, minlength=len(ARCHETYPES)) / 40_000
    np.testing.assert_allclose(shares, ARCHETYPE_SHARE, atol=0.01)
    np.testing.assert_allclose(np.cov(population.quirks.T), quirk_covariance(ARCHETYPES_DESIGN), atol=0.004)
    for a in range(len(ARCHETYPES)):
        mine = population.archetype == a
        np.testing.assert_allclose(population.habits[mine].mean(axis=0), archetype_habits()[a], atol=0.01)


def test_habitual_sessions_of_every_archetype_average_out_the_same() -> None:
    # The mean of a learner's first sessions says nothing of their archetype; which strategies do
    # well does.
    np.testing.assert_allclose(
        np.einsum("as,as->a", archetype_habits(), archetype_response()), 0.0, atol=1e-12
    )
    best = archetype_response().argmax(axis=1)
    assert len(set(best.tolist())) == len(ARCHETYPES)


def test_reported_profiles_tell_archetypes_apart_only_weakly() -> None:
    _, population = simulate(20_000, 1, seed=0, design=ARCHETYPES_DESIGN)
    design = np.hstack([np.ones((20_000, 1)), population.profile])
    fitted = design @ np.linalg.lstsq(design, population.quirks, rcond=None)[0]
    explained = (
        1.0
        - ((population.quirks - fitted) ** 2).sum()
        / ((population.quirks - population.quirks.mean(0)) ** 2).sum()
    )
    assert explained < 0.1
