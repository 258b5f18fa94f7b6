"""The model learner's numerical core: the two ways of computing Laplace posteriors agree."""

from __future__ import annotations

import numpy as np
import pytest

from coach.engine import _mixed
from coach.engine.stats import BLOCKS_FROM


@pytest.fixture(scope="module")
def rows() -> dict[str, np.ndarray]:
    """Binary outcomes of 300 learners over 6 strategies, with offsets drawn from a prior."""
    rng = np.random.default_rng(3)
    n_learners, s, n = 300, 6, 6000
    cov = 0.3 * (np.eye(s) + 0.5 * np.ones((s, s)))
    true = rng.multivariate_normal(np.zeros(s), cov, n_learners)
    learner = rng.integers(0, n_learners, n)
    strategy = rng.integers(0, s, n)
    key = learner * s + strategy
    fixed = rng.normal(0.0, 0.8, n)
    y = (rng.random(n) < _mixed.sigmoid(fixed + true.ravel()[key])).astype(np.float64)
    return {
        "prec": np.linalg.inv(cov),
        "key": key,
        "fixed": fixed,
        "y": y,
        "start": np.zeros((n_learners, s)),
    }


def test_warm_posterior_converges_to_the_exact_mode(rows: dict[str, np.ndarray]) -> None:
    theta, var, total = _mixed.posterior_logit(
        rows["prec"], rows["key"], rows["fixed"], rows["y"], rows["start"]
    )
    # From the prior mean, as the first EM step does; then from its own result, as later ones do.
    warm = rows["start"]
    for _ in range(6):
        warm, warm_var, warm_total = _mixed.posterior_logit_warm(
            rows["prec"], rows["key"], rows["fixed"], rows["y"], warm
        )
    np.testing.assert_allclose(warm, theta, atol=1e-5)
    np.testing.assert_allclose(warm_var, var, rtol=1e-4)
    np.testing.assert_allclose(warm_total, total, rtol=1e-4)


def test_warm_posterior_from_the_mode_stays_there(rows: dict[str, np.ndarray]) -> None:
    theta, var, _ = _mixed.posterior_logit(rows["prec"], rows["key"], rows["fixed"], rows["y"], rows["start"])
    again, again_var, _ = _mixed.posterior_logit_warm(
        rows["prec"], rows["key"], rows["fixed"], rows["y"], theta
    )
    np.testing.assert_allclose(again, theta, atol=1e-6)
    np.testing.assert_allclose(again_var, var, rtol=1e-6)


def test_warm_posterior_moves_from_a_wrong_start(rows: dict[str, np.ndarray]) -> None:
    theta, _, _ = _mixed.posterior_logit(rows["prec"], rows["key"], rows["fixed"], rows["y"], rows["start"])
    off = rows["start"] + 1.0
    moved, _, _ = _mixed.posterior_logit_warm(rows["prec"], rows["key"], rows["fixed"], rows["y"], off)
    assert np.abs(moved - theta).max() < 0.5 * np.abs(off - theta).max()


@pytest.mark.parametrize("n_strategies", [6, 40])
def test_posterior_covariances_in_blocks_equal_the_full_inverses(n_strategies: int) -> None:
    # Many strategies and learners take the Woodbury form over the strategies each one used.
    rng = np.random.default_rng(5)
    s, n_learners = n_strategies, 50
    low = rng.normal(size=(s, s))
    prec = np.linalg.inv(low @ low.T / s + 0.2 * np.eye(s))
    info = np.abs(rng.normal(size=(n_learners, s))) * (rng.random((n_learners, s)) < 0.2)
    info[0] = 0.0  # used nothing
    info[1] = 1e3 * (np.abs(rng.normal(size=s)) + 0.1)  # used everything, many times
    full = np.linalg.inv(prec[None] + info[:, None, :] * np.eye(s)[None])
    posterior = _mixed._Posterior(prec, info)
    assert posterior.blocks == (s >= BLOCKS_FROM)
    rhs = rng.normal(size=(n_learners, s))
    np.testing.assert_allclose(posterior.solve(rhs), np.einsum("lij,lj->li", full, rhs), atol=1e-10)
    np.testing.assert_allclose(posterior.variances(), np.diagonal(full, axis1=1, axis2=2), atol=1e-10)
    np.testing.assert_allclose(posterior.total(), full.sum(axis=0), atol=1e-9)
