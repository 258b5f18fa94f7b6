"""MemoryMetaLearner: contract, validation, behaviour on small synthetic populations."""

from __future__ import annotations

import io
from itertools import pairwise

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from coach.engine import memory
from coach.engine._memory_blocks import OFF, refine
from coach.engine._memory_kernel import kernel_mean
from coach.engine._record import (
    gain_cov,
    posterior_cov,
    record_covariance,
    record_scale,
    refine_covariance,
)
from coach.engine.base import MetaLearner
from coach.engine.log import LogError, SessionLog
from coach.engine.memory import Evidence, LevelParams, MemoryMetaLearner
from tests.engine.synthetic import trait_in_ratings


def make_log(
    n_learners: int = 300,
    n_sessions: int = 20,
    n_features: int = 2,
    n_strategies: int = 4,
    seed: int = 0,
    binary: bool = False,
) -> SessionLog:
    """Learners whose best strategy depends on |x0| > 1, a pattern no linear fit of x0 finds:
    the outer group does best with strategy 0, the inner group with strategy 1. Each learner
    also has a small quirk of their own per strategy."""
    rng = np.random.default_rng(seed)
    profile = rng.normal(0.0, 1.0, (n_learners, max(n_features, 1)))[:, :n_features]
    outer = np.abs(profile[:, 0]) > 1.0 if n_features else np.zeros(n_learners, dtype=bool)
    effect = rng.normal(0.0, 0.05, (n_learners, n_strategies))
    effect[outer, 0] += 0.2
    effect[~outer, 1] += 0.2
    learner = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, n_strategies, learner.size)
    mean = 0.5 + effect[learner, strategy]
    if binary:
        outcome = (rng.random(learner.size) < mean).astype(np.float64)
    else:
        outcome = np.clip(mean + rng.normal(0.0, 0.1, learner.size), 0.0, 1.0)
    return SessionLog(learner=learner, strategy=strategy, context=profile[learner], outcome=outcome)


@pytest.fixture(scope="module")
def log() -> SessionLog:
    return make_log()


@pytest.fixture(scope="module")
def fitted(log: SessionLog) -> MemoryMetaLearner:
    return MemoryMetaLearner(n_strategies=4, n_neighbors=30, random_state=0).fit(log)


def test_is_registered_meta_learner_named_memory() -> None:
    assert issubclass(MemoryMetaLearner, MetaLearner)
    assert MemoryMetaLearner.name == "memory"


def test_fit_returns_self_and_sets_n_features_in(log: SessionLog) -> None:
    learner = MemoryMetaLearner(n_strategies=4, random_state=0)
    assert learner.fit(log) is learner
    assert learner.n_features_in_ == 2


def test_predict_gives_one_row_per_situation_and_one_column_per_strategy(
    log: SessionLog, fitted: MemoryMetaLearner
) -> None:
    history = log.for_learner(0).take(slice(0, 3))
    mean, std = fitted.predict(history, np.zeros((5, 2)))
    assert mean.shape == std.shape == (5, 4)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)


def test_empty_history_is_accepted(fitted: MemoryMetaLearner) -> None:
    mean, std = fitted.predict(SessionLog.empty(2), np.zeros((1, 2)))
    assert mean.shape == std.shape == (1, 4)


def test_works_without_context_features() -> None:
    log = make_log(n_learners=60, n_sessions=10, n_features=0)
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(log)
    mean, std = learner.predict(log.for_learner(1).take(slice(0, 4)), np.zeros((2, 0)))
    assert learner.n_features_in_ == 0
    assert mean.shape == std.shape == (2, 4)


def test_works_with_two_strategies() -> None:
    log = make_log(n_learners=60, n_sessions=10, n_strategies=2)
    learner = MemoryMetaLearner(n_strategies=2, random_state=0).fit(log)
    mean, _ = learner.predict(SessionLog.empty(2), np.zeros((1, 2)))
    assert mean.shape == (1, 2)


def test_fit_rejects_strategy_outside_catalogue(log: SessionLog) -> None:
    with pytest.raises(LogError, match="strategy"):
        MemoryMetaLearner(n_strategies=3).fit(log)


def test_fit_rejects_too_few_strategies(log: SessionLog) -> None:
    with pytest.raises(InvalidParameterError, match="n_strategies"):
        MemoryMetaLearner(n_strategies=1).fit(log)


def test_a_bad_parameter_is_not_a_bad_log(log: SessionLog) -> None:
    with pytest.raises(InvalidParameterError) as refused:
        MemoryMetaLearner(n_strategies=4, half_life=0.0).fit(log)
    assert not isinstance(refused.value, LogError)
    with pytest.raises(InvalidParameterError, match="ridge"):
        MemoryMetaLearner(n_strategies=4, ridge=float("nan")).fit(log)


def test_fit_rejects_non_positive_neighbours(log: SessionLog) -> None:
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        MemoryMetaLearner(n_strategies=4, n_neighbors=0).fit(log)


def test_fit_rejects_prior_gain_of_wrong_length(log: SessionLog) -> None:
    with pytest.raises(InvalidParameterError, match="prior_gain"):
        MemoryMetaLearner(n_strategies=4, prior_gain=np.zeros(3)).fit(log)


def test_predict_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        MemoryMetaLearner(n_strategies=4).predict(SessionLog.empty(2), np.zeros((1, 2)))


def test_predict_rejects_context_with_wrong_feature_count(fitted: MemoryMetaLearner) -> None:
    with pytest.raises(LogError, match="context"):
        fitted.predict(SessionLog.empty(2), np.zeros((1, 3)))


def test_predict_rejects_history_of_two_learners(log: SessionLog, fitted: MemoryMetaLearner) -> None:
    with pytest.raises(LogError, match="one learner"):
        fitted.predict(log.take(slice(0, 40)), np.zeros((1, 2)))


def test_new_learner_gets_the_best_strategy_of_similar_learners(fitted: MemoryMetaLearner) -> None:
    outer, inner = np.array([[2.0, 0.0]]), np.array([[0.0, 0.0]])
    mean_outer, _ = fitted.predict(SessionLog.empty(2), outer)
    mean_inner, _ = fitted.predict(SessionLog.empty(2), inner)
    assert mean_outer[0].argmax() == 0
    assert mean_inner[0].argmax() == 1


def test_own_record_outweighs_neighbours_after_many_sessions(fitted: MemoryMetaLearner) -> None:
    # An inner-group learner for whom strategy 3 works far better than for anyone else.
    n = 40
    strategy = np.arange(n) % 4
    outcome = np.where(strategy == 3, 0.95, 0.5)
    history = SessionLog(np.zeros(n, int), strategy, np.zeros((n, 2)), outcome)
    before, _ = fitted.predict(SessionLog.empty(2), np.zeros((1, 2)))
    after, _ = fitted.predict(history, np.zeros((1, 2)))
    assert before[0].argmax() == 1
    assert after[0].argmax() == 3


def test_binary_outcomes_give_probabilities_and_bernoulli_spread() -> None:
    log = make_log(n_learners=200, n_sessions=15, binary=True)
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(log)
    mean, std = learner.predict(log.for_learner(3).take(slice(0, 10)), np.array([[2.0, 0.0], [0.0, 0.0]]))
    assert np.all((mean > 0) & (mean < 1))
    np.testing.assert_allclose(std, np.sqrt(mean * (1 - mean)))


def test_intervals_cover_about_ninety_percent_of_new_learners_sessions(fitted: MemoryMetaLearner) -> None:
    test = make_log(n_learners=100, n_sessions=20, seed=1)
    inside = []
    for i in range(100):
        sessions = test.for_learner(i)
        mean, std = fitted.predict(sessions.take(slice(0, 10)), sessions.context[10:])
        rows = np.arange(10)
        error = np.abs(sessions.outcome[10:] - mean[rows, sessions.strategy[10:]])
        inside.append(error <= 1.645 * std[rows, sessions.strategy[10:]])
    assert 0.84 <= np.mean(inside) <= 0.96


def test_explanation_counts_the_sessions_of_similar_learners(log: SessionLog) -> None:
    # With every training learner a neighbour and no history, the evidence is the whole log.
    learner = MemoryMetaLearner(n_strategies=4, n_neighbors=1000, random_state=0).fit(log)
    evidence = learner.explain(SessionLog.empty(2), np.zeros(2), 2)
    used = log.strategy == 2
    assert isinstance(evidence, Evidence)
    assert evidence.n_sessions == int(used.sum())
    assert evidence.n_learners == len(np.unique(log.learner[used]))
    assert evidence.own_sessions == 0


def test_explanation_reports_what_the_similar_learners_scored(log: SessionLog) -> None:
    # Everyone a neighbour, no history: the peers are the whole log, every session "later".
    learner = MemoryMetaLearner(n_strategies=4, n_neighbors=1000, random_state=0).fit(log)
    evidence = learner.explain(SessionLog.empty(2), np.zeros(2), 1)
    used = log.outcome[log.strategy == 1]
    assert evidence.peer_mean == pytest.approx(used.mean())
    assert evidence.peer_gain == pytest.approx(used.mean() - log.outcome.mean())


def test_explanation_peer_figures_survive_saving(log: SessionLog, fitted: MemoryMetaLearner) -> None:
    row = np.array([0.5, -1.0])
    history = log.for_learner(3).take(slice(0, 4))
    loaded = MemoryMetaLearner.from_bytes(fitted.to_bytes())
    assert loaded.explain(history, row, 0) == fitted.explain(history, row, 0)


def test_explanation_gain_is_expected_minus_population_average(
    log: SessionLog, fitted: MemoryMetaLearner
) -> None:
    history = log.for_learner(0).take(slice(0, 5))
    row = np.array([2.0, 0.0])
    evidence = fitted.explain(history, row, 0)
    mean, _ = fitted.predict(history, row[None, :])
    assert evidence.expected == pytest.approx(mean[0, 0])
    assert evidence.gain == pytest.approx(evidence.expected - evidence.population)
    assert evidence.own_sessions == int(np.sum(history.strategy == 0))


def test_explain_rejects_unknown_strategy(fitted: MemoryMetaLearner) -> None:
    with pytest.raises(LogError, match="strategy"):
        fitted.explain(SessionLog.empty(2), np.zeros(2), 4)


def test_saved_and_loaded_learner_predicts_identically(log: SessionLog, fitted: MemoryMetaLearner) -> None:
    loaded = MemoryMetaLearner.from_bytes(fitted.to_bytes())
    history = log.for_learner(5).take(slice(0, 7))
    context = np.array([[1.5, -0.3], [0.1, 0.2]])
    for got, want in zip(loaded.predict(history, context), fitted.predict(history, context), strict=True):
        np.testing.assert_array_equal(got, want)


def test_clone_keeps_parameters_and_drops_fitted_state(fitted: MemoryMetaLearner) -> None:
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "n_features_in_")


def test_fit_with_same_random_state_is_reproducible(log: SessionLog) -> None:
    a = MemoryMetaLearner(n_strategies=4, random_state=3).fit(log)
    b = MemoryMetaLearner(n_strategies=4, random_state=3).fit(log)
    history = log.for_learner(2).take(slice(0, 5))
    np.testing.assert_array_equal(
        a.predict(history, np.ones((1, 2)))[0], b.predict(history, np.ones((1, 2)))[0]
    )


def test_evidence_prior_lifts_a_strategy_nobody_has_tried(log: SessionLog) -> None:
    untried = log.take(log.strategy != 3)
    gain = np.array([0.0, 0.0, 0.0, 0.3])
    plain = MemoryMetaLearner(n_strategies=4, random_state=0).fit(untried)
    informed = MemoryMetaLearner(n_strategies=4, prior_gain=gain, random_state=0).fit(untried)
    without, _ = plain.predict(SessionLog.empty(2), np.zeros((1, 2)))
    with_prior, _ = informed.predict(SessionLog.empty(2), np.zeros((1, 2)))
    assert with_prior[0, 3] > without[0, 3] + 0.1


def _families_log(n_learners: int = 600, seed: int = 0) -> SessionLog:
    """No features; strategies 0 and 1 share most of a learner's quirk, 2 and 3 are unrelated."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0.0, 0.15, n_learners)
    quirk = rng.normal(0.0, 0.04, (n_learners, 4))
    quirk[:, :2] += shared[:, None]
    learner = np.repeat(np.arange(n_learners), 16)
    strategy = rng.integers(0, 4, learner.size)
    outcome = 0.5 + quirk[learner, strategy] + rng.normal(0.0, 0.1, learner.size)
    return SessionLog(learner, strategy, np.zeros((learner.size, 0)), outcome)


def test_record_covariance_finds_strategies_that_work_alike() -> None:
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(_families_log())
    cov = learner.record_cov_
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert corr[0, 1] > 0.7
    assert abs(corr[2, 3]) < 0.3 and abs(corr[0, 2]) < 0.3


def test_own_record_on_one_strategy_moves_its_relative() -> None:
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(_families_log())
    assert np.any(learner.level_params_[1:, 4] > 0)  # the learned covariance wins calibration
    history = SessionLog(np.zeros(4, int), np.zeros(4, int), np.zeros((4, 0)), np.full(4, 0.8))
    before, _ = learner.predict(SessionLog.empty(0), np.zeros((1, 0)))
    after, _ = learner.predict(history, np.zeros((1, 0)))
    lift = after[0] - before[0]
    assert lift[1] > 0.15
    # A shared-level prior would lift every strategy a little; the learned one leaves unrelated
    # strategies where they were.
    assert np.abs(lift[2:]).max() < 0.015


def _few_users_log(seed: int) -> SessionLog:
    """Everyone uses strategy 0; strategy 1, worth +0.05 to anyone, is used by only 30 of the
    300 learners, whose general levels (sd 0.15) differ far more than the strategy's effect."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0.0, 0.15, 300)
    learner = np.repeat(np.arange(300), 20)
    users = rng.choice(300, 30, replace=False)
    strategy = np.where(np.isin(learner, users), rng.integers(0, 2, learner.size), 0)
    outcome = 0.5 + level[learner] + 0.05 * strategy + rng.normal(0.0, 0.05, learner.size)
    return SessionLog(learner, strategy, np.zeros((learner.size, 0)), outcome)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_population_regression_compares_strategies_within_learners(seed: int) -> None:
    # A regression blind to who gave which session credits strategy 1 with the levels of the
    # few learners who use it (off by about 0.03 here); within those learners it is +0.05.
    # No pull toward the evidence prior here: the regression alone is under test.
    learner = MemoryMetaLearner(n_strategies=2, prior_weight=0.0, random_state=0).fit(_few_users_log(seed))
    mean, _ = learner.predict(SessionLog.empty(0), np.zeros((1, 0)))
    assert mean[0, 1] - mean[0, 0] == pytest.approx(0.05, abs=0.01)


def _family_records(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sessions and residual sums (L, S) of learners whose true residuals come from two
    families of strategies, used by habit; returns n, total, noise and the true covariance."""
    rng = np.random.default_rng(seed)
    S, n_learners = 6, 2000
    load = np.repeat(np.eye(2), 3, axis=0)
    true = 0.008 + 0.006 * load @ np.array([[1.0, -0.5], [-0.5, 1.0]]) @ load.T + 0.002 * np.eye(S)
    offsets = rng.multivariate_normal(np.zeros(S), true, n_learners)
    habits = rng.dirichlet(3.0 * np.array([0.4, 0.05, 0.05, 0.3, 0.1, 0.1]), n_learners)
    n = np.stack([rng.multinomial(12, h) for h in habits]).astype(np.float64)
    noise = np.full(S, 0.015)
    total = n * offsets + rng.normal(0.0, 1.0, n.shape) * np.sqrt(n * noise)
    return n, total, noise, true


def _record_log_likelihood(n: np.ndarray, total: np.ndarray, noise: np.ndarray, cov: np.ndarray) -> float:
    """Log-likelihood of every learner's mean residuals on the strategies they used."""
    value = 0.0
    for ni, ti in zip(n, total, strict=True):
        used = ni > 0
        mean = ti[used] / ni[used]
        c = cov[np.ix_(used, used)] + np.diag(noise[used] / ni[used])
        _, logdet = np.linalg.slogdet(c)
        value -= 0.5 * (logdet + mean @ np.linalg.solve(c, mean))
    return value


@pytest.mark.parametrize("seed", [0, 1])
def test_record_covariance_refined_by_likelihood(seed: int) -> None:
    n, total, noise, true = _family_records(seed)
    moments = record_covariance(n, total, noise, record_scale(n, total, noise)[0])
    refined, means = refine_covariance(n, total, noise, moments)
    assert _record_log_likelihood(n, total, noise, refined) > _record_log_likelihood(n, total, noise, moments)
    assert np.linalg.norm(refined - true) < np.linalg.norm(moments - true)
    # Its posterior means are the own-record update's, from the other side of the same algebra.
    shift, _ = posterior_cov(np.zeros_like(total), n, total, gain_cov(n, noise, refined))
    np.testing.assert_allclose(means, shift, atol=1e-10)


def _quirky_population(n_learners: int, seed: int) -> tuple[SessionLog, np.ndarray]:
    """Like `make_log`, but each learner's quirks are as large as the group effect and every
    learner has their own general level; returns the log and each learner's true means."""
    rng = np.random.default_rng(seed)
    profile = rng.normal(0.0, 1.0, (n_learners, 2))
    effect = rng.normal(0.0, 0.1, (n_learners, 4)) + rng.normal(0.0, 0.15, (n_learners, 1))
    effect[np.abs(profile[:, 0]) > 1.0, 0] += 0.1
    effect[np.abs(profile[:, 0]) <= 1.0, 1] += 0.1
    learner = np.repeat(np.arange(n_learners), 20)
    strategy = rng.integers(0, 4, learner.size)
    outcome = 0.5 + effect[learner, strategy] + rng.normal(0.0, 0.15, learner.size)
    return SessionLog(learner, strategy, profile[learner], outcome), 0.5 + effect


def test_one_more_session_does_not_make_choices_worse() -> None:
    train, _ = _quirky_population(600, seed=0)
    test, truth = _quirky_population(400, seed=1)
    learner = MemoryMetaLearner(n_strategies=4, n_neighbors=30, random_state=0).fit(train)
    regret = []
    for k in (0, 1, 2, 5):
        lost = []
        for i in range(400):
            sessions = test.for_learner(i)
            mean, _ = learner.predict(sessions.take(slice(0, k)), sessions.context[:1])
            lost.append(truth[i].max() - truth[i, mean[0].argmax()])
        regret.append(float(np.mean(lost)))
    assert all(later <= earlier + 1e-3 for earlier, later in pairwise(regret))


def test_neighbours_weigh_in_where_they_know_what_a_linear_model_misses(fitted: MemoryMetaLearner) -> None:
    # make_log's best strategy turns on |x0| > 1: only similar learners reveal it.
    levels, shares = fitted.neighbour_weights()
    assert levels[0] == 0 and shares[0] > 0.9
    assert np.all((shares >= 0.0) & (shares <= 1.0))


def linear_log() -> SessionLog:
    """Learners whose outcome a linear model of the profile predicts fully."""
    rng = np.random.default_rng(4)
    learner = np.repeat(np.arange(300), 20)
    profile = rng.normal(0.0, 1.0, (300, 1))
    strategy = rng.integers(0, 3, learner.size)
    outcome = 0.5 + 0.1 * profile[learner, 0] * (strategy == 0) + rng.normal(0.0, 0.1, learner.size)
    return SessionLog(learner, strategy, profile[learner], outcome)


def test_neighbours_get_no_weight_where_a_linear_model_says_it_all() -> None:
    _, shares = MemoryMetaLearner(n_strategies=3, random_state=0).fit(linear_log()).neighbour_weights()
    assert shares[0] < 0.1


def test_neighbours_switched_off_leave_the_level_below_exactly() -> None:
    rng = np.random.default_rng(0)
    nb_n, nb_r, below = rng.random((3, 2, 4)) * 50
    assert np.array_equal(refine(nb_n, nb_r, below, OFF, 0.5), 0.5 * below)
    assert np.array_equal(refine(nb_n, nb_r, np.zeros((1, 4)), OFF, 1.0), np.zeros((2, 4)))


def test_explanation_names_similar_learners_where_their_weight_is_off() -> None:
    # Prediction skips the search where the neighbours count for nothing; the reason still
    # shows the learner what similar learners did.
    fitted = MemoryMetaLearner(n_strategies=3, random_state=0).fit(linear_log())
    assert fitted.level_params_[0, 0] == OFF
    evidence = fitted.explain(SessionLog.empty(1), np.array([1.5]), 0)
    assert evidence.n_learners > 0 and evidence.n_sessions > 0


# History columns ----------------------------------------------------------------------------------
def test_history_columns_must_be_distinct_columns_of_the_context(log: SessionLog) -> None:
    for columns in ((2,), (-1,), (0, 0)):
        with pytest.raises(LogError, match="history_columns"):
            MemoryMetaLearner(n_strategies=4, history_columns=columns).fit(log)


def test_mean_of_earlier_ratings_tells_the_memory_learner_what_one_rating_cannot() -> None:
    log, _ = trait_in_ratings(600, 12, seed=2)
    test, trait = trait_in_ratings(200, 12, seed=3)
    situation = np.zeros((1, 1))  # an average rating for the situation at hand
    errors = {}
    for columns in ((), (0,)):
        learner = MemoryMetaLearner(n_strategies=2, history_columns=columns, random_state=0).fit(log)
        gap = [np.diff(learner.predict(test.for_learner(i), situation)[0][0])[0] for i in range(200)]
        errors[columns] = np.sqrt(np.mean((np.array(gap) - 0.1 * trait) ** 2))
    assert errors[(0,)] < 0.7 * errors[()]


def test_intervals_hold_for_a_new_learner_whose_usual_rating_is_not_known_yet() -> None:
    # Each snapshot level calibrates its intervals on sessions predicted as they would be after
    # that many sessions, so a first prediction's interval allows for the learner's usual
    # rating being unknown (calibrated on every session's own history instead: 0.84 here).
    log, _ = trait_in_ratings(600, 12, seed=2, level=0.1, noise=0.1)
    test, _ = trait_in_ratings(400, 12, seed=3, level=0.1, noise=0.1)
    learner = MemoryMetaLearner(n_strategies=2, history_columns=(0,), random_state=0).fit(log)
    inside = []
    for i in range(400):
        first = test.for_learner(i).take(slice(0, 1))
        mean, std = learner.predict(SessionLog.empty(1), first.context)
        s = first.strategy[0]
        inside.append(abs(first.outcome[0] - mean[0, s]) <= 1.645 * std[0, s])
    assert 0.86 <= np.mean(inside) <= 0.94


def test_save_load_keeps_history_columns() -> None:
    log, _ = trait_in_ratings(300, 12, seed=2)
    learner = MemoryMetaLearner(n_strategies=2, history_columns=(0,), random_state=0).fit(log)
    loaded = MetaLearner.from_bytes(learner.to_bytes())
    assert list(loaded.get_params()["history_columns"]) == [0]
    history = log.for_learner(3).take(slice(0, 6))
    rows = log.context[:5]
    for a, b in zip(learner.predict(history, rows), loaded.predict(history, rows), strict=True):
        np.testing.assert_array_equal(a, b)


# Kernel over past learners ------------------------------------------------------------------------
def test_kernel_weights_are_the_likelihood_of_the_first_sessions() -> None:
    # The matrix form against the likelihood written session by session.
    rng = np.random.default_rng(0)
    theta = rng.normal(0.0, 0.1, (40, 4))
    shares = rng.dirichlet(np.ones(4), 40)
    noise = np.array([0.01, 0.02, 0.015, 0.01])
    strategy, residual = rng.integers(0, 4, 6), rng.normal(0.0, 0.1, 6)
    own_n = np.bincount(strategy, minlength=4)[None, :].astype(float)
    own_r = np.bincount(strategy, weights=residual, minlength=4)[None, :]
    var = noise + 1.0 * noise.mean()
    log_w = -0.5 * ((residual - theta[:, strategy]) ** 2 / var[strategy]).sum(axis=1)
    log_w += 0.5 * np.log(shares[:, strategy]).sum(axis=1)
    log_w[3] = -np.inf
    w = np.exp(log_w - log_w.max())
    expected = w @ theta / w.sum()
    ours = kernel_mean(theta, shares, noise, own_n, own_r, 0.5, 1.0, exclude=np.array([3]))
    np.testing.assert_allclose(ours[0], expected, atol=1e-12)


def _kinds_log(n_learners: int, seed: int) -> tuple[SessionLog, np.ndarray]:
    """Learners of two hidden kinds that nothing in their profile shows: each kind favours
    different strategies in what it picks and in what works for it, and strategy 3 works for
    neither kind's learners on average but far better for one of them. Returns the log and each
    learner's true means."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 2, n_learners)
    effect = np.where(kind[:, None] == 0, [0.15, -0.1, 0.0, 0.1], [-0.1, 0.15, 0.0, -0.1])
    effect = effect + rng.normal(0.0, 0.03, (n_learners, 4))
    habits = np.where(kind[:, None] == 0, [0.5, 0.1, 0.3, 0.1], [0.1, 0.5, 0.3, 0.1])
    learner = np.repeat(np.arange(n_learners), 20)
    strategy = (rng.random((learner.size, 1)) > np.cumsum(habits[learner], axis=1)).sum(axis=1)
    outcome = 0.5 + effect[learner, strategy] + rng.normal(0.0, 0.12, learner.size)
    context = rng.normal(0.0, 1.0, (learner.size, 1))
    return SessionLog(learner, strategy, context, outcome), 0.5 + effect


def _regret_at(learner: MemoryMetaLearner, test: SessionLog, truth: np.ndarray, k: int) -> float:
    lost = []
    for i in range(truth.shape[0]):
        sessions = test.for_learner(i)
        mean, _ = learner.predict(sessions.take(slice(0, k)), sessions.context[:1])
        lost.append(truth[i].max() - truth[i, mean[0].argmax()])
    return float(np.mean(lost))


def test_kernel_over_past_learners_finds_the_kind_a_learner_is(monkeypatch: pytest.MonkeyPatch) -> None:
    train, _ = _kinds_log(800, seed=0)
    test, truth = _kinds_log(300, seed=1)
    with_kernel = MemoryMetaLearner(n_strategies=4, random_state=0).fit(train)
    assert np.any(with_kernel.level_params_[1:, 7] > 0)  # the kernel wins a level's calibration
    monkeypatch.setattr(memory, "KERNEL_GRID", ())
    without = MemoryMetaLearner(n_strategies=4, random_state=0).fit(train)
    assert np.all(without.level_params_[:, 7] == 0)
    assert _regret_at(with_kernel, test, truth, 3) < 0.8 * _regret_at(without, test, truth, 3)
    _, shares = with_kernel.neighbour_weights()
    assert np.all(shares[with_kernel.level_params_[:, 7] > 0] == 1.0)


def test_saved_kernel_predicts_identically() -> None:
    train, _ = _kinds_log(300, seed=0)
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(train)
    loaded = MemoryMetaLearner.from_bytes(learner.to_bytes())
    history = train.for_learner(0).take(slice(0, 3))
    for a, b in zip(
        learner.predict(history, history.context), loaded.predict(history, history.context), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_a_state_saved_before_the_kernel_loads_and_predicts_as_before(
    log: SessionLog, fitted: MemoryMetaLearner
) -> None:
    # An install's snapshot from before the kernel over past learners: six level parameters, no
    # embeddings. It must keep advising after an upgrade, as it was calibrated.
    # What it was: this learner with the kernel off at every level.
    before = MemoryMetaLearner.from_bytes(fitted.to_bytes())
    before.level_params_[:, [LevelParams._fields.index(f) for f in ("choice_weight", "kernel")]] = 0.0
    data = np.load(io.BytesIO(before.to_bytes()), allow_pickle=False)
    arrays = {key: data[key] for key in data.files if key not in {"embedding_", "habit_share_"}}
    arrays["level_params_"] = arrays["level_params_"][:, :6]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    loaded = MemoryMetaLearner.from_bytes(buffer.getvalue())
    history = log.for_learner(5).take(slice(0, 7))
    context = np.array([[1.5, -0.3], [0.1, 0.2]])
    for got, want in zip(loaded.predict(history, context), before.predict(history, context), strict=True):
        np.testing.assert_array_equal(got, want)


def test_explanation_at_a_kernel_level_names_the_learners_the_kernel_weighs() -> None:
    train, train_truth = _kinds_log(800, seed=0)
    test, truth = _kinds_log(300, seed=1)
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(train)
    # A level from 3 sessions on: one or two sessions seldom tell the kinds apart.
    level = int(np.flatnonzero((learner.level_params_[:, 7] > 0) & (learner.level_k_ >= 3))[0])
    k = int(learner.level_k_[level])
    kind = train_truth[:, 0] > 0.5  # kind 0 does well with strategy 0
    agree = []
    for i in range(60):
        sessions = test.for_learner(i).take(slice(0, k))
        parts = learner._predict_parts(sessions, sessions.context[:1], rows=True)
        assert parts.kernel_peers
        agree.append(np.mean(kind[parts.nb[0]] == (truth[i, 0] > 0.5)))
        evidence = learner.explain(sessions, sessions.context[0], 3)
        peers = parts.nb[0]
        assert evidence.n_sessions == round(learner.kernel_count_[peers, 3].sum())
        assert evidence.n_learners == np.count_nonzero(learner.kernel_count_[peers, 3])
    # The peers named are of the learner's own kind (half would be, by chance).
    assert np.mean(agree) > 0.85


def test_a_kernel_saved_without_its_learners_sessions_explains_by_neighbours() -> None:
    train, _ = _kinds_log(300, seed=0)
    learner = MemoryMetaLearner(n_strategies=4, random_state=0).fit(train)
    data = np.load(io.BytesIO(learner.to_bytes()), allow_pickle=False)
    arrays = {key: data[key] for key in data.files if key not in {"kernel_count_", "kernel_outcome_"}}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    loaded = MemoryMetaLearner.from_bytes(buffer.getvalue())
    level = int(np.flatnonzero(learner.level_params_[:, 7] > 0)[0])
    history = train.for_learner(0).take(slice(0, int(learner.level_k_[level])))
    for got, want in zip(
        loaded.predict(history, history.context), learner.predict(history, history.context), strict=True
    ):
        np.testing.assert_array_equal(got, want)
    parts = loaded._predict_parts(history, history.context[:1], rows=True)
    assert not parts.kernel_peers and parts.nb.shape[1] > 0
    assert loaded.explain(history, history.context[0], 1).n_learners >= 0
