"""Drift of a learner's offsets between sessions: the model learner's posterior as a Kalman filter.

People improve with practice and change between courses, so a learner's first session need not
say as much about them as their last. The offsets theta follow a random walk from one session
to the next, theta' = theta + w with w ~ N(0, q G): the prior covariance G scaled by the drift
rate q. The posterior over the learner's current offsets is then a Kalman filter over their
sessions: a rank-one update per session (exact for the identity link, a Laplace step at the
mode of the one new outcome for the logit link) and the covariance grown by q G before the next,
O(S^2) per session. At q = 0 it is the static posterior.

q is meta-learned: `select` scores a grid of rates by the likelihood each gives every session
of held-out training learners from that learner's earlier sessions only, and keeps q > 0 only
when its gain over q = 0, per learner, stands clear of the noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coach.engine._mixed import LOGIT, sigmoid

# Drift rates tried, as a share of G per session: from a change over hundreds of sessions to one
# over a few.
GRID = (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
MIN_LEARNERS = 20  # held-out learners below which drift is not learned
_CLEAR = 2.0  # standard errors by which a rate must beat q = 0 to be kept
_NEWTON_STEPS = 5
_NEWTON_TOL = 1e-8
_CHUNK = 512  # learners filtered at once by `one_step`


class Noise(NamedTuple):
    """What one session's outcome adds around the linear predictor."""

    link: str
    per_strategy: np.ndarray  # (S,) noise variance of each strategy (identity link)
    dispersion: float  # quasi-binomial dispersion (logit link; 1 for 0/1 outcomes)


class Selection(NamedTuple):
    """The chosen rate and, per rate of `GRID`, the mean log likelihood per held-out session."""

    rate: float
    scores: np.ndarray


def shift(mean: np.ndarray, var: np.ndarray, y: np.ndarray, noise: Noise) -> tuple[np.ndarray, np.ndarray]:
    """For each row, how far the posterior mean of the linear predictor of the strategy played
    moves with its outcome, and the information of the outcome there; `mean` and `var` are the
    predictor's prior mean (fixed part included) and variance.

    Identity link: the Kalman update. Logit link: Newton steps to the mode of prior times one
    outcome's likelihood, the information taken at the mode (one step from the prior mean is the
    extended Kalman filter)."""
    if noise.link != LOGIT:
        info = 1.0 / noise.per_strategy
        return var * info * (y - mean) / (1.0 + var * info), np.broadcast_to(info, mean.shape)
    mode = mean.copy()
    for _ in range(_NEWTON_STEPS):
        p = sigmoid(mode)
        info = p * (1.0 - p) / noise.dispersion
        step = ((y - p) / noise.dispersion - (mode - mean) / var) / (info + 1.0 / var)
        mode += step
        if np.max(np.abs(step)) < _NEWTON_TOL:
            break
    p = sigmoid(mode)
    return mode - mean, p * (1.0 - p) / noise.dispersion


def step(
    mean: np.ndarray, cov: np.ndarray, s: int, fixed: float, y: float, noise: Noise, drift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One learner's belief (mean (S,), covariance (S, S)) after a session with strategy `s`
    and outcome `y`, for the next session: updated, then grown by `drift` (q G)."""
    info_noise = noise if noise.link == LOGIT else noise._replace(per_strategy=noise.per_strategy[s : s + 1])
    moved, info = shift(np.array([fixed + mean[s]]), np.array([cov[s, s]]), np.array([y]), info_noise)
    column = cov[:, s].copy()
    mean = mean + column * (float(moved[0]) / cov[s, s])
    cov = cov - np.outer(column, column) * (float(info[0]) / (1.0 + float(info[0]) * cov[s, s]))
    return mean, cov + drift


def one_step(
    cov0: np.ndarray,
    rates: np.ndarray,
    learner: np.ndarray,
    strategy: np.ndarray,
    fixed: np.ndarray,
    y: np.ndarray,
    noise: Noise,
) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and variance (len(rates), n) of the linear predictor of every row from the
    same learner's earlier rows only (rows time-ordered within each learner), filtered at each
    drift rate from the prior N(0, cov0). Learners are filtered side by side, a session at a time."""
    _, group, counts = np.unique(learner, return_inverse=True, return_counts=True)
    # Learners by decreasing number of sessions: those still active at step t are a prefix.
    by_size = np.argsort(-counts, kind="stable")
    rank_of = np.empty_like(by_size)
    rank_of[by_size] = np.arange(by_size.size)
    order = np.lexsort((np.arange(learner.size), rank_of[group]))
    starts = np.r_[0, np.cumsum(counts[by_size])[:-1]]
    sizes = counts[by_size]
    mean_out = np.empty((rates.size, y.size))
    var_out = np.empty((rates.size, y.size))
    for lo in range(0, sizes.size, _CHUNK):
        chunk = slice(lo, lo + _CHUNK)
        for i, rate in enumerate(rates):
            m, v = _filter_chunk(
                cov0, float(rate), starts[chunk], sizes[chunk], order, strategy, fixed, y, noise
            )
            mean_out[i, m[0]] = m[1]
            var_out[i, v[0]] = v[1]
    return mean_out, var_out


def _filter_chunk(
    cov0: np.ndarray,
    rate: float,
    starts: np.ndarray,
    sizes: np.ndarray,
    order: np.ndarray,
    strategy: np.ndarray,
    fixed: np.ndarray,
    y: np.ndarray,
    noise: Noise,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    s_count = cov0.shape[0]
    n_learners = sizes.size
    mean = np.zeros((n_learners, s_count))
    cov = np.broadcast_to(cov0, (n_learners, s_count, s_count)).copy()
    rows_out, means_out, vars_out = [], [], []
    for t in range(int(sizes.max())):
        active = int(np.count_nonzero(sizes > t))
        rows = order[starts[:active] + t]
        s = strategy[rows]
        who = np.arange(active)
        eta = fixed[rows] + mean[who, s]
        var = cov[who, s, s]
        rows_out.append(rows)
        means_out.append(eta)
        vars_out.append(var)
        per = noise.per_strategy[s] if noise.link != LOGIT else noise.per_strategy
        moved, info = shift(eta, var, y[rows], noise._replace(per_strategy=per))
        column = cov[who, :, s]  # (active, S)
        mean[:active] += column * (moved / var)[:, None]
        cov[:active] -= column[:, :, None] * column[:, None, :] * (info / (1.0 + info * var))[:, None, None]
        if rate > 0.0:
            cov[:active] += rate * cov0
    all_rows = np.concatenate(rows_out)
    return (all_rows, np.concatenate(means_out)), (all_rows, np.concatenate(vars_out))


def log_likelihood(
    mean: np.ndarray, var: np.ndarray, y: np.ndarray, strategy: np.ndarray, noise: Noise
) -> np.ndarray:
    """Log predictive likelihood of each outcome given the linear predictor's mean and variance
    (quasi-likelihood for scores: the binomial one over the dispersion)."""
    if noise.link == LOGIT:
        p = np.clip(sigmoid(mean / np.sqrt(1.0 + np.pi * var / 8.0)), 1e-9, 1.0 - 1e-9)
        return (y * np.log(p) + (1.0 - y) * np.log(1.0 - p)) / noise.dispersion
    total = var + noise.per_strategy[strategy]
    return -0.5 * (np.log(2.0 * np.pi * total) + (y - mean) ** 2 / total)


def select(
    cov0: np.ndarray,
    learner: np.ndarray,
    strategy: np.ndarray,
    fixed: np.ndarray,
    y: np.ndarray,
    noise: Noise,
) -> Selection:
    """The drift rate of `GRID` under which held-out learners' sessions are best predicted from
    their earlier ones; 0 unless the best rate's gain per learner over 0 exceeds `_CLEAR` of its
    standard errors."""
    rates = np.asarray(GRID)
    mean, var = one_step(cov0, rates, learner, strategy, fixed, y, noise)
    ll = np.stack([log_likelihood(m, v, y, strategy, noise) for m, v in zip(mean, var, strict=True)])
    _, group = np.unique(learner, return_inverse=True)
    per_learner = np.stack([np.bincount(group, weights=row) for row in ll])  # (rates, learners)
    scores = ll.mean(axis=1)
    best = int(np.argmax(scores))
    gain = per_learner[best] - per_learner[0]
    se = float(gain.std(ddof=1)) / np.sqrt(gain.size) if gain.size > 1 else np.inf
    keep = best > 0 and float(gain.mean()) > _CLEAR * se
    return Selection(float(rates[best]) if keep else 0.0, scores)
