"""Held-out evaluation of fitted learners: how well they predict a learner's later sessions.

For each held-out learner with more than k scored sessions, a predictor sees the first k and
predicts every later session, each in its own situation. The figures, by k, are the RMSE of
those predictions pooled over learners, the share of outcomes inside the stated 90% interval,
and a 95% interval of the RMSE from resampling the held-out learners: a figure from a handful
of learners moves a lot from one run to the next, and the interval says how much.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from coach.engine.log import SessionLog
from coach.engine.stats import Z90

Predictor = Callable[[SessionLog, np.ndarray], tuple[np.ndarray, np.ndarray]]
N_RESAMPLES = 1000


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


def later_session_scores(
    predictors: dict[str, Predictor],
    held_out: SessionLog,
    *,
    ks: Sequence[int] = (0, 1, 2, 5, 10),
    seed: int = 0,
    per_learner: Mapping[str, Callable[[int], Predictor]] | None = None,
) -> dict[str, Any]:
    """RMSE (with a 95% interval over learners) and 90% coverage of each predictor's
    predictions of a held-out learner's later sessions after their first k, for every k.

    Returns {"held_out_learners", "ks", "n": predictions per k, "n_learners": learners per k,
    "learners": {name: {"rmse", "rmse_ci95", "coverage90"}}}; a k no learner reaches has None
    figures, and an interval needs at least two learners. `per_learner` adds predictors that
    differ by held-out learner ({name: learner id -> predictor}), called after `predictors` on
    the same history and context, e.g. one whose parameters were fitted without that learner.
    """
    makers = dict(per_learner or {})
    names = [*predictors, *makers]
    ks = [int(k) for k in ks]
    learners = np.unique(held_out.learner)
    # Per learner and k: predictions made, squared error summed, outcomes inside the interval.
    count = np.zeros((learners.size, len(ks)))
    sse = {name: np.zeros((learners.size, len(ks))) for name in names}
    inside = {name: np.zeros((learners.size, len(ks))) for name in names}
    for i, learner in enumerate(learners):
        own = held_out.for_learner(int(learner))
        here = {**predictors, **{name: make(int(learner)) for name, make in makers.items()}}
        for j, k in enumerate(ks):
            if len(own) <= k:
                continue
            history, later = own.take(slice(0, k)), own.take(slice(k, len(own)))
            rows = np.arange(len(later))
            count[i, j] = len(later)
            for name, predict in here.items():
                mean, std = predict(history, later.context)
                error = mean[rows, later.strategy] - later.outcome
                sse[name][i, j] = float(np.sum(error**2))
                inside[name][i, j] = float(np.sum(np.abs(error) <= Z90 * std[rows, later.strategy]))
    resamples = np.random.default_rng(seed).integers(0, learners.size, (N_RESAMPLES, learners.size))
    reached = count > 0
    result: dict[str, Any] = {
        "held_out_learners": int(learners.size),
        "ks": ks,
        "n": [int(c) for c in count.sum(axis=0)],
        "n_learners": [int(r) for r in reached.sum(axis=0)],
        "learners": {},
    }
    for name in names:
        result["learners"][name] = {
            "rmse": _ratio(sse[name].sum(axis=0), count.sum(axis=0), root=True),
            "rmse_ci95": _interval(sse[name], count, reached, resamples),
            "coverage90": _ratio(inside[name].sum(axis=0), count.sum(axis=0)),
        }
    return result


def _ratio(num: np.ndarray, den: np.ndarray, *, root: bool = False) -> list[float | None]:
    """num / den at each k (its square root with `root`), None where nothing was predicted."""
    ratio = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    values = np.sqrt(ratio) if root else ratio
    return [float(v) if d > 0 else None for v, d in zip(values, den, strict=True)]


def _interval(
    sse: np.ndarray, count: np.ndarray, reached: np.ndarray, resamples: np.ndarray
) -> list[list[float] | None]:
    """95% percentile interval of the pooled RMSE at each k over resampled learners; learners
    who never reach a k count for nothing there, as in the estimate itself."""
    rmse = np.sqrt(resampled_ratios(sse, count, resamples))
    intervals: list[list[float] | None] = []
    for j in range(count.shape[1]):
        if reached[:, j].sum() < 2:
            intervals.append(None)
            continue
        low, high = np.nanpercentile(rmse[:, j], [2.5, 97.5])
        intervals.append([float(low), float(high)])
    return intervals


def resampled_ratios(num: np.ndarray, den: np.ndarray, resamples: np.ndarray) -> np.ndarray:
    """A ratio of sums over units (learners), for each resample of them: `num` (n, K), `den`
    (n,) or (n, K), `resamples` (R, n) unit ids; (R, K), NaN where a denominator sums to 0."""
    top = num[resamples].sum(axis=1)
    bottom = den[resamples].sum(axis=1).reshape(len(resamples), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, np.nan)
