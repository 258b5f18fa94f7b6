"""Small synthetic populations shared by the tests of both learners."""

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
