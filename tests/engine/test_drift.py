"""The model learner's drift: offsets that wander between sessions, filtered and meta-learned."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from coach.engine import _drift
from coach.engine.base import MetaLearner
from coach.engine.log import SessionLog
from coach.engine.model import ModelMetaLearner


def _wandering(
    n_learners: int, n_sessions: int, step_sd: float, seed: int, binary: bool = False
) -> SessionLog:
    """Three strategies; each learner's offsets start at N(0, 0.2^2) and take a random-walk step
    of `step_sd` per strategy after every session (none at 0: a stationary population)."""
    rng = np.random.default_rng(seed)
    start = rng.normal(0.0, 0.2, (n_learners, 1, 3))
    walk = np.cumsum(rng.normal(0.0, step_sd, (n_learners, n_sessions, 3)), axis=1)
    offsets = (start + walk).reshape(-1, 3)
    learner = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, 3, learner.size)
    effect = np.array([0.4, 0.5, 0.6])[strategy] + offsets[np.arange(learner.size), strategy]
    if binary:
        outcome = (rng.random(learner.size) < 1.0 / (1.0 + np.exp(-4.0 * (effect - 0.5)))) * 1.0
    else:
        outcome = effect + rng.normal(0.0, 0.1, learner.size)
    return SessionLog(learner, strategy, np.zeros((learner.size, 0)), outcome)


def _late_log_likelihood(learner: ModelMetaLearner, test: SessionLog, first: int) -> float:
    """Mean log likelihood of sessions `first` onwards of each test learner, each predicted from
    the learner's earlier sessions."""
    total, count = 0.0, 0
    for i in np.unique(test.learner):
        sessions = test.for_learner(i)
        for t in range(first, len(sessions)):
            mean, std = learner.predict(sessions.take(slice(0, t)), np.zeros((1, 0)))
            k, y = sessions.strategy[t], sessions.outcome[t]
            if learner.binary_:
                p = float(np.clip(mean[0, k], 1e-9, 1 - 1e-9))
                total += y * np.log(p) + (1 - y) * np.log(1 - p)
            else:
                total += -0.5 * np.log(2 * np.pi * std[0, k] ** 2) - 0.5 * ((y - mean[0, k]) / std[0, k]) ** 2
            count += 1
    return total / count


@pytest.fixture(scope="module")
def drifting() -> tuple[ModelMetaLearner, ModelMetaLearner, SessionLog]:
    log = _wandering(400, 40, step_sd=0.05, seed=1)
    return (
        ModelMetaLearner(3, link="identity").fit(log),
        ModelMetaLearner(3, link="identity", drift=0.0).fit(log),
        _wandering(60, 40, step_sd=0.05, seed=2),
    )


def _same_predictions(a: ModelMetaLearner, b: ModelMetaLearner, history: SessionLog, rows: int) -> None:
    """Both learners predict exactly alike for `history`, in `rows` situations without context."""
    for got, want in zip(
        a.predict(history, np.zeros((rows, 0))), b.predict(history, np.zeros((rows, 0))), strict=True
    ):
        np.testing.assert_array_equal(got, want)


def test_drift_is_learned_where_learners_wander_and_predicts_later_sessions_better(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    learned, static, test = drifting
    assert learned.drift_ > 0.0
    assert learned.drift_scores_.argmax() > 0
    assert _late_log_likelihood(learned, test, 20) > _late_log_likelihood(static, test, 20) + 0.02


def test_drift_is_learned_for_binary_outcomes_that_wander() -> None:
    log = _wandering(600, 40, step_sd=0.08, seed=3, binary=True)
    learned = ModelMetaLearner(3).fit(log)
    static = ModelMetaLearner(3, drift=0.0).fit(log)
    assert learned.link_ == "logit" and learned.drift_ > 0.0
    test = _wandering(80, 40, step_sd=0.08, seed=4, binary=True)
    assert _late_log_likelihood(learned, test, 20) > _late_log_likelihood(static, test, 20)


def test_stationary_learners_keep_the_static_posterior() -> None:
    log = _wandering(400, 20, step_sd=0.0, seed=5)
    learned = ModelMetaLearner(3, link="identity").fit(log)
    static = ModelMetaLearner(3, link="identity", drift=0.0).fit(log)
    assert learned.drift_ == 0.0
    history = log.for_learner(3)
    _same_predictions(learned, static, history, rows=2)


def test_filter_without_drift_is_the_static_posterior(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    # The held-out scores at q = 0 are those of the static posterior, session by session.
    _, static, test = drifting
    sessions = test.take(test.learner < 3)
    fixed = static._fixed(sessions.learner, sessions.strategy, sessions.context)
    mean, var = _drift.one_step(
        static.re_cov_,
        np.array([0.0]),
        sessions.learner,
        sessions.strategy,
        fixed,
        sessions.outcome,
        static._noise(),
    )
    for row in range(len(sessions)):
        learner = sessions.learner[row]
        earlier = sessions.take((sessions.learner == learner) & (np.arange(len(sessions)) < row))
        theta, theta_var = static.posterior(earlier)
        k = sessions.strategy[row]
        np.testing.assert_allclose(mean[0, row], fixed[row] + theta[k], atol=1e-12)
        np.testing.assert_allclose(var[0, row], theta_var[k], atol=1e-12)


def test_older_sessions_weigh_less_under_drift(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    learned, static, _ = drifting
    # Ten good sessions then ten poor ones: with drift the recent ones count for more.
    outcome = np.r_[np.full(10, 0.8), np.full(10, 0.2)]
    history = SessionLog(np.zeros(20, int), np.zeros(20, int), np.zeros((20, 0)), outcome)
    drifted, _ = learned.predict(history, np.zeros((1, 0)))
    still, _ = static.predict(history, np.zeros((1, 0)))
    assert drifted[0, 0] < still[0, 0] - 0.02


def test_incremental_update_with_drift_matches_whole_history(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    learned, _, test = drifting
    history = test.for_learner(4)
    belief = learned.start()
    for i in range(len(history)):
        belief = learned.update(belief, history.strategy[i], history.context[i], history.outcome[i])
    for a, b in zip(
        learned.predict_belief(belief, np.zeros((1, 0))),
        learned.predict(history, np.zeros((1, 0))),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_save_load_keeps_the_drift_rate(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    learned, _, test = drifting
    loaded = MetaLearner.from_bytes(learned.to_bytes())
    assert isinstance(loaded, ModelMetaLearner)
    assert loaded.drift_ == learned.drift_
    history = test.for_learner(2)
    _same_predictions(learned, loaded, history, rows=1)


def test_a_state_saved_before_drift_loads_without_drift(
    drifting: tuple[ModelMetaLearner, ModelMetaLearner, SessionLog],
) -> None:
    learned, static, test = drifting
    data = np.load(io.BytesIO(learned.to_bytes()), allow_pickle=False)
    header = json.loads(bytes(data["__header__"]).decode())
    for key in ("model_version", "drift"):
        del header["scalars"][key]
    for key in ("drift", "random_state"):
        del header["params"][key]
    arrays = {key: data[key] for key in data.files if key != "drift_scores"}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    loaded = MetaLearner.from_bytes(buffer.getvalue())
    assert isinstance(loaded, ModelMetaLearner) and loaded.drift_ == 0.0
    history = test.for_learner(2)
    _same_predictions(static, loaded, history, rows=1)
