"""Constants of the intervals the engine reports, shared by its policy, evaluation and callers;
column statistics and the grouping of learners by strategies used that the learners' fits share."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

Z90 = 1.645  # two-sided 90% normal quantile: predicted-score intervals are 90%


def column_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each column of X (n, d), as `X.mean(axis=0)` and
    `X.std(axis=0)` give them, one column at a time: without a temporary the size of X, which
    on millions of sessions is hundreds of MB."""
    columns = [X[:, j] for j in range(X.shape[1])]
    return np.array([c.mean() for c in columns]), np.array([c.std() for c in columns])


# Strategies from which blocks over the strategies used pay for their grouping: below it one
# dense S x S inverse per learner is cheaper.
BLOCKS_FROM = 16


def used_blocks(used: np.ndarray, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Learners (rows of `used`, (L, S) bool) grouped for batched m x m algebra over the
    strategies each used: (rows, idx), idx (len(rows), m) the strategies used first, padded with
    unused ones to m, the next power of two (at most S), at most `chunk` learners a group.
    Learners who used nothing are in no group."""
    s = used.shape[1]
    count = used.sum(axis=1)
    size = np.where(count > 0, np.minimum(2 ** np.ceil(np.log2(np.maximum(count, 1))), s), 0).astype(int)
    order = np.argsort(~used, axis=1, kind="stable")
    for m in np.unique(size[size > 0]):
        of_size = np.flatnonzero(size == m)
        for rows in np.array_split(of_size, -(-of_size.size // chunk)):
            yield rows, order[rows, :m]
