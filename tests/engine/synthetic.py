"""Small synthetic populations and helpers shared by the learners' tests."""

from __future__ import annotations

import numpy as np

from coach.engine.log import SessionLog


def trait_in_ratings(
    n_learners: int, n_sessions: int, seed: int, level: float = 0.0, noise: float = 0.2
) -> tuple[SessionLog, np.ndarray]:
    """A learner trait seen only through a noisy rating before each session; it decides how
    much strategy 1 beats strategy 0, and by `level` how well the learner does with any."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(0.0, 1.0, n_learners)
    learner = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, 2, learner.size)
    rating = trait[learner] + rng.normal(0.0, 1.0, learner.size)
    effect = (0.1 * strategy + level) * trait[learner]
    outcome = 0.5 + effect + rng.normal(0.0, noise, learner.size)
    return SessionLog(learner, strategy, rating[:, None], outcome), trait


def first_sessions(log: SessionLog, learner: int, k: int) -> SessionLog:
    """The learner's first k sessions: a history as `predict` takes it."""
    return log.for_learner(learner).take(slice(0, k))


def small_log(n_learners: int = 20, n_sessions: int = 5, s: int = 3, seed: int = 0) -> SessionLog:
    """A tiny log of bounded outcomes, later strategies slightly better, two context columns."""
    rng = np.random.default_rng(seed)
    learner = np.repeat(np.arange(n_learners), n_sessions)
    strategy = rng.integers(0, s, learner.size)
    outcome = np.clip(0.5 + 0.1 * strategy + rng.normal(0.0, 0.1, learner.size), 0.0, 1.0)
    return SessionLog(learner, strategy, rng.normal(size=(learner.size, 2)), outcome)
