"""OptimizationMetaLearner: contract, validation, and whether meta-learning helps."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from coach.engine import OptimizationMetaLearner, make_learner
from coach.engine._inner import Coupling, Meta, Rows, adapt, backward, outer_loss
from coach.engine.base import MetaLearner
from coach.engine.log import LogError, SessionLog
from coach.engine.optimization import _CALIBRATION_CUTS
from coach.engine.simulate import N_FEATURES, N_STRATEGIES, simulate
from coach.engine.stats import BLOCKS_FROM
from tests.engine.synthetic import first_sessions, small_log

FAST = {"n_meta_steps": 60, "batch_size": 64, "random_state": 0}


@pytest.fixture(scope="module")
def sim() -> tuple[SessionLog, OptimizationMetaLearner]:
    log, _ = simulate(300, 20, seed=1)
    return log, OptimizationMetaLearner(N_STRATEGIES, **FAST).fit(log)


# Contract -----------------------------------------------------------------------------------------
def test_registered_under_its_name() -> None:
    assert MetaLearner.classes["optimization"] is OptimizationMetaLearner
    assert isinstance(make_learner("optimization", n_strategies=3), OptimizationMetaLearner)


def test_fit_returns_self_and_sets_n_features_in(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    _, learner = sim
    assert learner.n_features_in_ == N_FEATURES
    small = small_log()
    fresh = OptimizationMetaLearner(3, **FAST)
    assert fresh.fit(small) is fresh


def test_predict_returns_fractions_and_positive_std(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    log, learner = sim
    for k in (0, 1, 10):
        mean, std = learner.predict(first_sessions(log, 3, k), log.context[:7])
        assert mean.shape == std.shape == (7, N_STRATEGIES)
        assert np.all((mean >= 0.0) & (mean <= 1.0)) and np.all(std > 0) and np.all(np.isfinite(std))


def test_constructor_stores_arguments_unchanged_and_clones() -> None:
    learner = OptimizationMetaLearner(4, n_steps=2, history_columns=[1], random_state=3)
    assert learner.get_params()["history_columns"] == [1]
    assert clone(learner).get_params() == learner.get_params()


def test_save_load_round_trip_predicts_the_same(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    log, learner = sim
    loaded = MetaLearner.from_bytes(learner.to_bytes())
    assert isinstance(loaded, OptimizationMetaLearner)
    history = first_sessions(log, 5, 6)
    for a, b in zip(
        learner.predict(history, log.context[:4]), loaded.predict(history, log.context[:4]), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_state_saved_before_the_coupled_step_predicts_with_the_diagonal_step(
    sim: tuple[SessionLog, OptimizationMetaLearner],
) -> None:
    # An install's snapshot from before the intercepts' step was coupled: no step_version. Its
    # meta-parameters were learned for the diagonal step, so it keeps taking that one.
    log, learner = sim
    data = np.load(io.BytesIO(learner.to_bytes()), allow_pickle=False)
    header = json.loads(bytes(data["__header__"]).decode())
    del header["scalars"]["step_version"]
    arrays = {key: data[key] for key in data.files}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    loaded = MetaLearner.from_bytes(buffer.getvalue())
    assert isinstance(loaded, OptimizationMetaLearner)
    assert learner._meta().coupled and not loaded._meta().coupled
    history = first_sessions(log, 5, 6)
    old, new = loaded.predict(history, log.context[:4]), learner.predict(history, log.context[:4])
    assert not np.allclose(old[0], new[0])
    # And that step is the diagonal one, written out: theta -= eta D (A g + theta - init) with
    # D = 1 / (1 + diag(A) h), on any sessions.
    meta = loaded._meta()
    rng = np.random.default_rng(3)
    n, (s_, d1) = 12, meta.init.shape
    x = np.c_[np.ones(n), rng.normal(size=(n, d1 - 1))]
    rows = Rows.make(np.zeros(n, dtype=np.int64), rng.integers(0, s_, n), x, rng.random(n), 1, s_)
    age = n - 1.0 - np.arange(n)
    w = np.exp(-meta.decay * age)
    damp = 1.0 / (1.0 + meta.diag()[None] * rows.scatter(w[:, None] * x**2).reshape(1, s_, d1) * 0.25)
    theta = meta.init[None].copy()
    for eta in meta.eta:
        p = 1.0 / (1.0 + np.exp(-rows.eta(theta)))
        g = rows.blocks(w * (p - rows.y), theta.shape)
        theta = theta - eta * damp * (meta.apply(g) + theta - meta.init)
    np.testing.assert_allclose(adapt(meta, rows, age, 1)[0], theta, atol=1e-12)


def test_same_random_state_same_fit() -> None:
    log = small_log(seed=2)
    a = OptimizationMetaLearner(3, **FAST).fit(log)
    b = OptimizationMetaLearner(3, **FAST).fit(log)
    np.testing.assert_array_equal(a.init_, b.init_)
    np.testing.assert_array_equal(a.step_intercepts_, b.step_intercepts_)


def test_history_columns_enter_as_features() -> None:
    log, _ = simulate(60, 10, seed=4)
    learner = OptimizationMetaLearner(N_STRATEGIES, history_columns=(6,), **FAST).fit(log)
    assert learner.init_.shape == (N_STRATEGIES, 1 + N_FEATURES + 1)
    mean, _ = learner.predict(first_sessions(log, 0, 4), log.context[:2])
    assert mean.shape == (2, N_STRATEGIES)


def test_untried_strategy_starts_at_the_overall_mean() -> None:
    log = small_log(n_learners=40, s=2)
    learner = OptimizationMetaLearner(3, **FAST).fit(log)
    mean, _ = learner.predict(SessionLog.empty(2), np.zeros((1, 2)))
    assert mean[0, 2] == pytest.approx(log.outcome.mean(), abs=0.02)


# Validation ---------------------------------------------------------------------------------------
def test_fit_rejects_outcomes_outside_unit_interval() -> None:
    log = small_log()
    bad = dataclasses.replace(log, outcome=log.outcome + 2.0)
    with pytest.raises(LogError, match=r"\[0, 1\]"):
        OptimizationMetaLearner(3, **FAST).fit(bad)


def test_fit_rejects_strategy_out_of_range() -> None:
    with pytest.raises(LogError, match="outside"):
        OptimizationMetaLearner(2, **FAST).fit(small_log(s=3))


def test_fit_rejects_empty_log() -> None:
    with pytest.raises(LogError, match="empty"):
        OptimizationMetaLearner(2).fit(SessionLog.empty(3))


@pytest.mark.parametrize(
    "params",
    [
        {"n_steps": 0},
        {"learning_rate": 0.0},
        {"calibration_share": 1.0},
        {"batch_size": 0},
        {"n_strategies": 1},
    ],
)
def test_fit_rejects_bad_parameters(params: dict[str, float]) -> None:
    with pytest.raises(InvalidParameterError):
        OptimizationMetaLearner(**{"n_strategies": 3, **params}).fit(small_log())


def test_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        OptimizationMetaLearner(2).predict(SessionLog.empty(0), np.zeros((1, 0)))


def test_predict_rejects_history_of_two_learners(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    log, learner = sim
    with pytest.raises(LogError, match="one learner"):
        learner.predict(log.take(slice(0, 40)), log.context[:1])


def test_predict_rejects_context_of_wrong_width(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    _, learner = sim
    with pytest.raises(LogError, match="shape"):
        learner.predict(SessionLog.empty(N_FEATURES), np.zeros((2, N_FEATURES + 1)))


# The maths ----------------------------------------------------------------------------------------
def test_meta_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    # As many strategies as take the block step, and a few sessions each: every learner leaves
    # some untouched.
    b_, s_, d1 = 3, BLOCKS_FROM, 3

    def rows(n: int) -> Rows:
        x = np.c_[np.ones(n), rng.normal(size=(n, d1 - 1))]
        return Rows.make(rng.integers(0, b_, n), rng.integers(0, s_, n), x, rng.random(n), b_, s_)

    inner, outer, age, weight = rows(20), rows(15), rng.integers(0, 5, 20).astype(float), rng.random(15)
    low = rng.normal(size=(s_, s_)) * 0.5
    meta = Meta(
        rng.normal(size=(s_, d1)),
        low @ low.T + np.eye(s_),
        rng.random((s_, d1 - 1)) + 0.2,
        rng.random(3) + 0.3,
        0.2,
    )

    def loss(m: Meta) -> float:
        return outer_loss(adapt(m, inner, age, b_)[0], outer, weight)[0]

    theta, trace = adapt(meta, inner, age, b_)
    grad = backward(meta, inner, trace, outer_loss(theta, outer, weight)[1])
    eps = 1e-6
    for field in ("init", "a_int", "a_slope", "eta"):
        value = getattr(meta, field)
        for index in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[index] += eps
            down[index] -= eps
            numeric = (
                loss(dataclasses.replace(meta, **{field: up}))
                - loss(dataclasses.replace(meta, **{field: down}))
            ) / (2 * eps)
            assert getattr(grad, field)[index] == pytest.approx(numeric, abs=1e-6), (field, index)
    numeric = (
        loss(dataclasses.replace(meta, decay=0.2 + eps)) - loss(dataclasses.replace(meta, decay=0.2 - eps))
    ) / (2 * eps)
    assert grad.decay == pytest.approx(numeric, abs=1e-6)


def test_the_step_inverted_over_touched_strategies_equals_the_dense_inverse() -> None:
    rng = np.random.default_rng(7)
    s_, b_ = 20, 6
    low = rng.normal(size=(s_, s_))
    a_int = low @ low.T / s_ + 0.1 * np.eye(s_) + 0.1 * low  # not symmetric: exact for any A
    h = np.abs(rng.normal(size=(b_, s_))) * (rng.random((b_, s_)) < 0.3)
    h[0] = 0.0  # nothing touched
    h[1] = np.abs(rng.normal(size=s_)) + 0.1  # everything touched
    h[2, :] = 0.0
    h[2, 3] = 2.0  # one strategy
    coupling = Coupling(a_int, h)
    dense = np.linalg.inv(np.eye(s_) + a_int[None] * h[:, None, :])
    q = rng.normal(size=(b_, s_))
    np.testing.assert_allclose(coupling.apply(q), np.einsum("bij,bj->bi", dense, q), atol=1e-12)
    np.testing.assert_allclose(coupling.apply_t(q), np.einsum("bji,bj->bi", dense, q), atol=1e-12)
    assert max(group[1].shape[1] for group in coupling.groups) == s_
    assert min(group[1].shape[1] for group in coupling.groups) == 1
    few = Coupling(a_int[:5, :5], h[:, :5])  # few strategies: one dense inverse
    np.testing.assert_allclose(
        few.apply(q[:, :5]),
        np.einsum("bij,bj->bi", np.linalg.inv(np.eye(5) + a_int[None, :5, :5] * h[:, None, :5]), q[:, :5]),
        atol=1e-12,
    )


def test_steps_of_length_one_reach_the_mode_however_coupled_the_strategies() -> None:
    # Each step minimises the objective's quadratic bound in the intercepts: with strongly
    # coupled intercepts too, steps of length 1 descend to where the MAP objective's gradient
    # vanishes.
    rng = np.random.default_rng(4)
    s_, d1, n = 5, 2, 40
    a_int = 4.0 * (0.9 * np.ones((s_, s_)) + 0.1 * np.eye(s_))
    x = np.c_[np.ones(n), rng.normal(size=n)]
    rows = Rows.make(np.zeros(n, dtype=np.int64), rng.integers(0, s_, n), x, rng.random(n), 1, s_)
    init = rng.normal(size=(s_, d1))
    meta = Meta(init, a_int, np.full((s_, 1), 0.5), np.ones(30), 0.0)
    theta, _ = adapt(meta, rows, np.zeros(n), 1)
    p = 1.0 / (1.0 + np.exp(-rows.eta(theta)))
    gradient = meta.apply(rows.blocks(p - rows.y, theta.shape)) + theta - init
    assert np.abs(gradient).max() < 1e-6
    diagonal, _ = adapt(dataclasses.replace(meta, coupled=False), rows, np.zeros(n), 1)
    assert np.abs(diagonal - theta).max() > 1e-3


# What it learns -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def held_out() -> SessionLog:
    log, _ = simulate(400, 20, seed=1)
    return log.take(log.learner >= 300)


def _later_loss(learner: OptimizationMetaLearner, log: SessionLog, k: int, adapted: bool) -> float:
    """Squared error of each held-out learner's sessions after the k-th, predicted from their
    first k (or, not adapted, from none)."""
    errors = []
    for who in np.unique(log.learner):
        sessions = log.for_learner(int(who))
        history = sessions.take(slice(0, k if adapted else 0))
        mean, _ = learner.predict(history, sessions.context[k:])
        rows = np.arange(len(sessions) - k)
        errors.append((mean[rows, sessions.strategy[k:]] - sessions.outcome[k:]) ** 2)
    return float(np.mean(np.concatenate(errors)))


def test_adapted_predictions_beat_the_initialisation_on_later_sessions(
    sim: tuple[SessionLog, OptimizationMetaLearner], held_out: SessionLog
) -> None:
    _, learner = sim
    adapted = _later_loss(learner, held_out, 10, adapted=True)
    initial = _later_loss(learner, held_out, 10, adapted=False)
    # 100 learners x 10 later sessions: without adaptation the two are equal; a 10% cut is far
    # beyond the noise of 1,000 squared errors
    assert adapted < 0.9 * initial


def test_more_sessions_narrow_the_std(sim: tuple[SessionLog, OptimizationMetaLearner]) -> None:
    log, learner = sim
    context = log.context[:20]

    def unknown(k: int) -> float:
        """What the std owes to the unknown learner: its square less the session noise."""
        mean, std = learner.predict(first_sessions(log, 7, k), context)
        scale = learner.interval_scale_[np.searchsorted(_CALIBRATION_CUTS, k, side="right") - 1]
        noise = scale**2 * learner.noise_ * mean * (1.0 - mean)
        return float(np.mean(std**2 - noise))

    widths = [unknown(k) for k in (0, 5, 20)]
    assert widths[0] > widths[1] > widths[2] > 0.0
    assert widths[2] < 0.5 * widths[0]


def _drifting(n_learners: int, n_sessions: int, drift: float, seed: int) -> SessionLog:
    """Learners whose offsets per strategy follow a stationary AR(1) walk from session to
    session: the larger `drift`, the less an old session says about the next one."""
    rng = np.random.default_rng(seed)
    effects = np.array([0.2, 0.0, -0.1, 0.1])
    quirks = rng.normal(0.0, 0.5, (n_learners, 4))
    strategy = rng.integers(0, 4, (n_learners, n_sessions))
    outcome = np.empty((n_learners, n_sessions))
    for t in range(n_sessions):
        quirks = quirks * np.sqrt(1.0 - drift**2) + drift * rng.normal(0.0, 0.5, quirks.shape)
        s = strategy[:, t]
        p = 1.0 / (1.0 + np.exp(-(effects[s] + quirks[np.arange(n_learners), s])))
        outcome[:, t] = rng.beta(15.0 * p, 15.0 * (1.0 - p))
    learner = np.repeat(np.arange(n_learners), n_sessions)
    return SessionLog(learner, strategy.ravel(), np.zeros((learner.size, 0)), outcome.ravel())


def test_older_sessions_weigh_less_when_learners_change() -> None:
    params = {"n_meta_steps": 300, "batch_size": 128, "random_state": 0}
    steady = OptimizationMetaLearner(4, **params).fit(_drifting(400, 30, 0.0, seed=1))
    changing = OptimizationMetaLearner(4, **params).fit(_drifting(400, 30, 0.3, seed=1))
    assert changing.decay_ > 0.05 > 0.01 > steady.decay_
