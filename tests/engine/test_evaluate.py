"""Held-out evaluation: what a predictor is shown, and the figures it gets."""

from __future__ import annotations

import numpy as np
import pytest

from coach.engine.evaluate import later_session_scores, split_learners
from coach.engine.log import SessionLog

S = 3


def held_out(lengths: dict[int, int], seed: int = 0) -> SessionLog:
    """Learners with the given numbers of sessions; context column 0 numbers each learner's
    sessions, column 1 is the learner's id, so a predictor can tell what it was given."""
    rng = np.random.default_rng(seed)
    learner = np.concatenate([np.full(n, i) for i, n in lengths.items()])
    position = np.concatenate([np.arange(n) for n in lengths.values()])
    return SessionLog(
        learner=learner,
        strategy=rng.integers(0, S, learner.size),
        context=np.column_stack([position, learner]).astype(float),
        outcome=rng.uniform(0, 1, learner.size),
    )


def constant(value: float, std: float = 0.1):  # type: ignore[no-untyped-def]
    def predict(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = context.shape[0]
        return np.full((m, S), value), np.full((m, S), std)

    return predict


def test_each_k_sees_the_first_k_sessions_and_predicts_every_later_one() -> None:
    log = held_out({0: 4, 1: 7})
    seen: list[tuple[int, list[float], list[float]]] = []

    def spy(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append((len(history), history.context[:, 0].tolist(), context[:, 0].tolist()))
        return constant(0.5)(history, context)

    scores = later_session_scores({"spy": spy}, log, ks=(0, 2, 5))
    assert (0, [], [0, 1, 2, 3]) in seen
    assert (2, [0, 1], [2, 3]) in seen
    assert (5, [0, 1, 2, 3, 4], [5, 6]) in seen
    assert len(seen) == 5  # the learner with 4 sessions has nothing after 5
    assert scores["n"] == [11, 7, 2]
    assert scores["n_learners"] == [2, 2, 1]
    assert scores["held_out_learners"] == 2


def test_rmse_and_coverage_pool_the_predictions() -> None:
    log = held_out({0: 5, 1: 9, 2: 3})
    scores = later_session_scores({"half": constant(0.5, std=0.2)}, log, ks=(0, 1))
    figures = scores["learners"]["half"]
    error = 0.5 - log.outcome
    assert figures["rmse"][0] == pytest.approx(np.sqrt(np.mean(error**2)))
    assert figures["coverage90"][0] == pytest.approx(np.mean(np.abs(error) <= 1.645 * 0.2))
    later = np.concatenate([np.arange(5) >= 1, np.arange(9) >= 1, np.arange(3) >= 1])
    assert figures["rmse"][1] == pytest.approx(np.sqrt(np.mean(error[later] ** 2)))


def test_interval_is_over_learners_and_needs_two_of_them() -> None:
    log = held_out({i: 12 for i in range(30)}, seed=4)
    scores = later_session_scores({"half": constant(0.5)}, held_out({0: 3, 1: 20}), ks=(0, 5))
    assert scores["learners"]["half"]["rmse_ci95"][1] is None  # only one learner has 5+ sessions
    figures = later_session_scores({"half": constant(0.5)}, log, ks=(0, 10, 12))["learners"]["half"]
    low, high = figures["rmse_ci95"][0]
    assert low < figures["rmse"][0] < high
    # Fewer predictions per learner at k=10, same learners: a wider interval.
    assert figures["rmse_ci95"][1][1] - figures["rmse_ci95"][1][0] > high - low
    assert figures["rmse"][2] is None and figures["coverage90"][2] is None
    assert figures["rmse_ci95"][2] is None


def test_a_better_predictor_scores_better() -> None:
    log = held_out({i: 10 for i in range(20)}, seed=1)
    truth = float(np.mean(log.outcome))
    scores = later_session_scores({"mean": constant(truth), "off": constant(truth + 0.3)}, log, ks=(0,))
    assert scores["learners"]["mean"]["rmse"][0] < scores["learners"]["off"]["rmse"][0]


def test_split_keeps_every_learner_on_one_side() -> None:
    log = held_out({i: 4 for i in range(10)})
    training, test = split_learners(log, test_share=0.2, seed=0)
    assert len(np.unique(test.learner)) == 2
    assert not set(np.unique(training.learner)) & set(np.unique(test.learner))
    assert len(training) + len(test) == len(log)


def test_a_per_learner_predictor_is_made_for_each_held_out_learner_and_called_last() -> None:
    log = held_out({0: 5, 1: 9, 2: 3})
    calls: list[str] = []

    def first(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append("first")
        return constant(0.5)(history, context)

    def make(learner: int):  # type: ignore[no-untyped-def]
        def predict(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            calls.append(f"learner {learner}")
            assert np.all(context[:, 1] == learner)  # made for the learner whose sessions it predicts
            return constant(0.1 * (learner + 1))(history, context)

        return predict

    scores = later_session_scores({"first": first}, log, ks=(0,), per_learner={"own": make})
    assert calls == ["first", "learner 0", "first", "learner 1", "first", "learner 2"]
    predicted = 0.1 * (log.learner + 1)
    assert scores["learners"]["own"]["rmse"][0] == pytest.approx(
        np.sqrt(np.mean((predicted - log.outcome) ** 2))
    )
