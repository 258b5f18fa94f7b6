"""A minimal stand-in for `coach.engine.policy_eval`, used by the tests only while that module is
not on this branch: the same contract (PolicyLog, off_policy_value(..., method="snips") with
value, low, high and ess), SNIPS with a percentile bootstrap over groups."""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PolicyLog:
    action: np.ndarray
    reward: np.ndarray
    propensity: np.ndarray
    group: np.ndarray | None = None


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    ess: float


def off_policy_value(
    log: PolicyLog,
    *,
    target: np.ndarray,
    method: str = "snips",
    n_bootstrap: int = 2000,
    random_state: int | None = None,
) -> Estimate:
    assert method == "snips"
    target = np.asarray(target, dtype=float)
    w = target[np.arange(len(log.action)), log.action] / log.propensity
    r = np.asarray(log.reward, dtype=float)
    value = float((w * r).sum() / w.sum())
    ess = float(w.sum() ** 2 / (w**2).sum())
    groups = (
        np.zeros(len(w), dtype=int) if log.group is None else np.unique(log.group, return_inverse=True)[1]
    )
    num, den = np.bincount(groups, w * r), np.bincount(groups, w)
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, num.shape[0], (n_bootstrap, num.shape[0]))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = num[draws].sum(axis=1) / den[draws].sum(axis=1)
    low, high = np.nanpercentile(ratios, [2.5, 97.5])
    return Estimate(value=value, low=float(low), high=float(high), ess=ess)


def install() -> bool:
    """Put the stand-in in place of a missing `coach.engine.policy_eval`; True if it did."""
    try:
        importlib.import_module("coach.engine.policy_eval")
    except ModuleNotFoundError:
        module = types.ModuleType("coach.engine.policy_eval")
        module.PolicyLog = PolicyLog  # type: ignore[attr-defined]
        module.off_policy_value = off_policy_value  # type: ignore[attr-defined]
        sys.modules["coach.engine.policy_eval"] = module
        return True
    return False
