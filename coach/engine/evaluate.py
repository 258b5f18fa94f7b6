"""Held-out evaluation of fitted learners: how well they predict a learner's next session.

For each held-out learner with more than k scored sessions, a predictor sees the first k and
predicts session k+1; the figures are the RMSE of that prediction and the share of outcomes
inside the stated 90% interval, by k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from coach.engine.log import SessionLog

Predictor = Callable[[SessionLog, np.ndarray], tuple[np.ndarray, np.ndarray]]
Z90 = 1.645


def split_learners(
    log: SessionLog, *, test_share: float = 0.2, seed: int = 0
) -> tuple[SessionLog, SessionLog]:
    """Training and held-out logs, split by learner (at least one learner on each side)."""
    learners = np.unique(log.learner)
    if learners.size < 2:
        raise ValueError("at least two learners are needed to hold some out")
    rng = np.random.default_rng(seed)
    n_test = min(max(1, round(test_share * learners.size)), learners.size - 1)
    held_out = rng.choice(learners, size=n_test, replace=False)
    mask = np.isin(log.learner, held_out)
    return log.take(~mask), log.take(mask)


def next_session_scores(
    predictors: dict[str, Predictor], held_out: SessionLog, *, ks: Sequence[int] = (0, 1, 2, 5, 10)
) -> dict[str, Any]:
    """RMSE and 90% coverage of each predictor's next-session prediction after k sessions seen."""
    learners = np.unique(held_out.learner)
    result: dict[str, Any] = {
        "held_out_learners": int(learners.size),
        "ks": list(ks),
        "n": [],
        "learners": {},
    }
    errors: dict[str, dict[int, list[float]]] = {name: {k: [] for k in ks} for name in predictors}
    covered: dict[str, dict[int, list[bool]]] = {name: {k: [] for k in ks} for name in predictors}
    for learner in learners:
        own = held_out.for_learner(int(learner))
        for k in ks:
            if len(own) <= k:
                continue
            history, target = own.take(slice(0, k)), own.take(slice(k, k + 1))
            for name, predict in predictors.items():
                mean, std = predict(history, target.context)
                m, s = float(mean[0, target.strategy[0]]), float(std[0, target.strategy[0]])
                errors[name][k].append(m - float(target.outcome[0]))
                covered[name][k].append(abs(m - float(target.outcome[0])) <= Z90 * s)
    result["n"] = [len(next(iter(errors.values()))[k]) if errors else 0 for k in ks]
    for name in predictors:
        result["learners"][name] = {
            "rmse": [_rmse(errors[name][k]) for k in ks],
            "coverage90": [float(np.mean(covered[name][k])) if covered[name][k] else None for k in ks],
        }
    return result


def _rmse(errors: list[float]) -> float | None:
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else None
