"""Building blocks of the memory learner: snapshot levels and their search, per-learner cells,
the population model, noise and feature weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import ThreadpoolController

from coach.engine.stats import column_moments


@dataclass
class Level:
    k: int
    keys: np.ndarray  # (n, dk)
    count: np.ndarray  # (n, S) later sessions per strategy
    total: np.ndarray  # (n, S) residual sums of those sessions
    index: NearestNeighbors
    outcome: np.ndarray  # (n, S) outcome sums of those sessions, for explanations

    informative: bool = True  # False when no key tells learners apart
    sq_norms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.informative = bool(self.keys.shape[0] > 1 and np.ptp(self.keys, axis=0).max(initial=0.0) > 1e-12)
        self.sq_norms = np.einsum("ij,ij->i", self.keys, self.keys)


def nearest(level: Level, keys: np.ndarray, K: int) -> np.ndarray:
    """Rows of the K nearest snapshots to each key, (m, K), in no particular order: a few
    queries are quicker with one product than through a search index."""
    dist = level.sq_norms[None, :] - 2.0 * (keys @ level.keys.T)
    if dist.shape[1] <= K:
        return np.broadcast_to(np.arange(dist.shape[1]), dist.shape)
    return np.argpartition(dist, K - 1, axis=1)[:, :K]


@dataclass
class HeldOut:
    """Fit-time bookkeeping: per level, the learners it holds and the neighbour means of the
    held-out learners worked out so far (rows by learner index)."""

    n_learners: int
    n_strategies: int
    alive: list[np.ndarray] = field(default_factory=list)
    mean: list[np.ndarray] = field(default_factory=list)
    done: list[np.ndarray] = field(default_factory=list)

    def add(self, alive: np.ndarray) -> None:
        self.alive.append(alive)
        self.mean.append(np.zeros((self.n_learners, self.n_strategies)))
        self.done.append(np.zeros(self.n_learners, dtype=bool))

    def store(self, j: int, ids: np.ndarray, mean: np.ndarray) -> None:
        self.mean[j][ids] = mean
        self.done[j][ids] = True


# Pseudo-sessions that stand for "this source of evidence gets no weight".
OFF = 1e9


def refine(nb_n: np.ndarray, nb_r: np.ndarray, below: np.ndarray, lam: float, keep: float) -> np.ndarray:
    """Neighbours' mean residual, shrunk with `lam` pseudo-sessions towards `keep` times the
    level below's: a level refines the one below as far as it predicts better. At `OFF` the
    neighbours count for nothing, exactly, so predicting need not search for them."""
    if lam >= OFF:
        return np.broadcast_to(keep * below, np.broadcast_shapes(nb_r.shape, below.shape)).copy()
    return (nb_r + lam * keep * below) / (nb_n + lam)


_CONTROLLER: ThreadpoolController | None = None


def single_thread() -> Any:
    """A brute-force search over a few thousand rows is quicker on one thread than on a pool
    that has to wake up, and far steadier when the machine is busy."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


def group_positions(learner: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Learner index 0..L-1 of each row and the row's position within that learner's sessions."""
    _, idx = np.unique(learner, return_inverse=True)
    idx = idx.ravel()
    n_groups = int(idx.max()) + 1
    order = np.argsort(idx, kind="stable")
    counts = np.bincount(idx, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    pos = np.empty_like(idx)
    pos[order] = np.arange(idx.size) - np.repeat(starts, counts)
    return idx, pos, n_groups


def cells(idx: np.ndarray, s: np.ndarray, values: np.ndarray, n_groups: int, S: int) -> np.ndarray:
    """Sum of `values` per (learner, strategy) cell, (n_groups, S)."""
    flat = np.bincount(idx * S + s, weights=values, minlength=n_groups * S)
    return flat.reshape(n_groups, S)


def group_mean(Z: np.ndarray, idx: np.ndarray, n_groups: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Mean of Z's rows per group, over the rows selected by the boolean `rows` if given (taken
    a column at a time, not as a copy of Z's selected rows)."""
    if rows is not None:
        idx = idx[rows]
    counts = np.maximum(np.bincount(idx, minlength=n_groups), 1)
    sums = np.zeros((n_groups, Z.shape[1]))
    for j in range(Z.shape[1]):
        column = Z[:, j] if rows is None else Z[rows, j]
        sums[:, j] = np.bincount(idx, weights=column, minlength=n_groups)
    return sums / counts[:, None]


def population_mean(Z: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Population expectation (m, S) of every strategy in each situation."""
    return coef[:, 0][None, :] + Z @ coef[:, 1:].T


def population_mean_taken(Z: np.ndarray, coef: np.ndarray, s: np.ndarray) -> np.ndarray:
    """`population_mean(Z, coef)[arange(m), s]`, the expectation of the strategy each session
    took, without the (m, S) matrix (hundreds of MB on millions of sessions)."""
    out = np.empty(Z.shape[0])
    for j in range(coef.shape[0]):
        rows = s == j
        out[rows] = coef[j, 0] + Z[rows] @ coef[j, 1:]
    return out


def population_ridge_fit(
    Z: np.ndarray, s: np.ndarray, y: np.ndarray, S: int, target: np.ndarray, prior_weight: float, ridge: float
) -> np.ndarray:
    """Per-strategy ridge regression on the situation; the intercept leans on `target`
    (population mean plus any published-evidence gain) with `prior_weight` pseudo-sessions,
    which is what a strategy nobody has tried yet gets."""
    d = Z.shape[1]
    coef = np.zeros((S, d + 1))
    penalty = np.diag(np.r_[max(prior_weight, 1e-6), np.full(d, max(ridge, 1e-6))])
    for j in range(S):
        rows = s == j
        D = np.hstack([np.ones((int(rows.sum()), 1)), Z[rows]])
        rhs = D.T @ y[rows]
        rhs[0] += max(prior_weight, 1e-6) * target[j]
        coef[j] = np.linalg.solve(D.T @ D + penalty, rhs)
    return coef


def noise_variance(idx: np.ndarray, s: np.ndarray, r: np.ndarray, n_groups: int, S: int) -> np.ndarray:
    """Within-learner session-to-session variance per strategy, pooled towards the overall one."""
    n = cells(idx, s, np.ones_like(r), n_groups, S)
    total = cells(idx, s, r, n_groups, S)
    ss = cells(idx, s, r**2, n_groups, S)
    within = ss - np.divide(total**2, n, out=np.zeros_like(total), where=n > 0)
    dof = n.sum(axis=0) - (n > 0).sum(axis=0)
    pooled = within.sum() / dof.sum() if dof.sum() > 0 else float(np.var(r)) or 1e-4
    pooled = max(float(pooled), 1e-6)
    strength = 20.0  # sessions' worth of weight on the pooled value
    return (within.sum(axis=0) + strength * pooled) / (dof + strength)


def between_share(Z: np.ndarray, idx: np.ndarray, n_groups: int) -> np.ndarray:
    """Per feature, the share of its variance that lies between learners: profile-like features
    count fully in the search, session-to-session ones little."""
    if Z.shape[1] == 0:
        return np.zeros(0)
    means = group_mean(Z, idx, n_groups)
    total = column_moments(Z)[1] ** 2
    # The variance of each session's learner mean, weighing each learner by their sessions,
    # without an (n, d) array of those means.
    weights = np.bincount(idx, minlength=n_groups) / idx.shape[0]
    between = weights @ (means - weights @ means) ** 2
    share = np.divide(between, total, out=np.zeros_like(total), where=total > 1e-12)
    return np.sqrt(np.clip(share, 0.0, 1.0))
