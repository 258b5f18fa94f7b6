"""CombinedMetaLearner: contract, validation, the weights and the interval it learns."""

from __future__ import annotations

import dataclasses
from itertools import product

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from coach.engine import CombinedMetaLearner, MemoryMetaLearner, ModelMetaLearner, make_learner
from coach.engine.base import MetaLearner, SnapshotError
from coach.engine.combined import (
    BUCKETS,
    INVERSE_VARIANCE,
    SINGLE,
    STACKING,
    HeldOutPredictions,
    fit_bucket,
    mixture,
    simplex_least_squares,
)
from coach.engine.log import LogError, SessionLog
from coach.engine.simulate import N_FEATURES, N_STRATEGIES, simulate
from tests.engine.synthetic import first_sessions, small_log

FAST = {"optimization": {"n_meta_steps": 60, "batch_size": 64}}


@pytest.fixture(scope="module")
def sim() -> tuple[SessionLog, CombinedMetaLearner]:
    log, _ = simulate(300, 20, seed=1)
    return log, CombinedMetaLearner(N_STRATEGIES, learner_params=FAST, random_state=0).fit(log)


# Contract -----------------------------------------------------------------------------------------
def test_registered_under_its_name() -> None:
    assert MetaLearner.classes["combined"] is CombinedMetaLearner
    assert isinstance(make_learner("combined", n_strategies=3), CombinedMetaLearner)


def test_fit_returns_self_and_fits_every_base(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    _, learner = sim
    assert learner.n_features_in_ == N_FEATURES
    assert list(learner.learners_) == ["model", "memory", "optimization"]
    assert all(base.n_features_in_ == N_FEATURES for base in learner.learners_.values())
    fresh = CombinedMetaLearner(3, learner_params=FAST, random_state=0)
    assert fresh.fit(small_log()) is fresh


def test_predict_returns_fractions_and_positive_std(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, learner = sim
    for k in (0, 1, 4, 12):
        mean, std = learner.predict(first_sessions(log, 3, k), log.context[:7])
        assert mean.shape == std.shape == (7, N_STRATEGIES)
        assert np.all((mean >= 0.0) & (mean <= 1.0)) and np.all(std > 0) and np.all(np.isfinite(std))


def test_constructor_stores_arguments_unchanged_and_clones() -> None:
    learner = CombinedMetaLearner(4, learners=["model", "memory"], history_columns=[1], random_state=3)
    assert learner.get_params()["learners"] == ["model", "memory"]
    assert clone(learner).get_params() == learner.get_params()


def test_shared_parameters_reach_the_bases_that_take_them() -> None:
    learner = CombinedMetaLearner(
        3, history_columns=(1,), random_state=5, learner_params={"memory": {"n_neighbors": 7}, **FAST}
    ).fit(small_log())
    model, memory, optimization = learner.learners_.values()
    assert model.history_columns == memory.history_columns == optimization.history_columns == (1,)
    assert memory.random_state == optimization.random_state == 5
    assert memory.n_neighbors == 7 and optimization.n_meta_steps == 60


def test_save_load_round_trip_predicts_the_same(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, learner = sim
    loaded = MetaLearner.from_bytes(learner.to_bytes())
    assert isinstance(loaded, CombinedMetaLearner)
    np.testing.assert_array_equal(loaded.weights_, learner.weights_)
    assert loaded.method_ == learner.method_
    for k in (0, 6, 15):
        history = first_sessions(log, 5, k)
        for a, b in zip(
            learner.predict(history, log.context[:4]), loaded.predict(history, log.context[:4]), strict=True
        ):
            np.testing.assert_array_equal(a, b)


def test_load_refuses_a_base_of_another_kind(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    _, learner = sim
    state = learner._get_state()
    state["base_memory"] = state["base_model"]
    copy = CombinedMetaLearner(N_STRATEGIES)
    with pytest.raises(SnapshotError, match="holds a 'model' learner"):
        copy._set_state(state)


def test_same_random_state_same_weights() -> None:
    log = small_log(seed=2)
    a = CombinedMetaLearner(3, learner_params=FAST, random_state=1).fit(log)
    b = CombinedMetaLearner(3, learner_params=FAST, random_state=1).fit(log)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.interval_scale_, b.interval_scale_)


def test_fit_over_given_bases_is_the_same_combination(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, fitted = sim
    bases = {name: clone(base).fit(log) for name, base in fitted.learners_.items()}
    again = CombinedMetaLearner(N_STRATEGIES, learner_params=FAST, random_state=0).fit(log, bases=bases)
    np.testing.assert_array_equal(again.weights_, fitted.weights_)
    np.testing.assert_array_equal(again.interval_scale_, fitted.interval_scale_)
    assert all(again.learners_[name] is base for name, base in bases.items())
    history = first_sessions(log, 5, 6)
    context = log.context[:4]
    for a, b in zip(again.predict(history, context), fitted.predict(history, context), strict=True):
        np.testing.assert_allclose(a, b)


def test_fit_refuses_bases_it_would_not_have_fitted(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, fitted = sim
    bases = dict(fitted.learners_)
    combined = CombinedMetaLearner(N_STRATEGIES, learner_params=FAST, random_state=0)
    with pytest.raises(InvalidParameterError, match="bases must be"):
        combined.fit(log, bases={"model": bases["model"]})
    with pytest.raises(InvalidParameterError, match="fitted 'memory'"):
        combined.fit(log, bases={**bases, "memory": bases["model"]})
    with pytest.raises(NotFittedError):
        combined.fit(log, bases={**bases, "memory": MemoryMetaLearner(N_STRATEGIES)})
    with pytest.raises(InvalidParameterError, match="other parameters"):
        combined.fit(log, bases={**bases, "model": ModelMetaLearner(N_STRATEGIES, alpha=3.0).fit(log)})


# The weights --------------------------------------------------------------------------------------
def test_weights_are_non_negative_and_sum_to_one(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    _, learner = sim
    assert learner.weights_.shape == (len(BUCKETS), 3)
    assert np.all(learner.weights_ >= 0.0)
    np.testing.assert_allclose(learner.weights_.sum(axis=1), 1.0)


def test_simplex_least_squares_finds_the_best_weights_on_a_grid() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(300)
    x = np.c_[y + rng.normal(0, 0.1, 300), y + rng.normal(0, 0.2, 300), 1.0 - y + rng.normal(0, 0.1, 300)]
    w = simplex_least_squares(x, y)
    assert np.all(w >= 0.0) and w.sum() == pytest.approx(1.0)
    grid = [np.array([a, b, 1 - a - b]) / 100 for a, b in product(range(101), repeat=2) if a + b <= 100]
    assert np.sum((x @ w - y) ** 2) <= min(np.sum((x @ g * 100 - y) ** 2) for g in grid) + 1e-9
    exact = simplex_least_squares(np.c_[x[:, 1], y, x[:, 2]], y)
    np.testing.assert_allclose(exact, [0.0, 1.0, 0.0], atol=1e-9)


@pytest.mark.parametrize("objective", ["within_learner", "outcome"])
def test_a_clearly_better_base_gets_most_of_the_weight(objective: str) -> None:
    log, _ = simulate(250, 15, seed=3)
    train, held = log.take(log.learner < 200), log.take(log.learner >= 200)
    # The memory learner fitted with the strategies' labels reversed: as sure of itself as the
    # model learner, and wrong about which strategy does what.
    mislabelled = dataclasses.replace(train, strategy=N_STRATEGIES - 1 - train.strategy)
    weigh = {
        "model": ModelMetaLearner(N_STRATEGIES).fit(train),
        "memory": MemoryMetaLearner(N_STRATEGIES, random_state=0).fit(mislabelled),
    }
    combined = CombinedMetaLearner.from_fitted(weigh, held, weigh, objective=objective)
    assert np.all(combined.weights_[:, 0] > 0.8)
    # Inverse variance cannot tell which base is wrong: the weights learned from outcomes are used.
    assert INVERSE_VARIANCE not in combined.method_


def _rows(mean: np.ndarray, outcome: np.ndarray, cut: np.ndarray) -> HeldOutPredictions:
    n = outcome.size
    return HeldOutPredictions(mean, np.full(mean.shape, 0.1), outcome, np.zeros(n, int), cut, cut)


def test_a_base_that_adds_only_noise_leaves_the_better_one_alone() -> None:
    rng = np.random.default_rng(1)
    cut = np.repeat(np.arange(300), 10)
    outcome = rng.normal(0.5, 0.1, cut.size)
    better = outcome + rng.normal(0.0, 0.05, cut.size)
    rows = _rows(np.c_[better + rng.normal(0.0, 0.05, cut.size), better], outcome, cut)
    fit = fit_bucket(rows, cut % 5, "within_learner")
    assert fit.method == SINGLE
    np.testing.assert_array_equal(fit.weights, [0.0, 1.0])


def test_stacking_is_used_where_it_clearly_beats_the_others() -> None:
    rng = np.random.default_rng(2)
    cut = np.repeat(np.arange(300), 10)
    outcome = rng.normal(0.5, 0.1, cut.size)
    # Equally good bases with independent errors, one of them far too sure of itself: their
    # average halves the error, inverse variance follows the over-sure one, either alone is worse.
    mean = outcome[:, None] + rng.normal(0.0, 0.05, (cut.size, 2))
    rows = _rows(mean, outcome, cut)._replace(std=np.tile([0.02, 0.2], (cut.size, 1)))
    fit = fit_bucket(rows, cut % 5, "within_learner")
    assert fit.method == STACKING
    np.testing.assert_allclose(fit.weights, [0.5, 0.5], atol=0.05)
    assert fit.cv_mse[0] < 0.7 * fit.cv_mse[1:].min()


def test_within_learner_objective_ignores_what_is_wrong_with_the_level_only() -> None:
    rng = np.random.default_rng(0)
    cut = np.repeat(np.arange(200), 10)
    outcome = rng.normal(0.5, 0.1, cut.size)
    # One base has each learner's level wrong and the differences right; the other the reverse,
    # with a smaller error in all.
    level_wrong = outcome + rng.normal(0.0, 0.1, 200)[cut]
    differences_wrong = outcome + rng.normal(0.0, 0.05, cut.size)
    rows = _rows(np.c_[level_wrong, differences_wrong], outcome, cut)
    fold = cut % 5
    assert fit_bucket(rows, fold, "within_learner").weights[0] > 0.9
    assert fit_bucket(rows, fold, "outcome").weights[0] < 0.5


def test_from_fitted_combines_the_final_learners(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, fitted = sim
    held = log.take(log.learner >= 250)
    weigh = {"model": fitted.learners_["model"], "memory": fitted.learners_["memory"]}
    final = {"model": ModelMetaLearner(N_STRATEGIES).fit(log), "memory": fitted.learners_["memory"]}
    combined = CombinedMetaLearner.from_fitted(weigh, held, final)
    assert combined.learners_["model"] is final["model"]
    assert combined.get_params()["learners"] == ("model", "memory")
    history, context = first_sessions(log, 7, 4), log.context[:3]
    bucket = int(np.searchsorted(BUCKETS, 4, side="right")) - 1
    parts = [base.predict(history, context) for base in final.values()]
    mean = np.stack([p[0] for p in parts], axis=-1)
    std = np.stack([p[1] for p in parts], axis=-1)
    weights = np.broadcast_to(combined.weights_[bucket], mean.shape)
    if combined.method_[bucket] == INVERSE_VARIANCE:
        weights = (1 / std**2) / (1 / std**2).sum(axis=-1, keepdims=True)
    expected_mean, spread = mixture(weights, mean, std)
    got_mean, got_std = combined.predict(history, context)
    np.testing.assert_allclose(got_mean, expected_mean)
    np.testing.assert_allclose(got_std, combined.interval_scale_[bucket] * spread)
    loaded = MetaLearner.from_bytes(combined.to_bytes())
    np.testing.assert_array_equal(loaded.predict(history, context)[0], got_mean)


# The interval -------------------------------------------------------------------------------------
def test_std_covers_about_90_percent_of_held_out_outcomes() -> None:
    log, _ = simulate(400, 15, seed=8)
    learner = CombinedMetaLearner(N_STRATEGIES, learner_params=FAST, random_state=0)
    learner.fit(log.take(log.learner < 300))
    inside = []
    for who in range(300, 400):
        own = log.for_learner(who)
        for k in (0, 2, 5):
            mean, std = learner.predict(own.take(slice(0, k)), own.context[k:])
            rows = np.arange(len(own) - k)
            error = own.outcome[k:] - mean[rows, own.strategy[k:]]
            inside.append(np.abs(error) <= 1.645 * std[rows, own.strategy[k:]])
    assert 0.85 <= np.mean(np.concatenate(inside)) <= 0.95


# Validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"learners": ("model",)}, "two or more"),
        ({"learners": ("model", "model")}, "distinct"),
        ({"learners": ("model", "nearest")}, "distinct names"),
        ({"learners": ("model", "combined")}, "distinct names"),
        ({"learner_params": {"memory": {"depth": 3}}, "learners": ("model", "memory")}, "no parameter"),
        ({"learner_params": {"optimization": {}}, "learners": ("model", "memory")}, "map names"),
        ({"learner_params": {"model": {"n_strategies": 4}}}, "n_strategies"),
        ({"calibration_share": 1.0}, "calibration_share"),
        ({"objective": "regret"}, "objective"),
        ({"n_calibration": 0}, "n_calibration"),
        ({"n_strategies": 1}, "n_strategies"),
    ],
)
def test_fit_rejects_bad_parameters(params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        CombinedMetaLearner(**{"n_strategies": 3, **params}).fit(small_log())  # type: ignore[arg-type]


def test_fit_needs_two_learners() -> None:
    with pytest.raises(LogError, match="at least two learners"):
        CombinedMetaLearner(3).fit(small_log(n_learners=1))


def test_fit_rejects_outcomes_the_optimization_base_cannot_take() -> None:
    log = small_log()
    with pytest.raises(LogError, match=r"\[0, 1\]"):
        CombinedMetaLearner(3, learner_params=FAST).fit(dataclasses.replace(log, outcome=log.outcome * 10))


def test_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        CombinedMetaLearner(2).predict(SessionLog.empty(0), np.zeros((1, 0)))


def test_predict_rejects_history_of_two_learners(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, learner = sim
    with pytest.raises(LogError, match="one learner"):
        learner.predict(log.take(slice(0, 40)), log.context[:1])


def test_from_fitted_refuses_mismatched_or_unfitted_learners(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    log, fitted = sim
    model, memory = fitted.learners_["model"], fitted.learners_["memory"]
    with pytest.raises(InvalidParameterError, match="same learners"):
        CombinedMetaLearner.from_fitted({"model": model, "memory": memory}, log, {"model": model})
    with pytest.raises(InvalidParameterError, match="fitted 'memory'"):
        wrong = {"model": model, "memory": model}
        CombinedMetaLearner.from_fitted(wrong, log, wrong)
    with pytest.raises(NotFittedError):
        unfitted = {"model": model, "memory": MemoryMetaLearner(N_STRATEGIES)}
        CombinedMetaLearner.from_fitted(unfitted, log, unfitted)
    other = {"model": ModelMetaLearner(3).fit(small_log()), "memory": memory}
    with pytest.raises(InvalidParameterError, match="differ in strategies"):
        CombinedMetaLearner.from_fitted(other, log, other)


# The combination saved apart from its bases -------------------------------------------------------
def test_a_combination_saved_before_the_single_base_candidate_loads_and_predicts_the_same(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    log, learner = sim
    # Saved then: two errors per bucket (stacking, inverse variance) and those two methods only.
    state = learner._combination_state()
    old = {**state, "cv_mse": state["cv_mse"][:, :2], "method": [STACKING, INVERSE_VARIANCE] * 2 + [STACKING]}
    old["weights"] = np.tile([0.5, 0.3, 0.2], (len(BUCKETS), 1))
    loaded = CombinedMetaLearner.from_combination_bytes(
        learner._archive({**old, "bases": "apart"}), learner.learners_
    )
    assert loaded.method_ == old["method"] and loaded.cv_mse_.shape == (len(BUCKETS), 2)
    history = first_sessions(log, 9, 1)
    parts = [base.predict(history, log.context[:4]) for base in learner.learners_.values()]
    std = np.stack([p[1] for p in parts], axis=-1)
    expected, _ = mixture(
        (1 / std**2) / (1 / std**2).sum(axis=-1, keepdims=True), np.stack([p[0] for p in parts], -1), std
    )
    np.testing.assert_allclose(loaded.predict(history, log.context[:4])[0], expected)


def test_combination_saved_without_its_bases_predicts_the_same(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    log, learner = sim
    data = learner.combination_to_bytes()
    bases = {name: MetaLearner.from_bytes(base.to_bytes()) for name, base in learner.learners_.items()}
    assert len(data) * 20 < len(learner.learners_["memory"].to_bytes())
    loaded = CombinedMetaLearner.from_combination_bytes(data, bases)
    assert all(loaded.learners_[name] is bases[name] for name in bases)
    assert list(loaded.learners_) == list(learner.learners_)
    for k in (0, 2, 7, 15):
        history = first_sessions(log, 9, k)
        for a, b in zip(
            learner.predict(history, log.context[:4]), loaded.predict(history, log.context[:4]), strict=True
        ):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_combination_without_bases_is_refused_where_a_whole_learner_is_expected(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    _, learner = sim
    with pytest.raises(SnapshotError, match="without its bases"):
        MetaLearner.from_bytes(learner.combination_to_bytes())
    with pytest.raises(SnapshotError, match="not a combination saved without its bases"):
        CombinedMetaLearner.from_combination_bytes(learner.to_bytes(), learner.learners_)
    with pytest.raises(SnapshotError, match="not a 'combined' one"):
        CombinedMetaLearner.from_combination_bytes(learner.learners_["model"].to_bytes(), learner.learners_)


def test_combination_refuses_bases_it_was_not_fitted_with(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    _, learner = sim
    data, bases = learner.combination_to_bytes(), dict(learner.learners_)
    with pytest.raises(SnapshotError, match="weighs"):
        CombinedMetaLearner.from_combination_bytes(data, {"model": bases["model"], "memory": bases["memory"]})
    with pytest.raises(SnapshotError, match="must be a fitted 'memory'"):
        CombinedMetaLearner.from_combination_bytes(data, {**bases, "memory": bases["model"]})
    other = ModelMetaLearner(3).fit(small_log())
    with pytest.raises(SnapshotError, match="strategies or features"):
        CombinedMetaLearner.from_combination_bytes(data, {**bases, "model": other})


def test_shares_are_the_weights_predict_uses(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, learner = sim
    for k in (0, 1, 4, 8, 15):
        history, context = first_sessions(log, 11, k), log.context[:3]
        shares = learner.shares(history, context)
        weights = np.stack(list(shares.values()), axis=-1)
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
        parts = [base.predict(history, context) for base in learner.learners_.values()]
        mean = np.stack([p[0] for p in parts], axis=-1)
        np.testing.assert_allclose(np.sum(weights * mean, axis=-1), learner.predict(history, context)[0])


def test_cross_fit_halves_split_the_held_out_learners(sim: tuple[SessionLog, CombinedMetaLearner]) -> None:
    log, fitted = sim
    held = log.take(log.learner >= 200)
    combined = CombinedMetaLearner.from_fitted(fitted.learners_, held, fitted.learners_, cross_fit=True)
    halves = combined.cross_fit_learners_
    assert sorted(np.concatenate(halves).tolist()) == sorted(np.unique(held.learner).tolist())
    assert abs(halves[0].size - halves[1].size) <= 1
    # Each half's combination is fitted on the other half alone: its weights or its interval
    # (which the sessions fix however few weights are fitted) differ from all the learners'.
    assert len(combined.cross_fit_) == 2 and all(len(fits) == len(BUCKETS) for fits in combined.cross_fit_)
    assert all(
        not np.allclose(fits[b].weights, combined.weights_[b]) or fits[b].scale != combined.interval_scale_[b]
        for fits in combined.cross_fit_
        for b in range(3)
    )
    history, context = first_sessions(log, 230, 3), log.context[:2]
    parts = [base.predict(history, context) for base in combined.learners_.values()]
    np.testing.assert_allclose(combined.combine(3, parts)[0], combined.predict(history, context)[0])
    mean, std = combined.combine(3, parts, combined.cross_fit_[0])
    assert mean.shape == std.shape == (2, N_STRATEGIES) and np.all(std > 0)
    plain = CombinedMetaLearner.from_fitted(fitted.learners_, held, fitted.learners_)
    assert not hasattr(plain, "cross_fit_")


def test_rebased_keeps_the_weights_over_other_fitted_bases(
    sim: tuple[SessionLog, CombinedMetaLearner],
) -> None:
    log, fitted = sim
    refit = {
        "model": ModelMetaLearner(N_STRATEGIES).fit(log.take(log.learner < 150)),
        "memory": fitted.learners_["memory"],
    }
    two = CombinedMetaLearner.from_fitted(
        {"model": fitted.learners_["model"], "memory": fitted.learners_["memory"]},
        log.take(log.learner >= 250),
        refit,
    )
    rebased = two.rebased({"model": fitted.learners_["model"], "memory": fitted.learners_["memory"]})
    np.testing.assert_array_equal(rebased.weights_, two.weights_)
    assert rebased.learners_["model"] is fitted.learners_["model"]
    history, context = first_sessions(log, 3, 4), log.context[:2]
    parts = [fitted.learners_[name].predict(history, context) for name in ("model", "memory")]
    np.testing.assert_allclose(rebased.predict(history, context)[0], two.combine(4, parts)[0])
    with pytest.raises(SnapshotError, match="weighs"):
        two.rebased({"model": fitted.learners_["model"]})
