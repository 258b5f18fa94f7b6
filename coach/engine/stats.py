"""Constants of the intervals the engine reports, shared by its policy, evaluation and callers;
column statistics the learners' fits share."""

from __future__ import annotations

import numpy as np

Z90 = 1.645  # two-sided 90% normal quantile: predicted-score intervals are 90%


def column_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each column of X (n, d), as `X.mean(axis=0)` and
    `X.std(axis=0)` give them, one column at a time: without a temporary the size of X, which
    on millions of sessions is hundreds of MB."""
    columns = [X[:, j] for j in range(X.shape[1])]
    return np.array([c.mean() for c in columns]), np.array([c.std() for c in columns])
