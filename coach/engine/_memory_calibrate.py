"""The memory learner's calibration of one snapshot level on held-out training learners: the
grids it searches, the parameters a level keeps (`LevelParams`) and the search (`calibrate`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from coach.engine._memory_blocks import OFF, refine
from coach.engine._record import (
    deviation,
    gain_cov,
    posterior_cov,
    posterior_shared,
    shared_shift,
    shared_weights,
)

# Pseudo-session counts tried when calibrating how much each source of evidence is trusted.
SHRINK_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 256.0, OFF)
NEIGHBOUR_GRID = (1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, OFF)
# Shares of the level below's neighbour mean kept as the prior of a level's neighbours.
KEEP_GRID = (0.0, 0.5, 1.0)
# Scales of the learned record covariance tried for the own-record prior.
COV_GRID = (0.25, 0.5, 1.0, 2.0)


class LevelParams(NamedTuple):
    """How one snapshot level predicts, calibrated on held-out training learners: a row of
    `level_params_`, in this order."""

    lam_nb: float  # pseudo-sessions of the level below the neighbours' mean is weighed against
    lam_a: float  # shared-level prior of the own record: noise / lam_a for the general level...
    lam_b: float  # ... and noise / lam_b for each strategy's own deviation
    var_scale: float  # interval scale, so predicted variances match held-out errors
    cov_scale: float  # > 0: the learned record covariance, scaled, is the own record's prior
    keep: float  # share of the level below's neighbour mean the neighbours are shrunk towards
    choice_weight: float  # of the strategies picked in the kernel (`_memory_kernel`)
    kernel: float  # > 0: the kernel over past learners, of this spread, stands for the neighbours' mean


_UNCHOSEN = LevelParams(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def calibrate(
    k: int,
    neighbours: tuple[np.ndarray, np.ndarray],
    later: tuple[np.ndarray, np.ndarray, np.ndarray],
    prior: np.ndarray,
    own_n: np.ndarray,
    own_r: np.ndarray,
    noise: np.ndarray,
    record_cov: np.ndarray,
    kernels: Sequence[tuple[float, float, np.ndarray]] = (),
) -> tuple[LevelParams, np.ndarray]:
    """How far to move from the level below towards this level's neighbours (`lam_nb`
    pseudo-sessions of the level below), the prior of the own record (shared level, or the
    learned covariance scaled by `cov_scale`) and an interval scale, chosen to predict the
    later sessions of held-out learners as well as possible; `kernels` (choice weight, spread,
    the held-out learners' kernel means) compete with the neighbours for their place. Also the
    held-out learners' neighbour means at this level.

    `k`: the level's history length; `neighbours`: the held-out learners' neighbours' session
    counts and totals (m, S); `later`: their later sessions' counts, totals and sums of squares;
    `noise` and `record_cov`: the learner's session noise and learned record covariance."""
    nb_n, nb_r = neighbours
    later_n, later_r, later_ss = later

    def sse(pred: np.ndarray) -> float:
        return float(np.sum(later_ss - 2.0 * pred * later_r + later_n * pred**2))

    # Each candidate: (held-out error, its parameters with var_scale still unset).
    best = (np.inf, _UNCHOSEN)
    chosen = np.inf
    grid_own = SHRINK_GRID if k > 0 else (OFF,)
    grid_cov = COV_GRID if k > 0 else ()
    gains = [(c, gain_cov(own_n, noise, c * record_cov)) for c in grid_cov]
    # What the shared-level prior takes from the own record alone, once for every candidate.
    shared = [shared_weights(own_n, noise, lam_b) for lam_b in grid_own]
    tau_a2 = [float(noise.mean()) / lam_a for lam_a in grid_own]
    # Each candidate for the neighbours' mean: (its held-out means, lam_nb, keep, choice
    # weight, kernel).
    candidates = [
        (refine(nb_n, nb_r, prior, lam_nb, keep), lam_nb, keep, 0.0, 0.0)
        for keep in (KEEP_GRID if prior.any() else (0.0,))
        for lam_nb in NEIGHBOUR_GRID
    ]
    candidates += [(mean, OFF, 0.0, c, spread) for c, spread, mean in kernels]
    # The own record's prior by the whole error; the neighbours' weight by the contrasts.
    for mu, lam_nb, keep, choice, kernel in candidates:
        here = (np.inf, _UNCHOSEN)
        pred = mu
        u = deviation(mu, own_n, own_r)
        weighted = [(weights.w * u).sum(axis=1, keepdims=True) for weights in shared]
        for lam_a, a2 in zip(grid_own, tau_a2, strict=True):
            for lam_b, weights, wu in zip(grid_own, shared, weighted, strict=True):
                shift, _ = shared_shift(u, wu, a2, weights)
                if (err := sse(mu + shift)) < here[0]:
                    here = (err, LevelParams(lam_nb, lam_a, lam_b, 0.0, 0.0, keep, choice, kernel))
                    pred = mu + shift
        for cov_scale, gain in gains:
            shift, _ = posterior_cov(mu, own_n, own_r, gain)
            if (err := sse(mu + shift)) < here[0]:
                here = (err, LevelParams(lam_nb, OFF, OFF, 0.0, cov_scale, keep, choice, kernel))
                pred = mu + shift
        if (score := sse(pred) - _level_error(pred, later_n, later_r)) < chosen:
            best, chosen = here, score
    err, chosen_params = best
    if chosen_params.kernel:
        mu = next(m for c, w, m in kernels if (c, w) == (chosen_params.choice_weight, chosen_params.kernel))
    else:
        mu = refine(nb_n, nb_r, prior, chosen_params.lam_nb, chosen_params.keep)
    _, var = own_posterior(mu, own_n, own_r, chosen_params, noise, record_cov)
    predicted = float(np.sum(later_n * (noise + var)))
    return chosen_params._replace(var_scale=err / predicted if predicted > 0 else 1.0), mu


def own_posterior(
    mu: np.ndarray,
    own_n: np.ndarray,
    own_r: np.ndarray,
    params: LevelParams,
    noise: np.ndarray,
    record_cov: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Shift from the neighbours' prior given the own record, and its variance, (m, S):
    the shared-level prior (`lam_a`, `lam_b`) or the scaled covariance (`cov_scale` > 0)."""
    if params.cov_scale <= 0.0:
        return posterior_shared(mu, own_n, own_r, noise, params.lam_a, params.lam_b)
    gain = gain_cov(own_n, noise, params.cov_scale * record_cov)
    return posterior_cov(mu, own_n, own_r, gain)


def _level_error(pred: np.ndarray, later_n: np.ndarray, later_r: np.ndarray) -> float:
    """The part of the squared error a per-learner constant would remove: what is left decides
    which strategy comes first, this part only how high the learner scores overall."""
    level = (later_r - later_n * pred).sum(axis=1)
    return float(np.sum(level**2 / np.maximum(later_n.sum(axis=1), 1.0)))
