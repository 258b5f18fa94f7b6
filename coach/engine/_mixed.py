"""Numerical core of the model-based meta-learner: a generalised linear mixed model. The memory
learner's own-record covariance uses its Gaussian posterior and covariance update too.

Population part: outcome ~ a[s] + z.w + z.B[s] (strategy, standardised context, their product),
fitted by penalised Newton steps whose normal equations are assembled strategy by strategy, so
the (n, P) design matrix is never built. Learner part: a vector theta (S,) of per-strategy
offsets per learner with prior N(0, G); its posterior is Gaussian (identity link) or a Laplace
approximation (logit link), computed for many learners at once with batched solves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    variances, total, covs = _inv_diag_plus(prec, counts / noise_var, keep=True)
    means = np.einsum("lij,lj->li", covs, sums / noise_var)
    return means, variances, total


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
        step = _solve_diag_plus(prec, info, score - theta @ prec)
        theta += step
        if np.max(np.abs(step)) < _MODE_TOL:
            break
    _, info = _logit_terms(key, fixed, y, theta, dispersion)
    variances, total, _ = _inv_diag_plus(prec, info)
    return theta, variances, total


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
    variances, total, covs = _inv_diag_plus(prec, info, keep=True)
    for _ in range(n_iter):
        step = np.einsum("lij,lj->li", covs, score - theta @ prec)
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


def _solve_diag_plus(prec: np.ndarray, diag: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve (prec + diag(diag[l])) x[l] = rhs[l] for every row l."""
    out = np.empty_like(rhs)
    idx = np.arange(prec.shape[0])
    for lo in range(0, rhs.shape[0], _CHUNK):
        q = np.broadcast_to(prec, (diag[lo : lo + _CHUNK].shape[0], *prec.shape)).copy()
        q[:, idx, idx] += diag[lo : lo + _CHUNK]
        out[lo : lo + _CHUNK] = np.linalg.solve(q, rhs[lo : lo + _CHUNK, :, None])[..., 0]
    return out


def _inv_diag_plus(
    prec: np.ndarray, diag: np.ndarray, keep: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverses of (prec + diag(diag[l])): their diagonals (L, S), their sum (S, S) and,
    if `keep`, all of them (L, S, S)."""
    s = prec.shape[0]
    out = np.empty_like(diag)
    total = np.zeros_like(prec)
    kept = np.empty((diag.shape[0], s, s) if keep else (0, s, s))
    idx = np.arange(s)
    for lo in range(0, diag.shape[0], _CHUNK):
        q = np.broadcast_to(prec, (diag[lo : lo + _CHUNK].shape[0], s, s)).copy()
        q[:, idx, idx] += diag[lo : lo + _CHUNK]
        inv = np.linalg.inv(q)
        out[lo : lo + _CHUNK] = np.diagonal(inv, axis1=1, axis2=2)
        total += inv.sum(axis=0)
        if keep:
            kept[lo : lo + _CHUNK] = inv
    return out, total, kept


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
