"""Cold-start knowledge from published evidence on learning techniques.

Dunlosky et al. (2013) rated ten techniques by utility: high, moderate or low. The engine turns a
rating into an expected gain over the population's average outcome, in outcome units (the product
uses self-test score / 100), and a spread that says how little a rating alone tells about one
learner. The gains are deliberately modest: the ratings order the techniques, they do not measure
effect sizes for a given person or task.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RATINGS = ("high", "moderate", "low")
UTILITY_GAIN = {"high": 0.08, "moderate": 0.04, "low": 0.0}
PRIOR_SPREAD = 0.15


def evidence_prior(ratings: Sequence[str]) -> np.ndarray:
    """Expected gain (S,) of each strategy over the average, from its utility rating."""
    unknown = sorted({r for r in ratings if r not in UTILITY_GAIN})
    if unknown:
        raise ValueError(f"unknown utility rating(s) {unknown}; expected one of {RATINGS}")
    gain = np.array([UTILITY_GAIN[r] for r in ratings], dtype=np.float64)
    return gain - gain.mean()


def prior_predict(
    gain: np.ndarray, n_situations: int, *, base: float = 0.6, spread: float = PRIOR_SPREAD
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (m, S) from the evidence alone: what a brand-new install can say."""
    gain = np.asarray(gain, dtype=np.float64)
    mean = np.broadcast_to(base + gain, (n_situations, gain.shape[0])).copy()
    return mean, np.full_like(mean, spread)
