"""ModelMetaLearner: contract, validation, and whether it learns what it should."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from coach.engine.base import MetaLearner, SnapshotError
from coach.engine.log import LogError, SessionLog
from coach.engine.model import ModelMetaLearner
from coach.engine.simulate import N_FEATURES, N_STRATEGIES, simulate
from tests.engine.synthetic import first_sessions, trait_in_ratings


def _population(
    n_learners: int,
    n_sessions: int,
    effects: np.ndarray,
    quirk_sd: float = 0.0,
    noise: float = 0.1,
    d: int = 0,
    seed: int = 0,
) -> tuple[SessionLog, np.ndarray]:
    """Sessions with uniformly random strategies: outcome = effect + learner quirk + noise."""
    rng = np.random.default_rng(seed)
    s = effects.shape[0]
    quirks = rng.normal(0.0, quirk_sd, (n_learners, s))
    learner = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, s, learner.shape[0])
    outcome = effects[strategy] + quirks[learner, strategy] + rng.normal(0.0, noise, learner.shape[0])
    context = rng.normal(size=(learner.shape[0], d))
    return SessionLog(learner, strategy, context, outcome), quirks


@pytest.fixture(scope="module")
def sim() -> tuple[SessionLog, ModelMetaLearner]:
    log, _ = simulate(200, 20, seed=1)
    return log, ModelMetaLearner(N_STRATEGIES).fit(log)


# Contract -----------------------------------------------------------------------------------------
def test_fit_returns_self_and_sets_n_features_in(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, _ = sim
    learner = ModelMetaLearner(N_STRATEGIES)
    assert learner.fit(log) is learner
    assert learner.n_features_in_ == N_FEATURES


def test_predict_returns_mean_and_std_of_shape_m_by_s(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    mean, std = learner.predict(first_sessions(log, 3, 5), log.context[:7])
    assert mean.shape == std.shape == (7, N_STRATEGIES)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)


def test_predict_with_empty_history_uses_population() -> None:
    effects = np.array([0.2, 0.5, 0.4])
    log, _ = _population(300, 10, effects, quirk_sd=0.1, seed=2)
    learner = ModelMetaLearner(3).fit(log)
    mean, _ = learner.predict(SessionLog.empty(0), np.zeros((1, 0)))
    observed = np.bincount(log.strategy, log.outcome) / np.bincount(log.strategy)
    np.testing.assert_allclose(mean[0], observed, atol=0.01)


def test_works_without_context_features() -> None:
    log, _ = _population(50, 6, np.array([0.3, 0.6, 0.5]), d=0)
    learner = ModelMetaLearner(3).fit(log)
    mean, std = learner.predict(first_sessions(log, 0, 3), np.zeros((4, 0)))
    assert mean.shape == std.shape == (4, 3)


def test_works_with_two_strategies() -> None:
    log, _ = _population(50, 6, np.array([0.3, 0.6]), d=2)
    mean, _ = ModelMetaLearner(2).fit(log).predict(SessionLog.empty(2), np.zeros((1, 2)))
    assert mean.shape == (1, 2) and mean[0, 1] > mean[0, 0]


def test_context_of_one_situation_needs_two_dimensions(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    with pytest.raises(LogError, match="2-D"):
        learner.predict(SessionLog.empty(N_FEATURES), log.context[0])


# Validation ---------------------------------------------------------------------------------------
def test_fit_rejects_nan_outcome() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6]))
    outcome = log.outcome.copy()
    outcome[3] = np.nan
    with pytest.raises(LogError, match="NaN"):
        ModelMetaLearner(2).fit(SessionLog(log.learner, log.strategy, log.context, outcome))


def test_fit_rejects_strategy_out_of_range() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6, 0.1]))
    with pytest.raises(LogError, match="outside"):
        ModelMetaLearner(2).fit(log)


def test_fit_rejects_empty_log() -> None:
    with pytest.raises(LogError, match="empty"):
        ModelMetaLearner(2).fit(SessionLog.empty(3))


def test_fit_rejects_mismatched_lengths() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6]))
    with pytest.raises(LogError, match="rows"):
        ModelMetaLearner(2).fit(SessionLog(log.learner, log.strategy[:-1], log.context, log.outcome))


def test_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ModelMetaLearner(2).predict(SessionLog.empty(0), np.zeros((1, 0)))


def test_predict_rejects_context_of_wrong_width(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    _, learner = sim
    with pytest.raises(LogError, match="shape"):
        learner.predict(SessionLog.empty(N_FEATURES), np.zeros((2, N_FEATURES + 1)))


def test_predict_rejects_history_of_two_learners(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    with pytest.raises(LogError, match="one learner"):
        learner.predict(log.take(slice(0, 40)), log.context[:1])


def test_fit_rejects_prior_gain_of_wrong_length() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6]))
    with pytest.raises(InvalidParameterError, match="prior_gain"):
        ModelMetaLearner(2, prior_gain=[0.1, 0.0, 0.0]).fit(log)


def test_fit_rejects_unknown_link() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6]))
    with pytest.raises(InvalidParameterError, match="link"):
        ModelMetaLearner(2, link="probit").fit(log)


def test_logit_link_refuses_outcomes_outside_unit_interval() -> None:
    log, _ = _population(10, 4, np.array([3.0, 6.0]))
    with pytest.raises(LogError, match=r"\[0, 1\]"):
        ModelMetaLearner(2, link="logit").fit(log)


def test_too_few_strategies_is_refused() -> None:
    log, _ = _population(10, 4, np.array([0.3, 0.6]))
    with pytest.raises(InvalidParameterError, match="n_strategies"):
        ModelMetaLearner(1).fit(log)


# Learning -----------------------------------------------------------------------------------------
def test_recovers_best_strategy_in_clear_cut_population() -> None:
    effects = np.array([0.4, 0.45, 0.7, 0.5])
    log, _ = _population(100, 10, effects, quirk_sd=0.05, d=3)
    mean, _ = ModelMetaLearner(4).fit(log).predict(SessionLog.empty(3), np.zeros((5, 3)))
    assert np.all(mean.argmax(axis=1) == 2)


def test_recovers_context_dependent_best_strategy() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    context = rng.normal(size=(n, 1))
    strategy = rng.integers(0, 2, n)
    outcome = 0.5 + np.where(strategy == 1, 0.2, -0.2) * context[:, 0] + rng.normal(0, 0.1, n)
    log = SessionLog(np.repeat(np.arange(400), 10), strategy, context, outcome)
    mean, _ = ModelMetaLearner(2).fit(log).predict(SessionLog.empty(1), np.array([[-1.0], [1.0]]))
    assert list(mean.argmax(axis=1)) == [0, 1]


def test_learner_quirk_is_picked_up_after_some_sessions() -> None:
    effects = np.full(3, 0.5)
    log, _ = _population(400, 12, effects, quirk_sd=0.15, noise=0.1, seed=4)
    learner = ModelMetaLearner(3).fit(log)
    rng = np.random.default_rng(5)
    history = SessionLog(np.zeros(8, int), np.zeros(8, int), np.zeros((8, 0)), 0.8 + rng.normal(0, 0.1, 8))
    before, before_std = learner.predict(SessionLog.empty(0), np.zeros((1, 0)))
    after, after_std = learner.predict(history, np.zeros((1, 0)))
    assert after[0, 0] - before[0, 0] > 0.2
    assert after.argmax() == 0
    assert after_std[0, 0] < before_std[0, 0]


def test_learned_covariance_transfers_between_correlated_strategies() -> None:
    rng = np.random.default_rng(6)
    n_learners, n_sessions = 500, 12
    shared = rng.normal(0.0, 0.15, n_learners)  # strategies 0 and 1 work alike for a learner
    learner_ids = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, 3, learner_ids.shape[0])
    offset = np.where(strategy < 2, shared[learner_ids], 0.0)
    outcome = 0.5 + offset + rng.normal(0.0, 0.1, learner_ids.shape[0])
    learner = ModelMetaLearner(3).fit(
        SessionLog(learner_ids, strategy, np.zeros((len(strategy), 0)), outcome)
    )
    history = SessionLog(np.zeros(6, int), np.zeros(6, int), np.zeros((6, 0)), np.full(6, 0.8))
    mean, _ = learner.predict(history, np.zeros((1, 0)))
    assert mean[0, 1] - 0.5 > 0.15 and abs(mean[0, 2] - 0.5) < 0.05


def test_prior_gain_sets_cold_start_of_a_strategy_nobody_tried() -> None:
    log, _ = _population(100, 8, np.array([0.5, 0.5, 0.5]))
    untried = log.take(log.strategy != 2)
    gain = np.array([0.0, 0.0, 0.1])
    mean, _ = ModelMetaLearner(3, prior_gain=gain).fit(untried).predict(SessionLog.empty(0), np.zeros((1, 0)))
    assert mean[0, 2] == pytest.approx(0.6, abs=0.01)
    assert mean[0, 0] == pytest.approx(0.5, abs=0.02)


def test_binary_outcomes_give_probabilities() -> None:
    rng = np.random.default_rng(7)
    log, _ = _population(200, 15, np.array([-1.0, 0.0, 1.0]), quirk_sd=0.5, noise=0.0, d=2)
    binary = SessionLog(
        log.learner, log.strategy, log.context, (rng.random(len(log)) < 1 / (1 + np.exp(-log.outcome))) * 1.0
    )
    learner = ModelMetaLearner(3).fit(binary)
    mean, std = learner.predict(first_sessions(binary, 0, 10), rng.normal(size=(6, 2)))
    assert learner.link_ == "logit"
    assert np.all((mean > 0) & (mean < 1))
    np.testing.assert_allclose(std, np.sqrt(mean * (1 - mean)))
    assert np.all(mean.argmax(axis=1) == 2)


def test_scores_take_the_logit_link_with_the_dispersion_of_their_noise(
    sim: tuple[SessionLog, ModelMetaLearner],
) -> None:
    # The simulated scores are Beta with concentration 15 around their mean: variance p(1-p)/16.
    _, learner = sim
    assert learner.link_ == "logit" and not learner.binary_
    assert 0.045 < learner.dispersion_ < 0.08


def test_outcomes_outside_the_unit_interval_take_the_identity_link() -> None:
    log, _ = _population(100, 10, np.array([0.0, 5.0]), quirk_sd=1.0, noise=1.0)
    assert ModelMetaLearner(2).fit(log).link_ == "identity"


def test_session_noise_is_what_evidence_cannot_remove(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    mean, std = learner.predict(first_sessions(log, 3, 25), log.context[:3])
    noise = learner.session_noise(mean)
    np.testing.assert_allclose(noise, np.sqrt(learner.dispersion_ * mean * (1 - mean)))
    assert np.all(noise < std)


def test_std_covers_about_90_percent_of_held_out_outcomes() -> None:
    log, _ = simulate(500, 15, seed=8)
    train = log.take(log.learner < 400)
    learner = ModelMetaLearner(N_STRATEGIES).fit(train)
    inside = []
    for who in range(400, 500):
        own = log.for_learner(who)
        mean, std = learner.predict(own.take(slice(0, 5)), own.context[5:])
        realised = own.outcome[5:]
        picked = own.strategy[5:]
        rows = np.arange(len(picked))
        inside.append(np.abs(realised - mean[rows, picked]) <= 1.645 * std[rows, picked])
    assert 0.85 <= np.mean(np.concatenate(inside)) <= 0.95


def _incremental_and_batch(
    learner: ModelMetaLearner, history: SessionLog, context: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Predictions from a belief updated session by session, and from the whole history."""
    belief = learner.start()
    for i in range(len(history)):
        belief = learner.update(belief, history.strategy[i], history.context[i], history.outcome[i])
    return learner.predict_belief(belief, context), learner.predict(history, context)


def test_incremental_update_matches_whole_history_for_the_identity_link(
    sim: tuple[SessionLog, ModelMetaLearner],
) -> None:
    log, _ = sim
    learner = ModelMetaLearner(N_STRATEGIES, link="identity").fit(log)
    history = first_sessions(log, 7, 12)
    incremental, batch = _incremental_and_batch(learner, history, log.context[:4])
    for a, b in zip(incremental, batch, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_incremental_update_approximates_whole_history_for_scores(
    sim: tuple[SessionLog, ModelMetaLearner],
) -> None:
    # Scores take the logit link: each update is one Laplace step, the batch posterior its mode.
    log, learner = sim
    history = first_sessions(log, 7, 12)
    incremental, batch = _incremental_and_batch(learner, history, log.context[:4])
    np.testing.assert_allclose(incremental[0], batch[0], atol=0.01)


def test_incremental_update_approximates_whole_history_for_binary_outcomes() -> None:
    rng = np.random.default_rng(9)
    log, _ = _population(200, 15, np.array([-1.0, 0.0, 1.0]), quirk_sd=0.5, noise=0.0, d=1)
    outcome = (rng.random(len(log)) < 1 / (1 + np.exp(-log.outcome))) * 1.0
    binary = SessionLog(log.learner, log.strategy, log.context, outcome)
    learner = ModelMetaLearner(3).fit(binary)
    history = first_sessions(binary, 3, 15)
    incremental, batch = _incremental_and_batch(learner, history, history.context[:2])
    np.testing.assert_allclose(incremental[0], batch[0], atol=0.05)


def test_update_rejects_strategy_out_of_range(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    with pytest.raises(LogError, match="outside"):
        learner.update(learner.start(), N_STRATEGIES, log.context[0], 0.5)


# Persistence and estimator conventions -------------------------------------------------------------
def test_save_load_round_trip_gives_identical_predictions(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    log, learner = sim
    loaded = MetaLearner.from_bytes(learner.to_bytes())
    assert isinstance(loaded, ModelMetaLearner)
    history = first_sessions(log, 5, 8)
    for a, b in zip(
        learner.predict(history, log.context[:9]), loaded.predict(history, log.context[:9]), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_save_load_keeps_prior_gain_parameter() -> None:
    log, _ = _population(30, 4, np.array([0.3, 0.6]))
    learner = ModelMetaLearner(2, prior_gain=np.array([0.05, -0.05]), prior_weight=3.0).fit(log)
    loaded = ModelMetaLearner.from_bytes(learner.to_bytes())
    np.testing.assert_array_equal(loaded.get_params()["prior_gain"], [0.05, -0.05])
    assert loaded.get_params()["prior_weight"] == 3.0


def test_clone_copies_parameters_without_fitted_state(sim: tuple[SessionLog, ModelMetaLearner]) -> None:
    _, learner = sim
    twin = clone(learner)
    assert twin.get_params() == learner.get_params()
    assert not hasattr(twin, "coef_")


def test_get_params_lists_constructor_arguments() -> None:
    params = ModelMetaLearner(4, alpha=2.0).get_params()
    assert params["n_strategies"] == 4 and params["alpha"] == 2.0
    assert {"prior_gain", "prior_weight", "link", "interactions", "n_iter"} <= set(params)


def test_quirks_of_a_strategy_family_are_learned_on_the_simulated_population() -> None:
    # Strategies of a family are seldom used by the same learner in 30 habitual sessions, so
    # their covariance is only found if EM for G runs close to convergence.
    log, _ = simulate(1500, 30, seed=11)
    cov = ModelMetaLearner(N_STRATEGIES).fit(log).re_cov_
    centre = np.eye(N_STRATEGIES) - 1.0 / N_STRATEGIES  # without the learner's general level
    relative = centre @ cov @ centre
    corr = relative / np.sqrt(np.outer(np.diag(relative), np.diag(relative)))
    assert corr[0, 1] > 0.4  # practice testing, distributed practice: retrieval family
    assert corr[7, 8] > 0.4  # keyword mnemonic, imagery for text: imagery family
    assert corr[0, 7] < 0.1  # practice testing, keyword mnemonic: unrelated


# History columns ----------------------------------------------------------------------------------
_CONFIDENCE = 6  # "confidence before" in the simulator's context


@pytest.fixture(scope="module")
def with_history(sim: tuple[SessionLog, ModelMetaLearner]) -> ModelMetaLearner:
    log, _ = sim
    return ModelMetaLearner(N_STRATEGIES, history_columns=(_CONFIDENCE,)).fit(log)


def test_history_columns_must_be_distinct_columns_of_the_context() -> None:
    log, _ = _population(10, 3, np.array([0.3, 0.6]), d=2)
    for columns in ((2,), (-1,), (0, 0)):
        with pytest.raises(LogError, match="history_columns"):
            ModelMetaLearner(2, history_columns=columns).fit(log)


def test_mean_of_earlier_ratings_tells_what_one_rating_cannot() -> None:
    log, _ = trait_in_ratings(600, 12, seed=2)
    test, trait = trait_in_ratings(200, 12, seed=3)
    situation = np.zeros((1, 1))  # an average rating for the situation at hand
    errors = {}
    for columns in ((), (0,)):
        learner = ModelMetaLearner(2, link="identity", history_columns=columns).fit(log)
        gap = [np.diff(learner.predict(test.for_learner(i), situation)[0][0])[0] for i in range(200)]
        errors[columns] = np.sqrt(np.mean((np.array(gap) - 0.1 * trait) ** 2))
    # Twelve ratings pin the trait down far better than twelve scattered outcomes do.
    assert errors[(0,)] < 0.7 * errors[()]
    shrink = ModelMetaLearner(2, history_columns=(0,)).fit(log).history_shrink_
    np.testing.assert_allclose(shrink, [1.0], atol=0.2)  # within / between variance: 1 / 1


def test_history_columns_leave_a_new_learner_at_the_population(with_history: ModelMetaLearner) -> None:
    empty = SessionLog.empty(N_FEATURES)
    rows = np.tile(np.linspace(0.0, 1.0, N_FEATURES), (2, 1))
    mean, std = with_history.predict(empty, rows)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)
    # Without history the only reading is the situation's own rating, shrunk by 1 + k0.
    means = with_history._with_means(rows, np.zeros(1), 0)[:, -1]
    expected = (rows[:, _CONFIDENCE] - with_history.history_center_[0]) / (
        1.0 + with_history.history_shrink_[0]
    )
    np.testing.assert_allclose(means, expected)


def test_incremental_update_with_history_columns_matches_whole_history(
    sim: tuple[SessionLog, ModelMetaLearner],
) -> None:
    log, _ = sim
    learner = ModelMetaLearner(N_STRATEGIES, link="identity", history_columns=(_CONFIDENCE,)).fit(log)
    history = first_sessions(log, 7, 12)
    incremental, batch = _incremental_and_batch(learner, history, log.context[:4])
    for a, b in zip(incremental, batch, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_save_load_keeps_history_columns(
    sim: tuple[SessionLog, ModelMetaLearner], with_history: ModelMetaLearner
) -> None:
    log, _ = sim
    loaded = MetaLearner.from_bytes(with_history.to_bytes())
    assert list(loaded.get_params()["history_columns"]) == [_CONFIDENCE]
    history = first_sessions(log, 5, 8)
    for a, b in zip(
        with_history.predict(history, log.context[:9]), loaded.predict(history, log.context[:9]), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_file_of_an_older_format_is_refused_with_a_clear_message(
    sim: tuple[SessionLog, ModelMetaLearner],
) -> None:
    import io
    import json

    data = np.load(io.BytesIO(sim[1].to_bytes()), allow_pickle=False)
    header = json.loads(bytes(data["__header__"]).decode())
    header["version"] = 1
    arrays = {key: data[key] for key in data.files}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with pytest.raises(SnapshotError, match=r"format version 1.*retrain"):
        MetaLearner.from_bytes(buffer.getvalue())
