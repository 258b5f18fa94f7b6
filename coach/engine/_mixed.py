"""Numerical core of the model-based meta-learner: a generalised linear mixed model. The memory
learner's own-record covariance uses its Gaussian posterior and covariance update too.

Population part: outcome ~ a[s] + z.w + z.B[s] (strategy, standardised context, their product),
fitted by penalised Newton steps whose normal equations are assembled strategy by strategy, so
the (n, P) design matrix is never built. Learner part: a vector theta (S,) of per-strategy
offsets per learner with prior N(0, G); its posterior is Gaussian (identity link) or a Laplace
approximation (logit link), computed for many learners at once with batched solves, each over
the strategies the learner used (`_Posterior`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.engine.stats import BLOCKS_FROM, used_blocks

IDENTITY, LOGIT = "identity", "logit"
_CHUNK = 1024  # learners per batched solve, bounds memory at S = 64
_NEWTON_TOL = 1e-6
_MODE_TOL = 1e-4  # largest step of a learner's offsets at which their mode is taken as found


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class Layout:
    """Where each block of population coefficients lives in the flat vector."""

    n_strategies: int
    n_features: int
    interactions: bool

    @property
    def size(self) -> int:
        s, d = self.n_strategies, self.n_features
        return s + d + (s * d if self.interactions else 0)

    def split(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s, d = self.n_strategies, self.n_features
        slopes = beta[s + d :].reshape(s, d) if self.interactions else np.zeros((s, d))
        return beta[:s], beta[s : s + d], slopes

    def block_index(self, k: int) -> np.ndarray:
        """Coefficients that touch strategy k: its intercept, shared slopes, its own slopes."""
        s, d = self.n_strategies, self.n_features
        own = np.arange(s + d + k * d, s + d + (k + 1) * d) if self.interactions else np.zeros(0, int)
        return np.concatenate([[k], np.arange(s, s + d), own]).astype(np.int64)

    def linear(self, beta: np.ndarray, strategy: np.ndarray, z: np.ndarray) -> np.ndarray:
        a, w, slopes = self.split(beta)
        out = a[strategy] + z @ w
        if self.interactions:
            # Strategy by strategy rather than gathering slopes[strategy], an (n, d) array.
            for k in range(self.n_strategies):
                rows = strategy == k
                out[rows] += z[rows] @ slopes[k]
        return out

    def all_strategies(self, beta: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Linear predictor (m, S) of every strategy for each context row."""
        a, w, slopes = self.split(beta)
        return a[None, :] + (z @ w)[:, None] + z @ slopes.T


def normal_equations(
    layout: Layout, bounds: np.ndarray, z: np.ndarray, h: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """X'diag(h)X and X'r for rows sorted by strategy (`bounds` delimits each strategy)."""
    s, d = layout.n_strategies, layout.n_features
    hess = np.zeros((layout.size, layout.size))
    grad = np.zeros(layout.size)
    iw = slice(s, s + d)
    for k in range(s):
        lo, hi = bounds[k], bounds[k + 1]
        zk, hk, rk = z[lo:hi], h[lo:hi], r[lo:hi]
        z0 = hk @ zk
        zz = (zk * hk[:, None]).T @ zk
        gz = rk @ zk
        hess[k, k] = hk.sum()
        hess[k, iw] = hess[iw, k] = z0
        hess[iw, iw] += zz
        grad[k] = rk.sum()
        grad[iw] += gz
        if layout.interactions:
            ib = slice(s + d + k * d, s + d + (k + 1) * d)
            hess[k, ib] = hess[ib, k] = z0
            hess[iw, ib] = hess[ib, iw] = hess[ib, ib] = zz
            grad[ib] = gz
    return hess, grad


def fit_population(
    layout: Layout,
    bounds: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    penalty: np.ndarray,
    beta0: np.ndarray,
    beta: np.ndarray,
    link: str,
    max_iter: int = 25,
    dispersion: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Penalised (toward beta0) Newton fit from `beta`; returns beta and the inverse Hessian.

    Logit link: binomial for 0/1 outcomes; for scores in [0, 1] quasi-binomial, each session
    carrying 1 / `dispersion` times the information of a 0/1 outcome."""
    strategy = np.repeat(np.arange(layout.n_strategies), np.diff(bounds))
    inv_hess = np.eye(layout.size)
    for _ in range(max_iter if link == LOGIT else 1):
        eta = layout.linear(beta, strategy, z) + offset
        mu = sigmoid(eta) if link == LOGIT else eta
        h = mu * (1.0 - mu) / dispersion if link == LOGIT else np.ones_like(mu)
        resid = (y - mu) / dispersion if link == LOGIT else y - mu
        hess, grad = normal_equations(layout, bounds, z, h, resid)
        hess[np.diag_indices_from(hess)] += penalty
        grad -= penalty * (beta - beta0)
        inv_hess = np.linalg.inv(hess)
        step = inv_hess @ grad
        beta = beta + step
        if np.max(np.abs(step)) < _NEWTON_TOL:
            break
    return beta, inv_hess


def posterior_gaussian(
    prec: np.ndarray, counts: np.ndarray, sums: np.ndarray, noise_var: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior of theta from residual counts and sums (L, S): means, variances, summed cov."""
    posterior = _Posterior(prec, counts / noise_var)
    variances, total = posterior.variances(), posterior.total()  # the inverses first, then reused
    return posterior.solve(sums / noise_var), variances, total


def posterior_logit(
    prec: np.ndarray,
    key: np.ndarray,
    fixed: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    n_iter: int = 8,
    dispersion: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Laplace posterior of theta for rows with outcomes in [0, 1] (key = learner * S + strategy;
    quasi-binomial with `dispersion`, binomial at 1): modes (L, S), variances (L, S) and the
    posterior covariance summed over learners."""
    theta = theta.copy()
    for _ in range(n_iter):
        score, info = _logit_terms(key, fixed, y, theta, dispersion)
        step = _Posterior(prec, info).solve(score - theta @ prec)
        theta += step
        if np.max(np.abs(step)) < _MODE_TOL:
            break
    _, info = _logit_terms(key, fixed, y, theta, dispersion)
    posterior = _Posterior(prec, info)
    return theta, posterior.variances(), posterior.total()


def posterior_logit_warm(
    prec: np.ndarray,
    key: np.ndarray,
    fixed: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    n_iter: int = 3,
    dispersion: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`posterior_logit` for EM steps, which start from the previous step's modes.

    The posterior covariances are computed once, at the start, and serve both the Newton steps
    (a chord method) and the variances: one batched inverse per call instead of a solve per step
    and an inverse. As EM settles, the start is the mode and the two agree."""
    theta = theta.copy()
    score, info = _logit_terms(key, fixed, y, theta, dispersion)
    posterior = _Posterior(prec, info)
    variances, total = posterior.variances(), posterior.total()
    for _ in range(n_iter):
        step = posterior.solve(score - theta @ prec)
        theta += step
        if np.max(np.abs(step)) < _MODE_TOL:
            break
        score, _ = _logit_terms(key, fixed, y, theta, dispersion)
    return theta, variances, total


def _logit_terms(
    key: np.ndarray, fixed: np.ndarray, y: np.ndarray, theta: np.ndarray, dispersion: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score and Fisher information of the rows with respect to theta, (L, S) each."""
    p = sigmoid(fixed + theta.ravel()[key])
    shape, size = theta.shape, theta.size
    score = np.bincount(key, weights=(y - p) / dispersion, minlength=size).reshape(shape)
    info = np.bincount(key, weights=p * (1.0 - p) / dispersion, minlength=size).reshape(shape)
    return score, info


class _Posterior:
    """The posterior covariances (prec + diag(d_l))^{-1} of many learners l, d_l >= 0 their
    information per strategy, which is 0 on the strategies they never used (U).

    With many strategies each learner has used a few (T), and with G = prec^{-1}

        (prec + diag(d))^{-1} = G - G_:,T K G_T,:,  K = R (I + R G_TT R)^{-1} R,  R = diag(d_T)^(1/2)

    (Woodbury): an m x m inverse per learner, m = |T| padded with unused strategies to the
    next power of two so that learners of a size share one batched inverse. Below
    `BLOCKS_FROM` strategies or learners the S x S inverses are formed directly."""

    def __init__(self, prec: np.ndarray, diag: np.ndarray) -> None:
        self.prec, self.diag = prec, diag
        n_learners, s = diag.shape
        # A learner or a few (a prediction): sorting into blocks costs more than it saves.
        self.blocks = s >= BLOCKS_FROM and n_learners >= BLOCKS_FROM
        self._inverses: np.ndarray | None = None
        if not self.blocks:
            return
        cov = np.linalg.inv(prec)
        self.cov = (cov + cov.T) / 2.0
        self.groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for rows, idx in used_blocks(diag > 0.0, _CHUNK):
            r = np.sqrt(np.take_along_axis(diag[rows], idx, axis=1))
            block = self.cov[idx[:, :, None], idx[:, None, :]]
            inner = np.eye(idx.shape[1]) + r[:, :, None] * block * r[:, None, :]
            self.groups.append((rows, idx, r[:, :, None] * np.linalg.inv(inner) * r[:, None, :]))

    def _matrices(self, lo: int) -> np.ndarray:
        """prec + diag(d_l) for the chunk of learners from `lo`."""
        s = self.prec.shape[0]
        part = self.diag[lo : lo + _CHUNK]
        q = np.broadcast_to(self.prec, (part.shape[0], s, s)).copy()
        q[:, np.arange(s), np.arange(s)] += part
        return q

    @property
    def inverses(self) -> np.ndarray:
        """All of them (L, S, S), formed directly (few strategies or learners)."""
        if self._inverses is None:
            n_learners = self.diag.shape[0]
            self._inverses = np.concatenate(
                [np.linalg.inv(self._matrices(lo)) for lo in range(0, n_learners, _CHUNK)]
            )
        return self._inverses

    def variances(self) -> np.ndarray:
        """The diagonals (L, S)."""
        if not self.blocks:
            return np.diagonal(self.inverses, axis1=1, axis2=2).copy()
        out = np.broadcast_to(np.diag(self.cov), self.diag.shape).copy()
        for rows, idx, k in self.groups:
            g = self.cov[idx]  # (B, m, S): G_T,:
            out[rows] -= np.einsum("bts,bts->bs", g, np.matmul(k, g))
        return out

    def total(self) -> np.ndarray:
        """Their sum over learners (S, S)."""
        if not self.blocks:
            return self.inverses.sum(axis=0)
        s = self.cov.shape[0]
        # sum_l G_:,T K G_T,: = G W G, W the learners' K scattered into S x S
        w = np.zeros(s * s)
        for _, idx, k in self.groups:
            cells = (idx[:, :, None] * s + idx[:, None, :]).ravel()
            w += np.bincount(cells, weights=k.ravel(), minlength=s * s)
        return self.diag.shape[0] * self.cov - self.cov @ w.reshape(s, s) @ self.cov

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """(prec + diag(d_l))^{-1} rhs[l] for every learner (L, S)."""
        if not self.blocks:
            if self._inverses is not None:
                return np.matmul(self._inverses, rhs[:, :, None])[:, :, 0]
            return np.concatenate(
                [
                    np.linalg.solve(self._matrices(lo), rhs[lo : lo + _CHUNK, :, None])[:, :, 0]
                    for lo in range(0, rhs.shape[0], _CHUNK)
                ]
            )
        out = rhs @ self.cov
        for rows, idx, k in self.groups:
            kz = np.matmul(k, np.take_along_axis(out[rows], idx, axis=1)[:, :, None])
            out[rows] -= np.matmul(np.swapaxes(kz, 1, 2), self.cov[idx])[:, 0]
        return out


def update_covariance(means: np.ndarray, cross: np.ndarray, n_prior: float) -> np.ndarray:
    """EM update of the learner-effect covariance, shrunk toward intercept + independent offsets.

    `cross` is the summed posterior covariance over learners; the shrinkage target keeps G
    well-conditioned when strategies are rarely tried together.
    """
    n_learners, s = means.shape
    em = (means.T @ means + cross) / n_learners
    off = (em.sum() - np.trace(em)) / (s * (s - 1))
    common = max(off, 0.0)
    target = np.full((s, s), common)
    target[np.diag_indices(s)] = np.maximum(np.diag(em), common + 1e-6)
    cov = (n_learners * em + n_prior * target) / (n_learners + n_prior)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
    floor = 1e-4 * max(float(vals.max()), 1e-8)
    return (vecs * np.maximum(vals, floor)) @ vecs.T
