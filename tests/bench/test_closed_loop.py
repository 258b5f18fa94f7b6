"""The closed loop's parts: the policies, the situations they advise for and the bookkeeping.

Its figures are not asserted here; `make bench` reports them against their targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench import closed_loop as loop
from coach.engine import MemoryMetaLearner, ModelMetaLearner, SessionLog
from coach.engine.policy import predict_mixed
from coach.engine.simulate import FEATURES, MAIN_EFFECT, N_STRATEGIES, STRATEGIES, UTILITY, make_population

KIND = slice(0, 5)
PROFILE = slice(7, 10)


def _term(truth: np.ndarray, realised: np.ndarray | None = None) -> loop.Term:
    n, t, _ = truth.shape
    return loop.Term(
        learners=np.arange(100, 100 + n),
        situations=np.random.default_rng(0).random((n, t, len(FEATURES))),
        truth=truth,
        realised=truth if realised is None else realised,
        habit_draw=np.zeros((n, t)),
    )


# Policies -----------------------------------------------------------------------------------------
def test_habit_picks_are_the_simulators_own() -> None:
    """The same uniform draws give the strategies `Population.sessions` picks."""
    population = make_population(30, np.random.default_rng(1))
    ids, n_sessions = np.arange(30), 12
    log = population.sessions(ids, n_sessions, np.random.default_rng(2))
    _, pick_rng, _ = np.random.default_rng(2).spawn(3)
    draws = pick_rng.random((ids.size * n_sessions, 1)).reshape(ids.size, n_sessions)
    picked = loop.habit_choices(population.habits[ids], draws)
    np.testing.assert_array_equal(picked, log.strategy.reshape(ids.size, n_sessions))


def test_habit_picks_follow_each_learners_habits() -> None:
    habits = np.array([[0.7, 0.2, 0.1, 0.0], [0.0, 0.0, 0.5, 0.5]])
    draws = np.random.default_rng(3).random((2, 40_000))
    picked = loop.habit_choices(habits, draws)
    shares = np.stack([np.bincount(row, minlength=4) / row.size for row in picked])
    np.testing.assert_allclose(shares, habits, atol=0.01)


def test_published_ranking_is_the_best_rated_strategy_first_in_the_catalogue() -> None:
    assert loop.published_choice() == int(np.argmax(MAIN_EFFECT)) == STRATEGIES.index("practice testing")
    assert UTILITY[loop.published_choice()] == "high"
    assert loop.published_choice(("low", "moderate", "high", "high")) == 2


def _fitted(n_learners: int = 80) -> tuple[ModelMetaLearner, MemoryMetaLearner, SessionLog, Any]:
    rng = np.random.default_rng(4)
    population = make_population(n_learners + 5, rng)
    train = population.sessions(np.arange(n_learners), 8, rng)
    columns = (FEATURES.index("confidence before"),)
    model = ModelMetaLearner(N_STRATEGIES, history_columns=columns).fit(train)
    memory = MemoryMetaLearner(N_STRATEGIES, history_columns=columns, random_state=0).fit(train)
    new = population.sessions(np.arange(n_learners, n_learners + 5), 6, rng)
    return model, memory, train, new


@pytest.fixture(scope="module")
def fitted() -> tuple[ModelMetaLearner, MemoryMetaLearner, SessionLog, Any]:
    return _fitted()


def test_product_policy_chooses_as_the_product_advises(fitted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same snapshot, history, situations and seed: `coach.advice.advice_from_engine` hands
    `recommend` the same mean, std and noise, and gets the same strategy and exploration flag,
    over enough seeds that some choices explore."""
    import coach.advice
    from coach.advice import _seed, advice_from_engine
    from coach.engine.policy import recommend
    from coach.models import Strategy
    from coach.snapshots import LoadedSnapshot

    calls: list[dict[str, Any]] = []

    def recorded(mean: np.ndarray, std: np.ndarray, **kwargs: Any) -> Any:
        calls.append({"mean": mean, "std": std, "noise": kwargs["noise"]})
        return recommend(mean, std, **kwargs)

    monkeypatch.setattr(coach.advice, "recommend", recorded)
    monkeypatch.setattr(loop, "recommend", recorded)
    model, memory, train, new = fitted
    strategies = [
        Strategy(slug=f"s{i}", name=name, utility=UTILITY[i], position=i) for i, name in enumerate(STRATEGIES)
    ]
    snapshot = LoadedSnapshot(
        id=1, strategy_slugs=[], feature_names=list(FEATURES), model=model, memory=memory
    )
    install = loop.install_from(train)
    explored = 0
    for k in range(40):
        t = k % 6
        history = new.take(slice(0, t))
        rows = loop.decision_rows(history.context, new.context[t], install)
        key = f"basis {k}"
        advice = advice_from_engine(
            strategies=strategies, snapshot=snapshot, history=history, context=rows, seed_key=key
        )
        choice = loop.product(model, history, rows, np.random.default_rng(_seed(key)))
        theirs, ours = calls[-2:]
        for name in ("mean", "std", "noise"):
            np.testing.assert_allclose(ours[name], theirs[name])
        assert np.any(ours["noise"] > model.session_noise(ours["mean"]))  # the situations' spread
        assert (advice.strategy.slug, advice.exploration) == (f"s{choice.strategy}", choice.explored)
        explored += choice.explored
    assert explored > 0


def test_greedy_takes_the_top_of_the_mixed_prediction(fitted: Any) -> None:
    model, _, train, new = fitted
    rows = train.context[:5]
    mean, _, _ = predict_mixed(model, new.take(slice(0, 3)), rows)
    choice = loop.greedy(model, new.take(slice(0, 3)), rows, np.random.default_rng(0))
    assert choice == loop.Choice(int(np.argmax(mean[0])), False, 0.0)


# What a policy knows before a session -------------------------------------------------------------
def _install() -> loop.Install:
    recent = np.array([[0.2, 0.5, 0.5], [0.8, 0.25, 1.0], [0.4, 0.75, 0.3]])
    deviations = np.tile([[0.5, -0.5, 0.1], [-0.1, 0.0, -0.1]], (20, 1))
    return loop.Install(recent, deviations, low=np.array([0.0, 0.0, 0.1]), high=np.array([1.0, 1.0, 3.0]))


def test_a_new_learner_is_advised_over_the_installs_recent_situations() -> None:
    coming = np.random.default_rng(5).random(len(FEATURES))
    rows = loop.decision_rows(np.zeros((0, len(FEATURES))), coming, _install())
    np.testing.assert_array_equal(rows[:, loop.UNKNOWN_BEFORE], _install().recent)
    np.testing.assert_array_equal(rows[:, KIND], np.tile(coming[KIND], (3, 1)))
    np.testing.assert_array_equal(rows[:, PROFILE], np.tile(coming[PROFILE], (3, 1)))


def test_a_few_own_sessions_are_topped_up_around_the_learners_medians() -> None:
    rng = np.random.default_rng(6)
    past, coming = rng.random((3, len(FEATURES))), rng.random(len(FEATURES))
    rows = loop.decision_rows(past, coming, _install())
    assert rows.shape == (loop.RECENT_OWN, len(FEATURES))
    values = rows[:, loop.UNKNOWN_BEFORE]
    np.testing.assert_array_equal(values[:3], past[:, loop.UNKNOWN_BEFORE])
    centre = np.median(past[:, loop.UNKNOWN_BEFORE], axis=0)
    expected = np.clip(
        centre + _install().deviations[: loop.RECENT_OWN - 3], [0.0, 0.0, 0.1], [1.0, 1.0, 3.0]
    )
    np.testing.assert_allclose(values[3:], expected)
    np.testing.assert_array_equal(rows[:, KIND], np.tile(coming[KIND], (loop.RECENT_OWN, 1)))


def test_a_long_history_gives_its_last_sessions_only() -> None:
    rng = np.random.default_rng(7)
    past, coming = rng.random((27, len(FEATURES))), rng.random(len(FEATURES))
    rows = loop.decision_rows(past, coming, _install())
    np.testing.assert_array_equal(rows[:, loop.UNKNOWN_BEFORE], past[-loop.RECENT_OWN :, loop.UNKNOWN_BEFORE])


def test_the_products_limits_on_recent_sessions_are_used() -> None:
    from learners import dataset

    assert (loop.RECENT_OWN, loop.RECENT_INSTALL) == (dataset.RECENT_OWN, dataset.RECENT_INSTALL)


def test_install_deviations_are_from_each_learners_own_median() -> None:
    context = np.zeros((5, len(FEATURES)))
    context[:, loop.UNKNOWN_BEFORE[0]] = [0.1, 0.3, 0.5, 0.9, 0.7]
    log = SessionLog(np.array([1, 1, 1, 2, 3]), np.zeros(5, dtype=int), context, np.full(5, 0.5))
    install = loop.install_from(log)
    np.testing.assert_allclose(install.deviations[:, 0], [-0.2, 0.0, 0.2])  # learners 2, 3: one session
    assert install.recent.shape == (5, 3)


# Bookkeeping --------------------------------------------------------------------------------------
def test_score_and_regret_read_the_strategy_studied() -> None:
    truth = np.array([[[0.5, 0.7, 0.6], [0.4, 0.3, 0.2]]])
    realised = np.array([[[0.45, 0.81, 0.6], [0.52, 0.3, 0.1]]])
    score, regret = loop.score_and_regret(_term(truth, realised), np.array([[2, 0]]))
    np.testing.assert_allclose(score, [[0.6, 0.52]])
    np.testing.assert_allclose(regret, [[0.1, 0.0]])


def test_summary_sums_regret_over_sessions_in_points() -> None:
    truth = np.tile(np.array([0.6, 0.5, 0.4]), (4, 3, 1))  # 4 learners, 3 sessions
    strategy = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]])
    played = loop.Played(strategy, np.zeros((4, 3), dtype=bool), np.zeros((4, 3)))
    out = loop.summary(_term(truth), played)
    np.testing.assert_allclose(out["regret"], [0.0, 10.0, 20.0])
    np.testing.assert_allclose(out["cumulative_regret"], [0.0, 10.0, 30.0])
    np.testing.assert_allclose(out["cumulative_regret_ci95"], [[0, 0], [10, 10], [30, 30]])  # all alike
    assert out["mean_score"] == pytest.approx(50.0)


def test_intervals_are_over_learners() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = loop.mean_ci95(values)
    half = 1.96 * np.std(values, ddof=1) / 2.0
    assert (mean, low, high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))


def test_paired_differences_are_per_learner() -> None:
    rng = np.random.default_rng(8)
    truth = rng.random((50, 9, 3))
    best = loop.Played(truth.argmax(axis=2), np.zeros((50, 9), dtype=bool), np.zeros((50, 9)))
    worst = loop.Played(truth.argmin(axis=2), best.explored, best.price)
    diff = loop.paired(_term(truth), best, worst)
    gap = 100.0 * (truth.max(axis=2) - truth.min(axis=2))
    assert diff["cumulative_regret"][-1] == pytest.approx(-gap.sum(axis=1).mean())
    assert diff["mean_score"] == pytest.approx(gap.mean())
    assert diff["early_regret"] == pytest.approx(-gap[:, :3].mean())
    assert diff["late_regret"] == pytest.approx(-gap[:, -3:].mean())
    same = loop.paired(_term(truth), best, best)
    assert same["mean_score_ci95"] == [0.0, 0.0]


def test_nights_split_the_term_into_near_equal_blocks() -> None:
    assert loop.night_bounds(30, 5) == [(0, 6), (6, 12), (12, 18), (18, 24), (24, 30)]
    assert loop.night_bounds(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert loop.night_bounds(2, 5) == [(0, 1), (1, 2)]


class Recorder:
    """A learner that records what it is fitted on and asked, and advises strategy (session % S)."""

    fits: list[SessionLog] = []
    asked: list[SessionLog] = []

    def fit(self, log: SessionLog) -> Recorder:
        Recorder.fits.append(log)
        return self

    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Recorder.asked.append(history)
        mean = np.zeros((context.shape[0], 3))
        mean[:, len(history) % 3] = 1.0
        return mean, np.full_like(mean, 0.1)


def test_the_loop_refits_on_the_term_so_far_and_predicts_from_each_growing_history() -> None:
    Recorder.fits, Recorder.asked = [], []
    rng = np.random.default_rng(9)
    truth = rng.random((2, 5, 3))
    term = _term(truth, realised=truth + 1.0)
    train = SessionLog(
        np.zeros(4, dtype=int), np.zeros(4, dtype=int), np.zeros((4, len(FEATURES))), np.ones(4)
    )
    played, _ = loop.follow_engine(
        term,
        train=train,
        install=loop.install_from(train),
        factory=Recorder,  # type: ignore[arg-type]
        choose=loop.greedy,
        n_nights=2,
        rng=rng,
    )
    np.testing.assert_array_equal(played.strategy, np.tile(np.arange(5) % 3, (2, 1)))
    assert loop.night_bounds(5, 2) == [(0, 2), (2, 5)]
    assert [len(log) for log in Recorder.fits] == [4, 4 + 2 * 2]
    refit = Recorder.fits[1]
    np.testing.assert_array_equal(refit.learner[4:], [100, 100, 101, 101])
    np.testing.assert_allclose(refit.outcome[4:], truth[:, [0, 1], [0, 1]].ravel() + 1.0)
    # One prediction per learner and session, from that learner's sessions so far.
    assert [len(h) for h in Recorder.asked] == [t for t in range(5) for _ in range(2)]
    last = Recorder.asked[-1]
    np.testing.assert_array_equal(last.learner, [101] * 4)
    np.testing.assert_allclose(last.outcome, truth[1, np.arange(4), np.arange(4) % 3] + 1.0)
    np.testing.assert_array_equal(last.context, term.situations[1, :4])


def test_every_policy_meets_the_same_term() -> None:
    """A quick run: the term does not depend on the policy, and the combination's row is there
    when asked for, never made up."""
    from bench.run import _simulated_factories

    factories = _simulated_factories(0)
    out = loop.run(factories, **loop.QUICK, memory=True)
    assert out["policies"]["combination"] == {
        "label": loop.POLICIES["combination"],
        "available": False,
        "why": loop.NO_COMBINATION,
    }
    n = loop.QUICK["n_sessions"]
    for name in ("habits", "published", "model_greedy", "product", "memory_greedy"):
        row = out["policies"][name]
        assert len(row["cumulative_regret"]) == n and row["mean_score"] > 0
    assert out["policies"]["published"]["strategy_share"][loop.published_choice()] == 1.0
    again = loop.run(factories, **loop.QUICK, combination=factories["combined"])
    assert "memory_greedy" not in again["policies"]
    assert again["policies"]["combination"]["available"] is not False
    assert len(again["policies"]["combination"]["cumulative_regret"]) == n
    assert (
        again["policies"]["product"]["cumulative_regret"] == out["policies"]["product"]["cumulative_regret"]
    )


def test_the_entry_point_starts() -> None:
    """Run as `python -m`, it imports bench.run and the report in an order of its own."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "bench.closed_loop", "--help"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
