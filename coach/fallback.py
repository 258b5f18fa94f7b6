"""Ranking before the engine has a snapshot: published evidence, moved by the learner's own scores.

A conjugate normal update per strategy: the prior is the learner's overall level plus the
strategy's evidence gain; each of the learner's own scored sessions with the strategy pulls
the estimate toward their observed mean. Pure numpy, on the 0-100 score scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coach.engine.prior import PRIOR_SPREAD, evidence_prior

POPULATION_SCORE = 60.0  # typical self-test score of a first session, before anything is known
SESSION_NOISE = 18.0  # spread of one learner's scores with one strategy, in points
PRIOR_SESSIONS = 3.0  # how many sessions the overall level counts for against the learner's own mean


def evidence_ranking(
    utilities: Sequence[str], counts: np.ndarray, means: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected score and its std (S,) from utility ratings and the learner's per-strategy record."""
    counts = np.asarray(counts, dtype=np.float64)
    means = np.nan_to_num(np.asarray(means, dtype=np.float64), nan=0.0)
    total = counts.sum()
    overall = (counts * means).sum() / total if total else POPULATION_SCORE
    level = (PRIOR_SESSIONS * POPULATION_SCORE + total * overall) / (PRIOR_SESSIONS + total)
    prior_mean = level + 100.0 * evidence_prior(utilities)
    prior_var = (100.0 * PRIOR_SPREAD) ** 2
    post_var = 1.0 / (1.0 / prior_var + counts / SESSION_NOISE**2)
    post_mean = post_var * (prior_mean / prior_var + counts * means / SESSION_NOISE**2)
    return np.clip(post_mean, 0.0, 100.0), np.sqrt(post_var)
