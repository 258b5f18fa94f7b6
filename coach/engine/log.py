"""The engine's only input type: a time-ordered log of study sessions as arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class LogError(ValueError):
    """Input that the engine refuses, with a message that says what is wrong."""


@dataclass(frozen=True)
class SessionLog:
    """Sessions as parallel arrays; rows are time-ordered within each learner.

    learner:  (n,) int     who studied
    strategy: (n,) int     index into the strategy catalogue, in [0, n_strategies)
    context:  (n, d) float what was known before the session (profile, situation)
    outcome:  (n,) float   higher is better; 0/1 outcomes work too
    """

    learner: np.ndarray
    strategy: np.ndarray
    context: np.ndarray
    outcome: np.ndarray

    @classmethod
    def empty(cls, n_features: int) -> SessionLog:
        """A log with no rows, e.g. the history of a brand-new learner."""
        return cls(
            learner=np.zeros(0, dtype=np.int64),
            strategy=np.zeros(0, dtype=np.int64),
            context=np.zeros((0, n_features), dtype=np.float64),
            outcome=np.zeros(0, dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(np.asarray(self.learner).shape[0])

    @property
    def n_features(self) -> int:
        context = np.asarray(self.context)
        return int(context.shape[1]) if context.ndim == 2 else 0

    def take(self, index: np.ndarray | slice) -> SessionLog:
        """The rows selected by a boolean mask, an index array or a slice, order kept."""
        return SessionLog(
            learner=np.asarray(self.learner)[index],
            strategy=np.asarray(self.strategy)[index],
            context=np.asarray(self.context)[index],
            outcome=np.asarray(self.outcome)[index],
        )

    def for_learner(self, learner_id: int) -> SessionLog:
        return self.take(np.asarray(self.learner) == learner_id)


def check_log(
    log: SessionLog,
    *,
    n_strategies: int,
    n_features: int | None = None,
    allow_empty: bool = False,
    single_learner: bool = False,
    name: str = "log",
) -> SessionLog:
    """Validate a log and return it with canonical dtypes (int64 / float64, 2-D context)."""
    if not isinstance(log, SessionLog):
        raise LogError(f"{name} must be a SessionLog, got {type(log).__name__}")
    learner = np.asarray(log.learner)
    strategy = np.asarray(log.strategy)
    outcome = np.asarray(log.outcome)
    context = np.asarray(log.context)
    for field, arr in (("learner", learner), ("strategy", strategy), ("outcome", outcome)):
        if arr.ndim != 1:
            raise LogError(f"{name}.{field} must be 1-D, got shape {arr.shape}")
    n = learner.shape[0]
    for field, arr in (("strategy", strategy), ("outcome", outcome)):
        if arr.shape[0] != n:
            raise LogError(f"{name}.{field} has {arr.shape[0]} rows but {name}.learner has {n}")
    if context.ndim == 1 and context.shape[0] == 0 and n == 0:
        context = context.reshape(0, n_features or 0)
    if context.ndim != 2 or context.shape[0] != n:
        raise LogError(f"{name}.context must have shape (n, d) with n={n}, got {context.shape}")
    if n == 0 and not allow_empty:
        raise LogError(f"{name} is empty: at least one session is needed")
    if n_features is not None and context.shape[1] != n_features:
        raise LogError(f"{name}.context has {context.shape[1]} features, expected {n_features}")
    for field, arr in (("learner", learner), ("strategy", strategy)):
        if n and not np.issubdtype(arr.dtype, np.integer) and not _integral_floats(arr):
            raise LogError(f"{name}.{field} must hold integers")
    try:
        context = context.astype(np.float64, copy=False)
        outcome = outcome.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise LogError(f"{name}.context and {name}.outcome must be numeric: {exc}") from None
    if not np.all(np.isfinite(context)):
        raise LogError(f"{name}.context contains NaN or infinite values")
    if not np.all(np.isfinite(outcome)):
        raise LogError(f"{name}.outcome contains NaN or infinite values")
    strategy = strategy.astype(np.int64, copy=False)
    learner = learner.astype(np.int64, copy=False)
    if n and (strategy.min() < 0 or strategy.max() >= n_strategies):
        bad = strategy[(strategy < 0) | (strategy >= n_strategies)][0]
        raise LogError(f"{name}.strategy has {bad}, outside [0, {n_strategies})")
    if single_learner and n and np.any(learner != learner[0]):
        raise LogError(f"{name} must hold the sessions of one learner only")
    return SessionLog(learner=learner, strategy=strategy, context=context, outcome=outcome)


def _integral_floats(arr: np.ndarray) -> bool:
    return bool(
        np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    )


def check_context(context: np.ndarray, *, n_features: int) -> np.ndarray:
    """Validate the (m, d) situations a prediction is asked for."""
    arr = np.asarray(context)
    if arr.ndim == 1 and n_features == arr.shape[0] and arr.shape[0] > 0:
        raise LogError(f"context must be 2-D (m, {n_features}); reshape a single row with context[None, :]")
    if arr.ndim != 2 or arr.shape[1] != n_features:
        raise LogError(f"context must have shape (m, {n_features}), got {arr.shape}")
    try:
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise LogError(f"context must be numeric: {exc}") from None
    if not np.all(np.isfinite(arr)):
        raise LogError("context contains NaN or infinite values")
    return arr
