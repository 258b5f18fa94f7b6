"""Off-policy evaluation: what another coaching policy would have scored, from logged sessions.

The log holds, for each session i, the strategy studied a_i, its outcome r_i (the self-test
score) and its propensity mu_i = mu(a_i | x_i): the probability with which the policy in force
(the behaviour policy: the product's suggestion, followed or not, and the learner's habits) led
to that strategy in that situation. A target policy pi gives probabilities pi(. | x_i) over the
strategies in the same situations. Its value is the mean outcome had it chosen,
V(pi) = E[sum_a pi(a | x) E[r | x, a]], and the estimators reweight the log by the importance
weight w_i = pi(a_i | x_i) / mu_i.

Estimators (`method`):
  - "ips", inverse propensity scoring: mean of w_i r_i. Unbiased when every propensity is right
    and the log covers the target (mu(a | x) > 0 wherever pi(a | x) > 0); its variance grows
    with the weights, so it is the first to suffer when the target often does what the
    behaviour rarely did.
  - "snips", self-normalised: sum w_i r_i / sum w_i. Biased by O(1/n), but it stays within the
    range of the outcomes and its variance is usually far lower than IPS's when the weights are
    uneven. Needs only propensities up to a common factor.
  - "dm", the direct method: mean of sum_a pi(a | x_i) r_hat(x_i, a), where r_hat (n, S) is a
    model's predicted outcome of every strategy in each logged situation. No weights, hence no
    variance from them, but every bias of the model, and its interval ignores the model's own
    uncertainty: a reference, not an estimate to trust alone.
  - "dr", doubly robust (Dudik, Langford & Li 2011): the direct method plus the weighted
    residual of the logged strategy, w_i (r_i - r_hat(x_i, a_i)). Unbiased when the
    propensities are right, whatever the model; the better the model, the smaller the residuals
    and the variance. Biased only when both are wrong. r_hat must not be fitted on the outcomes
    it corrects (fit it on other learners), or it absorbs their noise.
  - "switch-dr" (Wang, Agarwal & Dudik 2017, as Open Bandit Pipeline implements it): "dr" where
    w_i <= `tau`, the direct method alone where the weight exceeds it. The rows dropped are
    those that make DR's variance; the price is the model's bias on them.

When to trust an estimate. `ess` = (sum w)^2 / sum w^2 is about how many logged sessions the
estimate rests on: n when the target does what the behaviour did, a few when a handful of
sessions with large weights carry it. Below a few dozen, IPS and DR are noisy, SNIPS is pulled
toward those few sessions, and the interval itself is unreliable (it is computed from the same
few sessions). Compare `ess` with the number of learners, not only with the number of sessions.

Clipping (`clip`): a cap on the importance weights, w_i = min(pi_i / mu_i, clip), as Open Bandit
Pipeline's `lambda_` for IPW and DR (equivalently a floor of pi_i / clip on the propensity).
None (the default) keeps the estimators unbiased. A cap trades bias for variance: the sessions
whose weight is cut count for less than they should, so for outcomes >= 0 IPS is biased
downwards by at most E[(w - clip)+ r], while no session can count for more than `clip`. Choose
the cap before looking at the estimate (e.g. from the propensities alone), never to move it.

Intervals (level 95% by default). With `PolicyLog.group` (learner ids), a percentile bootstrap
over learners: the sessions of one learner share that learner's quirks, so learners, not
sessions, are the independent units; each of the `n_bootstrap` draws resamples learners with
replacement, with all their sessions, and recomputes the estimator. Seeded by `random_state`.
Without groups the sessions are taken as independent and the interval is normal: every
estimator is a ratio of sums, sum(num_i) / sum(den_i) (den_i = 1 but for SNIPS's w_i), whose
linearisation psi_i = (num_i - V den_i) / mean(den) gives the standard error sd(psi) / sqrt(n)
(the sample mean's for IPS, DM, DR and switch-DR; the delta method's for SNIPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from statistics import NormalDist
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from coach.engine.evaluate import resampled_ratios

METHODS = ("ips", "snips", "dm", "dr", "switch-dr")
Method = Literal["ips", "snips", "dm", "dr", "switch-dr"]
N_BOOTSTRAP = 2000
_MODEL_METHODS = frozenset({"dm", "dr", "switch-dr"})
_ROW_SUM_TOL = 1e-6
# Resampled rows held at once: memory stays bounded for logs of many learners.
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class PolicyLog:
    """Logged sessions for off-policy evaluation; validated and converted when built.

    action:     (n,) int    the strategy studied, an index into the catalogue
    reward:     (n,) float  its outcome
    propensity: (n,) float  in (0, 1]: the behaviour policy's probability of that strategy
    group:      (n,) or None  who studied (learner ids): intervals then resample learners
    """

    action: np.ndarray
    reward: np.ndarray
    propensity: np.ndarray
    group: np.ndarray | None = None

    def __post_init__(self) -> None:
        action = _vector("action", self.action)
        n = action.shape[0]
        if n == 0:
            raise ValueError("the log is empty: at least one session is needed")
        reward = _vector("reward", self.reward, n)
        propensity = _vector("propensity", self.propensity, n)
        if not (np.issubdtype(action.dtype, np.integer) or _integral(action)):
            raise ValueError("action must hold integers (strategy indices)")
        action = action.astype(np.int64)
        if action.min() < 0:
            raise ValueError(f"action has {action.min()}: strategy indices start at 0")
        reward = _finite("reward", reward)
        propensity = _finite("propensity", propensity)
        outside = (propensity <= 0.0) | (propensity > 1.0)
        if outside.any():
            i = int(np.argmax(outside))
            raise ValueError(
                f"propensity must lie in (0, 1], got {float(propensity[i])!r} at row {i}: a session its "
                "policy could not have chosen cannot be reweighted"
            )
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "reward", reward)
        object.__setattr__(self, "propensity", propensity)
        if self.group is not None:
            group = _vector("group", self.group, n)
            if np.issubdtype(group.dtype, np.floating) and not np.all(np.isfinite(group)):
                raise ValueError("group contains NaN or infinite values")
            object.__setattr__(self, "group", group)

    def __len__(self) -> int:
        return int(self.action.shape[0])


@dataclass(frozen=True)
class Estimate:
    """A target policy's estimated value, its interval and the effective sample size."""

    value: float
    low: float
    high: float
    ess: float  # (sum w)^2 / sum w^2 of the importance weights, after any cap
    method: str
    n: int  # sessions
    n_groups: int | None  # learners resampled by the bootstrap; None for the normal interval


class _Terms(NamedTuple):
    """Per-session numerator and denominator of the estimator, a ratio of their sums."""

    num: np.ndarray
    den: np.ndarray


@validate_params(
    {
        "log": [PolicyLog],
        "target": ["array-like"],
        "method": [StrOptions(set(METHODS))],
        "reward_hat": ["array-like", None],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "tau": [Interval(Real, 0, None, closed="neither"), None],
        "level": [Interval(Real, 0, 1, closed="neither")],
        "n_bootstrap": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), np.random.Generator, None],
    },
    prefer_skip_nested_validation=True,
)
def off_policy_value(
    log: PolicyLog,
    *,
    target: ArrayLike,
    method: Method = "ips",
    reward_hat: ArrayLike | None = None,
    clip: float | None = None,
    tau: float | None = None,
    level: float = 0.95,
    n_bootstrap: int = N_BOOTSTRAP,
    random_state: int | np.random.Generator | None = None,
) -> Estimate:
    """The value of the policy `target` ((n, S) probabilities, rows summing to 1) on `log`, by
    `method` (see the module docstring). `reward_hat` (n, S): predicted outcomes, needed by
    "dm", "dr" and "switch-dr" only. `clip`: a cap on the importance weights (None: none).
    `tau`: the weight above which "switch-dr" keeps the model alone (needed by it only).
    `level`: of the interval; `n_bootstrap` draws and `random_state` when `log.group` is set."""
    pi = _target(target, log)
    r_hat = _reward_hat(reward_hat, method, pi.shape)
    if method == "switch-dr" and tau is None:
        raise ValueError("switch-dr needs tau, the weight above which only the model counts")
    if method != "switch-dr" and tau is not None:
        raise ValueError(f"tau is a parameter of switch-dr only, not of {method}")
    rows = np.arange(len(log))
    weight = pi[rows, log.action] / log.propensity
    if clip is not None:
        weight = np.minimum(weight, clip)
    terms = _terms(method, log, weight, pi, r_hat, tau)
    total = float(terms.den.sum())
    if total <= 0.0:
        raise ValueError("the target gives probability 0 to every logged strategy: snips is undefined")
    value = float(terms.num.sum()) / total
    if log.group is None:
        low, high = _normal_interval(terms, value, level)
        n_groups = None
    else:
        low, high, n_groups = _bootstrap_interval(terms, log.group, level, n_bootstrap, random_state)
    return Estimate(
        value=value,
        low=low,
        high=high,
        ess=effective_sample_size(weight),
        method=method,
        n=len(log),
        n_groups=n_groups,
    )


def effective_sample_size(weight: ArrayLike) -> float:
    """(sum w)^2 / sum w^2: n for equal weights, 1 when one weight carries everything, 0 when
    every weight is 0."""
    w = np.asarray(weight, dtype=np.float64)
    square = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / square if square > 0.0 else 0.0


def _terms(
    method: str,
    log: PolicyLog,
    weight: np.ndarray,
    pi: np.ndarray,
    r_hat: np.ndarray | None,
    tau: float | None,
) -> _Terms:
    ones = np.ones(len(log))
    if method == "ips":
        return _Terms(weight * log.reward, ones)
    if method == "snips":
        return _Terms(weight * log.reward, weight)
    assert r_hat is not None  # _reward_hat demands it for these methods
    direct = np.sum(pi * r_hat, axis=1)
    if method == "dm":
        return _Terms(direct, ones)
    residual = log.reward - r_hat[np.arange(len(log)), log.action]
    if method == "switch-dr":
        weight = np.where(weight <= tau, weight, 0.0)
    return _Terms(direct + weight * residual, ones)


def _normal_interval(terms: _Terms, value: float, level: float) -> tuple[float, float]:
    n = terms.num.shape[0]
    if n < 2:
        raise ValueError("an interval needs at least two sessions")
    psi = (terms.num - value * terms.den) / terms.den.mean()
    half = _z(level) * float(psi.std(ddof=1)) / float(np.sqrt(n))
    return value - half, value + half


def _bootstrap_interval(
    terms: _Terms,
    group: np.ndarray,
    level: float,
    n_bootstrap: int,
    random_state: int | np.random.Generator | None,
) -> tuple[float, float, int]:
    _, index = np.unique(group, return_inverse=True)
    n_groups = int(index.max()) + 1
    if n_groups < 2:
        raise ValueError("a bootstrap over learners needs at least two groups")
    num = np.bincount(index, weights=terms.num, minlength=n_groups)
    den = np.bincount(index, weights=terms.den, minlength=n_groups)
    rng = np.random.default_rng(random_state)
    chunk = max(1, _CHUNK_CELLS // n_groups)
    draws = []
    for start in range(0, n_bootstrap, chunk):
        resamples = rng.integers(0, n_groups, (min(chunk, n_bootstrap - start), n_groups))
        draws.append(resampled_ratios(num[:, None], den, resamples)[:, 0])
    tail = 50.0 * (1.0 - level)
    low, high = np.nanpercentile(np.concatenate(draws), [tail, 100.0 - tail])
    return float(low), float(high), n_groups


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _target(target: ArrayLike, log: PolicyLog) -> np.ndarray:
    pi = _matrix("target", target, len(log))
    if np.any(pi < 0.0):
        raise ValueError("target holds negative probabilities")
    sums = pi.sum(axis=1)
    off = np.abs(sums - 1.0) > _ROW_SUM_TOL
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(f"every row of target must sum to 1, row {i} sums to {float(sums[i])!r}")
    if log.action.max() >= pi.shape[1]:
        raise ValueError(f"action has {log.action.max()}, outside the target's {pi.shape[1]} strategies")
    return pi


def _reward_hat(reward_hat: ArrayLike | None, method: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if method not in _MODEL_METHODS:
        if reward_hat is not None:
            raise ValueError(f"{method} uses no reward model: pass reward_hat to dm, dr or switch-dr only")
        return None
    if reward_hat is None:
        raise ValueError(f"{method} needs reward_hat, the predicted outcome (n, S) of every strategy")
    r_hat = _matrix("reward_hat", reward_hat, shape[0])
    if r_hat.shape != shape:
        raise ValueError(f"reward_hat must have the target's shape {shape}, got {r_hat.shape}")
    return r_hat


def _vector(name: str, values: ArrayLike, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n,), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but action has {n}")
    return arr


def _matrix(name: str, values: ArrayLike, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n, S) with n={n} logged sessions, got {arr.shape}")
    return _finite(name, arr)


def _finite(name: str, arr: np.ndarray) -> np.ndarray:
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _integral(arr: np.ndarray) -> bool:
    if not np.issubdtype(arr.dtype, np.floating):
        return False
    return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
