"""A learner's own record in the memory learner: how per-strategy residuals hang together.

Two priors for how far a learner's true residual on each strategy lies from what the neighbours
suggest. The simple one (`posterior_shared`) is a general level shared by all strategies plus
an independent part per strategy. The learned one (`posterior_cov`) is a covariance across
strategies estimated from training learners (moments in `record_covariance`, refined by
maximum likelihood in `refine_covariance`), scaled by a calibrated factor: with it, sessions
with one strategy move the prediction for related ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.engine._mixed import posterior_gaussian, update_covariance

_PAD_NOISE = 1e12  # noise of padding slots: they carry no information
_EM_STEPS = 10  # most EM steps for the record covariance in one call
_EM_TOL = 1e-4  # relative change of the covariance below which EM stops early
_PSEUDO_LEARNERS = 20.0  # weight of the "level + independent parts" target when shrinking G


def record_covariance(n: np.ndarray, total: np.ndarray, noise: np.ndarray, shrink: float) -> np.ndarray:
    """Covariance (S, S) of learners' true per-strategy mean residuals, by the method of moments.

    Off-diagonal cells average products of two strategies' mean residuals over learners who used
    both (noise is independent across sessions, so the products are unbiased); diagonal cells
    subtract the noise of a mean. Learners count by how reliable their means are. The estimate
    is shrunk toward a shared level plus independent parts and made positive definite."""
    has = n > 0
    means = np.divide(total, n, out=np.zeros_like(total), where=has)
    weight = n / (n + shrink)
    wm = weight * means
    pair = weight.T @ weight
    cross = np.divide(wm.T @ wm, pair, out=np.zeros_like(pair), where=pair > 0)
    excess = means**2 - np.divide(noise[None, :], n, out=np.zeros_like(total), where=has)
    wsum = weight.sum(axis=0)
    diag = np.divide((weight * excess).sum(axis=0), wsum, out=np.zeros_like(wsum), where=wsum > 0)
    s = n.shape[1]
    floor = 1e-6 * float(noise.mean())
    diag = np.maximum(diag, floor)
    cross[np.diag_indices(s)] = diag
    off = cross[~np.eye(s, dtype=bool)]
    level = max(float(np.average(off, weights=pair[~np.eye(s, dtype=bool)] + 1e-12)), 0.0)
    target = np.full((s, s), level)
    target[np.diag_indices(s)] = np.maximum(diag, level + floor)
    cov = (pair * cross + _PSEUDO_LEARNERS * target) / (pair + _PSEUDO_LEARNERS)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
    vals = np.maximum(vals, 1e-3 * max(float(vals.max()), floor))
    return (vecs * vals) @ vecs.T


def deviation(mu: np.ndarray, own_n: np.ndarray, own_r: np.ndarray) -> np.ndarray:
    """Own mean residual minus the neighbours' prior, 0 where the strategy was not used."""
    has = own_n > 0
    shape = np.broadcast_shapes(own_r.shape, own_n.shape)
    u = np.divide(own_r, own_n, out=np.zeros(shape), where=has) - mu
    return np.where(has, u, 0.0)


@dataclass(frozen=True)
class SharedWeights:
    """What `posterior_shared` takes from the own record and `lam_b` alone: a search over
    `lam_a` and the neighbours' prior computes it once."""

    tau_b2: np.ndarray  # (S,) prior variance of the strategy-specific part
    w: np.ndarray  # (m, S) weight of each strategy's deviation in the shared level
    w_sum: np.ndarray  # (m, 1)
    kappa: np.ndarray  # (m, S) share of the rest of a deviation kept by the strategy's own part


def shared_weights(own_n: np.ndarray, noise: np.ndarray, lam_b: float) -> SharedWeights:
    tau_b2 = noise / lam_b
    w = own_n / (own_n * tau_b2 + noise)
    kappa = own_n * tau_b2 / (own_n * tau_b2 + noise)
    return SharedWeights(tau_b2, w, w.sum(axis=1, keepdims=True), kappa)


def shared_shift(
    u: np.ndarray, weighted: np.ndarray, tau_a2: float, weights: SharedWeights
) -> tuple[np.ndarray, np.ndarray]:
    """`posterior_shared`'s shift from the deviations `u` and their weighted sum
    ((weights.w * u).sum(axis=1, keepdims=True)), and the shared level's precision."""
    precision = 1.0 / tau_a2 + weights.w_sum
    a_hat = weighted / precision
    return a_hat + weights.kappa * (u - a_hat), precision


def posterior_shared(
    mu: np.ndarray, own_n: np.ndarray, own_r: np.ndarray, noise: np.ndarray, lam_a: float, lam_b: float
) -> tuple[np.ndarray, np.ndarray]:
    """Shift from the neighbour prior `mu` given the own record, and its variance, (m, S).

    Own residual on strategy s = a + b_s + noise: `a` is shared across strategies (the learner's
    general level), b_s is specific; their prior variances are noise / lam_a and noise / lam_b.
    """
    weights = shared_weights(own_n, noise, lam_b)
    u = deviation(mu, own_n, own_r)
    weighted = (weights.w * u).sum(axis=1, keepdims=True)
    shift, precision = shared_shift(u, weighted, float(noise.mean()) / lam_a, weights)
    kappa = weights.kappa
    return shift, (1.0 - kappa) ** 2 / precision + weights.tau_b2 * (1.0 - kappa)


@dataclass(frozen=True)
class Gain:
    """How the own record moves the prediction under a learned covariance, for p learners:
    shift = gain @ deviation[used], with `used` (p, M) the strategies each learner has used
    (padded), and the posterior variances (p, S)."""

    gain: np.ndarray  # (p, S, M)
    used: np.ndarray  # (p, M)
    var: np.ndarray  # (p, S)


def gain_cov(own_n: np.ndarray, noise: np.ndarray, cov: np.ndarray) -> Gain:
    """The posterior of prior N(0, cov) given mean residuals from `own_n` (p, S) sessions.

    Works in the space of the strategies a learner has used (at most M per learner), so the
    cost grows with M, not with S; unused padding slots get infinite noise."""
    used_count = (own_n > 0).sum(axis=1)
    m = int(used_count.max(initial=0))
    order = np.argsort(own_n <= 0, axis=1, kind="stable")[:, :m]
    n_used = np.take_along_axis(own_n, order, axis=1)
    obs_noise = np.where(n_used > 0, noise[order] / np.maximum(n_used, 1e-12), _PAD_NOISE)
    cross = cov[:, order].transpose(1, 0, 2)  # (p, S, M)
    inner = cov[order[:, :, None], order[:, None, :]]  # (p, M, M)
    idx = np.arange(m)
    inner[:, idx, idx] += obs_noise
    gain = np.linalg.solve(inner, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
    var = np.diag(cov)[None, :] - np.einsum("psm,psm->ps", gain, cross)
    return Gain(gain=gain, used=order, var=np.maximum(var, 0.0))


def posterior_cov(
    mu: np.ndarray, own_n: np.ndarray, own_r: np.ndarray, g: Gain
) -> tuple[np.ndarray, np.ndarray]:
    """Shift and variance (m, S) under a learned covariance, from `gain_cov`'s output for the
    same `own_n` rows (one row, or one per row of `mu`)."""
    u = deviation(mu, own_n, own_r)
    if g.gain.shape[0] == 1:
        return u[:, g.used[0]] @ g.gain[0].T, np.broadcast_to(g.var, u.shape)
    return np.einsum("psm,pm->ps", g.gain, np.take_along_axis(u, g.used, axis=1)), g.var


def refine_covariance(
    n: np.ndarray, total: np.ndarray, noise: np.ndarray, cov: np.ndarray, steps: int = _EM_STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """The covariance of learners' true per-strategy residuals by maximum likelihood (EM from
    `cov`, e.g. `record_covariance`'s moments), and every learner's posterior mean (L, S).

    The moments weigh a pair of strategies by the learners who used both, so a pair few people
    combine is estimated from those few; the likelihood lets every learner's record speak for
    every cell through the structure of the rest."""
    n_prior = float(n.shape[1]) + 2.0
    for _ in range(steps):
        means, _, cross = posterior_gaussian(np.linalg.inv(cov), n, total, noise[None, :])
        new = update_covariance(means, cross, n_prior)
        change = float(np.max(np.abs(new - cov))) / max(float(np.max(np.diag(new))), 1e-12)
        cov = new
        if change < _EM_TOL:
            break
    means, _, _ = posterior_gaussian(np.linalg.inv(cov), n, total, noise[None, :])
    return cov, means


def record_scale(n: np.ndarray, total: np.ndarray, noise: np.ndarray) -> tuple[float, float]:
    """Shrinkage (pseudo-sessions) for a learner's per-strategy mean residual, and the spread of
    true per-learner residuals, both by the method of moments."""
    has = n > 0
    means = np.divide(total, n, out=np.zeros_like(total), where=has)
    excess = (means**2 - np.divide(noise[None, :], n, out=np.zeros_like(total), where=has))[has]
    tau2 = max(float(excess.mean()) if excess.size else 0.0, 1e-6 * float(noise.mean()))
    return float(noise.mean() / tau2), float(np.sqrt(tau2))


def record_components(n: np.ndarray, total: np.ndarray, shrink: float, n_components: int) -> np.ndarray:
    """Directions (S, r) that summarise how learners' records differ; all of them if S is small."""
    S = n.shape[1]
    if n_components >= S:
        return np.eye(S)
    shrunk = total / (n + shrink)
    _, _, vt = np.linalg.svd(shrunk - shrunk.mean(axis=0), full_matrices=False)
    return vt[:n_components].T
