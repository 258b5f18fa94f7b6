"""Off-policy estimates against a maintained implementation, coba, on the same logged sessions.

coba evaluates a learner on logged interactions (context, actions, logged action, reward,
propensity): with eval="ips" it scores each logged action by the learner's probability of it
times reward / propensity; with eval="dr" it fits its own reward model (a Vowpal Wabbit
regression on the action and action x context) and adds the weighted residual of the logged
action. Our estimators are given that same model's predictions, so the two must agree to
rounding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from coba import SequentialCB
from coba.environments.filters import OpeRewards

from coach.engine.policy_eval import PolicyLog, off_policy_value
from coach.engine.simulate import N_STRATEGIES, make_population

ACTIONS = [f"strategy {a}" for a in range(N_STRATEGIES)]  # labels, so the model sees categories
# coba's DR model: intercept, action, action x context (its SequentialCB default).
FEATURES = [1, "a", "xa"]
TOLERANCE = 1e-9


class Logged:
    """Habitual sessions of simulated learners; the propensity is the learner's habit."""

    def __init__(self, seed: int = 0, n_learners: int = 60, n_sessions: int = 10) -> None:
        rng = np.random.default_rng(seed)
        population = make_population(n_learners, rng)
        sessions = population.sessions(np.arange(n_learners), n_sessions, rng)
        self.context = sessions.context
        self.action = sessions.strategy
        self.reward = sessions.outcome
        self.propensity = population.habits[sessions.learner, sessions.strategy]
        truth = population.true_mean(sessions.learner, sessions.context)
        # A stochastic target leaning to what works, and a greedy one.
        tilted = np.exp(20.0 * (truth - truth.max(axis=1, keepdims=True)))
        self.stochastic = tilted / tilted.sum(axis=1, keepdims=True)
        self.greedy = truth.argmax(axis=1)
        self.row = {tuple(x): i for i, x in enumerate(self.context)}

    def read(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self.action)):
            yield {
                "context": tuple(self.context[i]),
                "actions": ACTIONS,
                "action": ACTIONS[self.action[i]],
                "reward": float(self.reward[i]),
                "probability": float(self.propensity[i]),
            }

    def policy_log(self) -> PolicyLog:
        return PolicyLog(action=self.action, reward=self.reward, propensity=self.propensity)

    def coba_model(self) -> np.ndarray:
        """coba's direct-method predictions (n, S), from the reward model its DR fits on this log."""
        rows = OpeRewards("DM", target="eval_rewards", features=FEATURES).filter(self.read())
        return np.array([[row["eval_rewards"](a) for a in ACTIONS] for row in rows])


class Scorer:
    """A coba learner that states the target's probability of any action (used by eval="ips")."""

    def __init__(self, logged: Logged, target: np.ndarray) -> None:
        self.logged, self.target = logged, target

    def score(self, context: Any, actions: Any, action: Any) -> float:
        if context is None:  # coba probes whether a learner scores
            return 0.0
        return float(self.target[self.logged.row[tuple(context)], ACTIONS.index(action)])

    def predict(self, context: Any, actions: Any) -> Any:
        raise NotImplementedError("evaluated from its scores alone")

    def learn(self, *args: Any, **kwargs: Any) -> None:
        """Evaluation only."""


class Chooser:
    """A coba learner that picks the target's strategy (used by eval="dr")."""

    def __init__(self, logged: Logged, choice: np.ndarray) -> None:
        self.logged, self.choice = logged, choice

    def predict(self, context: Any, actions: Any) -> str:
        return ACTIONS[self.choice[self.logged.row[tuple(context)]]]

    def learn(self, *args: Any, **kwargs: Any) -> None:
        """Evaluation only."""


def coba_value(logged: Logged, learner: Any, ope: str) -> float:
    rows = SequentialCB(record=["reward"], learn=None, eval=ope).evaluate(logged, learner)
    return float(np.mean([row["reward"] for row in rows]))


@pytest.fixture(scope="module")
def logged() -> Logged:
    return Logged()


def test_ips_agrees_with_coba(logged: Logged) -> None:
    ours = off_policy_value(logged.policy_log(), target=logged.stochastic, method="ips")
    assert ours.value == pytest.approx(
        coba_value(logged, Scorer(logged, logged.stochastic), "ips"), abs=TOLERANCE
    )


def test_doubly_robust_agrees_with_coba_for_a_greedy_target(logged: Logged) -> None:
    target = np.eye(N_STRATEGIES)[logged.greedy]
    ours = off_policy_value(logged.policy_log(), target=target, method="dr", reward_hat=logged.coba_model())
    assert ours.value == pytest.approx(
        coba_value(logged, Chooser(logged, logged.greedy), "dr"), abs=TOLERANCE
    )


def test_doubly_robust_agrees_with_cobas_rewards_for_a_stochastic_target(logged: Logged) -> None:
    """coba's evaluator samples one action from a stochastic learner; its per-action DR rewards,
    averaged under the target's probabilities, are the expectation our estimator computes."""
    rows = list(OpeRewards("DR", target="eval_rewards", features=FEATURES).filter(logged.read()))
    dr = np.array([[row["eval_rewards"](a) for a in ACTIONS] for row in rows])
    expected = float(np.mean(np.sum(logged.stochastic * dr, axis=1)))
    ours = off_policy_value(
        logged.policy_log(), target=logged.stochastic, method="dr", reward_hat=logged.coba_model()
    )
    assert ours.value == pytest.approx(expected, abs=TOLERANCE)


def test_the_logs_are_not_trivial(logged: Logged) -> None:
    """The checks above compare numbers that differ between estimators and targets."""
    log, model = logged.policy_log(), logged.coba_model()
    greedy = np.eye(N_STRATEGIES)[logged.greedy]
    ips = off_policy_value(log, target=greedy).value
    dr = off_policy_value(log, target=greedy, method="dr", reward_hat=model).value
    dm = off_policy_value(log, target=greedy, method="dm", reward_hat=model).value
    assert min(abs(ips - dr), abs(dr - dm), abs(ips - dm)) > 1e-3
    assert np.ptp(model, axis=1).min() > 0.0  # the model tells the strategies apart
