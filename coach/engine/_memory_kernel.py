"""The memory learner's kernel over past learners: a new learner's mean residuals as the average
of the training learners', each weighed by how likely it makes the new learner's first sessions.

Every training learner is summed up by an embedding, the posterior mean of their per-strategy
residuals given all their sessions (under the learned record covariance), and by their habits,
the shares of their sessions given to each strategy (shrunk towards the population's). The
weight of training learner j given a new learner's first k sessions, strategies s_t and
residuals r_t, is

    exp(-sum_t (r_t - theta_j[s_t])^2 / (2 (noise[s_t] + spread))  +  c * sum_t log share_j[s_t])

that is, the empirical prior of the training learners, updated by the new learner's scores and,
with c > 0, by the strategies they picked. Where learners come in kinds, the average is a
mixture posterior, which no Gaussian update of the own record can be: a few sessions that fit
one kind of learner move every strategy the way that kind responds, however non-linear that is.
Which c (0 leaves the choices out) and spread, and whether the kernel is used at all, is chosen per
snapshot level by predicting held-out training learners, like the neighbours' weight.
"""

from __future__ import annotations

import numpy as np

from coach.engine._record import gain_cov, posterior_cov

# Kernels tried at calibration: (c, the weight of the strategies picked, 0 scoring the outcomes
# alone; spread beyond the session noise, in units of the mean session noise variance, as
# embeddings are estimates and no training learner matches a new one exactly).
KERNEL_GRID = tuple((c, spread) for c in (0.0, 1.0) for spread in (0.25, 1.0, 4.0))
# Pseudo-sessions of the population's shares in each learner's habits.
HABIT_PRIOR = 1.0
# Most training learners the kernel averages over (a random sample beyond): a few thousand
# already hold every kind of learner many times, and the cost grows with them.
SUPPORT = 2000
# Queries weighed at once: bounds the (queries, training learners) arrays on large logs.
_CHUNK = 256


def embeddings(full_n: np.ndarray, full_r: np.ndarray, noise: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Posterior mean (L, S) of each learner's residuals given all their sessions: counts and
    residual sums per strategy (L, S), session noise (S,), prior covariance (S, S)."""
    theta, _ = posterior_cov(np.zeros_like(full_r), full_n, full_r, gain_cov(full_n, noise, cov))
    return np.asarray(theta)


def support(n_learners: int, rng: np.random.Generator) -> np.ndarray:
    """The training learners (sorted indices) the kernel averages over."""
    if n_learners <= SUPPORT:
        return np.arange(n_learners)
    return np.sort(rng.choice(n_learners, SUPPORT, replace=False))


def habit_shares(full_n: np.ndarray) -> np.ndarray:
    """Each learner's share (L, S) of sessions per strategy, shrunk towards the population's."""
    population = full_n.sum(axis=0) / max(full_n.sum(), 1.0)
    population = np.maximum(population, 1e-6)
    return (full_n + HABIT_PRIOR * population) / (full_n.sum(axis=1, keepdims=True) + HABIT_PRIOR)


def kernel_mean(
    theta: np.ndarray,
    shares: np.ndarray,
    noise: np.ndarray,
    own_n: np.ndarray,
    own_r: np.ndarray,
    choice_weight: float,
    spread: float,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Weighted mean (m, S) of the embeddings `theta` (L, S) for m learners whose first sessions
    give `own_n` sessions and `own_r` residual sums per strategy (m, S); `exclude` (m,) leaves
    each query's own row out (-1: none).

    The Gaussian part of a weight depends on the sessions only through these sums: expanding
    the square, sum_t (r_t - theta[s_t])^2 / v[s_t] is, but for a term that is the same for
    every j, sum_s (n_s theta_s^2 - 2 r_s theta_s) / v_s; likewise the choices' part is
    sum_s n_s log share_s. So all weights are three matrix products."""
    m = own_n.shape[0]
    out = np.zeros((m, theta.shape[1]))
    for start in range(0, m, _CHUNK):
        part = slice(start, min(start + _CHUNK, m))
        kept = None if exclude is None else exclude[part]
        w = kernel_weights(theta, shares, noise, own_n[part], own_r[part], choice_weight, spread, kept)
        out[part] = (w @ theta) / w.sum(axis=1, keepdims=True)
    return out


def kernel_weights(
    theta: np.ndarray,
    shares: np.ndarray,
    noise: np.ndarray,
    own_n: np.ndarray,
    own_r: np.ndarray,
    choice_weight: float,
    spread: float,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Each training learner's weight (m, L) in `kernel_mean`, up to a factor per query (the
    largest is 1); `exclude` as there."""
    var = noise + spread * float(noise.mean())
    log_w = (own_r / var) @ theta.T - 0.5 * own_n @ (theta**2 / var).T
    if choice_weight:
        log_w += choice_weight * (own_n @ np.log(shares).T)
    if exclude is not None:
        rows = np.flatnonzero(exclude >= 0)
        log_w[rows, exclude[rows]] = -np.inf
    return np.exp(log_w - log_w.max(axis=1, keepdims=True))
