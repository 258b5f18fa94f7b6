"""The model learner's population fit: the penalised population regression alternating with EM
steps for G, the covariance of the learners' offsets (and for the session noise, or the
dispersion of scores on the logit scale).

Each alternation fits the population given the learners' current offsets, then runs EM for G
given the population part; both start from the previous alternation, so a few Newton steps each
suffice until the last, which runs the population fit to convergence. G is shrunk toward
"learner intercept + independent per-strategy deviations" by S + 2 pseudo-learners
(`coach.engine._mixed.update_covariance`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coach.engine import _mixed
from coach.engine._mixed import LOGIT, Layout

_NOISE_PRIOR = 20.0  # pseudo-sessions pulling a strategy's noise variance toward the pooled one
_EM_STEPS = 10  # EM steps for G per population fit
_EM_TOL = 1e-4  # relative change of G below which EM stops early


class Spec(NamedTuple):
    """What the fit is of: the population's coefficient layout, the link, 0/1 outcomes or not."""

    layout: Layout
    link: str
    binary: bool


class FitState:
    """What the alternating fit carries between steps."""

    def __init__(self, beta: np.ndarray, theta: np.ndarray, counts: np.ndarray) -> None:
        self.beta = beta
        self.theta = theta
        self.counts = counts
        self.inv_hess = np.zeros((beta.size, beta.size))
        self.cov = np.eye(theta.shape[1])
        self.noise = np.ones(theta.shape[1])
        self.dispersion = 1.0


def initial_state(spec: Spec, beta0: np.ndarray, counts: np.ndarray, y: np.ndarray) -> FitState:
    """The population at its prior centre, no offsets, and a starting G and noise."""
    st = FitState(beta=beta0.copy(), theta=np.zeros(counts.shape), counts=counts)
    s = counts.shape[1]
    shape = 0.5 * (np.eye(s) + np.ones((s, s)))
    if spec.link == LOGIT:
        st.cov, st.noise = 0.5 * shape, np.full(s, np.pi**2 / 3.0)
        if not spec.binary:
            # Everything a learner-free fit leaves unexplained: too much, and EM lowers it.
            st.dispersion = dispersion(y, np.full_like(y, logit(float(y.mean()))), np.zeros_like(y))
    else:
        v = max(float(y.var()), 1e-8)
        st.cov, st.noise = 0.25 * v * shape, np.full(s, 0.5 * v)
    return st


def alternate(
    spec: Spec,
    st: FitState,
    bounds: np.ndarray,
    strategy: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    key: np.ndarray,
    beta0: np.ndarray,
    penalty: np.ndarray,
    last: bool,
) -> None:
    """One population fit given the learners' offsets, then EM steps for G (and noise)."""
    offset = st.theta.ravel()[key]
    # Penalties are in pseudo-sessions, so they scale with what one session is worth.
    st.beta, st.inv_hess = _mixed.fit_population(
        spec.layout,
        bounds,
        z,
        y,
        offset,
        penalty / st.dispersion,
        beta0,
        st.beta,
        spec.link,
        max_iter=25 if last else 3,
        dispersion=st.dispersion,
    )
    fixed = spec.layout.linear(st.beta, strategy, z)
    if spec.link == LOGIT:
        for _ in range(_EM_STEPS):
            if not _em_step_logit(st, key, fixed, y, spec.binary):
                break
        return
    sums = np.bincount(key, weights=y - fixed, minlength=st.theta.size).reshape(st.theta.shape)
    for _ in range(_EM_STEPS):
        if not _em_step_gaussian(st, sums, key, strategy, y - fixed):
            break


def _em_step_logit(st: FitState, key: np.ndarray, fixed: np.ndarray, y: np.ndarray, binary: bool) -> bool:
    """One EM step for G (and the dispersion of scores) with Laplace posteriors; False once G
    has settled."""
    prec = np.linalg.inv(st.cov)
    st.theta, var, total = _mixed.posterior_logit_warm(
        prec, key, fixed, y, st.theta, dispersion=st.dispersion
    )
    if not binary:
        st.dispersion = dispersion(y, fixed + st.theta.ravel()[key], var.ravel()[key])
    return _update_covariance(st, total)


def _em_step_gaussian(
    st: FitState, sums: np.ndarray, key: np.ndarray, strategy: np.ndarray, resid: np.ndarray
) -> bool:
    """One EM step for G and the noise given the population part; False once G has settled.

    EM for variance components moves slowly where strategies are rarely tried together, so
    it runs several steps per population fit; each costs one batched S x S inverse."""
    prec = np.linalg.inv(st.cov)
    st.theta, var, total = _mixed.posterior_gaussian(prec, st.counts, sums, st.noise[None, :])
    sq = (resid - st.theta.ravel()[key]) ** 2 + var.ravel()[key]
    n_s = np.bincount(strategy, minlength=st.noise.size)
    pooled = sq.mean()
    per = np.bincount(strategy, weights=sq, minlength=st.noise.size)
    st.noise = (per + _NOISE_PRIOR * pooled) / (n_s + _NOISE_PRIOR)
    return _update_covariance(st, total)


def _update_covariance(st: FitState, total: np.ndarray) -> bool:
    """G from the offsets' posteriors; False once it has settled."""
    cov = _mixed.update_covariance(st.theta, total, n_prior=float(st.theta.shape[1]) + 2.0)
    change = float(np.max(np.abs(cov - st.cov))) / max(float(np.max(np.diag(cov))), 1e-12)
    st.cov = cov
    return change > _EM_TOL


def logit(p: float) -> float:
    p = min(max(p, 1e-3), 1.0 - 1e-3)
    return float(np.log(p / (1.0 - p)))


def dispersion(y: np.ndarray, eta: np.ndarray, eta_var: np.ndarray) -> float:
    """Pearson estimate of the quasi-binomial dispersion: squared residuals (plus what the
    learner's uncertain offset adds) over the binomial variance, averaged over sessions."""
    p = _mixed.sigmoid(eta)
    v = np.maximum(p * (1.0 - p), 1e-6)
    return float(np.clip(np.mean(((y - p) ** 2 + v**2 * eta_var) / v), 1e-4, 1.0))
