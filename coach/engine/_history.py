"""History columns: what a learner usually says before a session, as a feature of each session.

Some context columns are a reading of the learner as well as of the situation: someone who rates
their confidence high before every session probably knows more. Such a column also enters as the
learner's mean over their sessions up to and including the one at hand, centred on the
population and shrunk toward it by k0 pseudo-sessions, k0 = within-learner / between-learner
variance of the column in training (empirical Bayes): the posterior mean of the learner's own
mean. Both learners build it the same way, so training rows see it as predictions do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coach.engine.log import LogError


def check_columns(columns: Sequence[int], n_features: int) -> np.ndarray:
    """`columns` as distinct indices into a context of `n_features` columns."""
    out = np.asarray(columns, dtype=np.int64).reshape(-1)
    if np.unique(out).size != out.size or np.any((out < 0) | (out >= n_features)):
        raise LogError(
            f"history_columns must be distinct column indices in [0, {n_features}), got {columns!r}"
        )
    return out


def centred(context: np.ndarray, columns: Sequence[int], center: np.ndarray) -> np.ndarray:
    """The history `columns` of `context`, less their population mean `center`."""
    return context[:, np.asarray(columns, dtype=np.int64).reshape(-1)] - center


def shrinkage(values: np.ndarray, learner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within- over between-learner variance of each column of `values`, the pseudo-sessions by
    which a learner's mean is shrunk toward the population's (one-way random effects), and the
    within-learner variance."""
    if values.shape[1] == 0:
        return np.zeros(0), np.zeros(0)
    _, group = np.unique(learner, return_inverse=True)
    n = np.bincount(group).astype(np.float64)
    means = np.stack([np.bincount(group, weights=column) for column in values.T], axis=1) / n[:, None]
    within = ((values - means[group]) ** 2).sum(axis=0) / max(group.size - n.size, 1)
    # Learner means vary by their true spread plus the noise of averaging a few sessions.
    between = means.var(axis=0) - within * float(np.mean(1.0 / n))
    return np.clip(within / np.maximum(between, 1e-12), 0.0, 1e6), within


def running_means(
    values: np.ndarray, learner: np.ndarray, shrink: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each row of centred `values`, the shrunk mean over the same learner's rows up to and
    including it (rows are time-ordered within each learner), (n, columns); and the mean over
    rows of the share 1 / (count + k0) of a column's within-learner variance still unknown there."""
    if values.shape[1] == 0 or values.shape[0] == 0:
        return values, np.zeros(values.shape[1])
    order = np.argsort(learner, kind="stable")
    ordered, v = learner[order], values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    total = np.cumsum(v, axis=0)
    total -= (total - v)[starts][group]
    count = np.arange(ordered.size) - starts[group] + 1
    out = np.empty_like(values)
    out[order] = total / (count[:, None] + shrink)
    return out, np.mean(1.0 / (count[:, None] + shrink), axis=0)


def situation_means(values: np.ndarray, sums: np.ndarray, n_seen: int, shrink: np.ndarray) -> np.ndarray:
    """The shrunk means for situation rows with centred `values`, after `n_seen` sessions whose
    centred values sum to `sums`: each row counts as the next session."""
    return (sums + values) / (n_seen + 1.0 + shrink)
