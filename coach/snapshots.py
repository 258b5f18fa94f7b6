"""Stored engine snapshots, and the one a worker process uses.

A snapshot holds the fitted learners in the engine's pickle-free format. Each worker process
keeps the newest one in memory and reloads only when a newer one appears, so a recommendation
costs one small query, not a deserialisation. A snapshot this engine cannot read (one saved in
an older format) is refused with a warning: advice comes from the published evidence until the
next retrain stores a readable one. A snapshot stored before the optimization learner was fitted
has none and advises as before: the advice does not read that learner yet.

Which learner ranks the strategies a learner is advised is decided here alone (`RANKING_LEARNER`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TypeVar

from coach.engine import (
    MemoryMetaLearner,
    MetaLearner,
    ModelMetaLearner,
    OptimizationMetaLearner,
    SnapshotError,
)
from coach.models import EngineRun, EngineSnapshot

# The learner whose predictions rank and choose the strategies (`coach.advice`) and whose 90%
# coverage the engine page reports for the advice. Its `session_noise` sets what the exploring
# draws leave out.
RANKING_LEARNER = "model"


@dataclass(frozen=True)
class LoadedSnapshot:
    id: int
    strategy_slugs: list[str]
    feature_names: list[str]
    model: ModelMetaLearner
    memory: MemoryMetaLearner
    optimization: OptimizationMetaLearner | None  # None in a snapshot stored before it was fitted

    @property
    def ranking(self) -> ModelMetaLearner:
        """The learner that ranks the strategies (`RANKING_LEARNER`)."""
        learner = getattr(self, RANKING_LEARNER)
        assert isinstance(learner, ModelMetaLearner)
        return learner


KEEP = 3  # older snapshots are deleted: each holds the fitted learners (megabytes on a large install)
_Learner = TypeVar("_Learner", bound=MetaLearner)

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_current: LoadedSnapshot | None = None
_unreadable: int | None = None  # the newest snapshot's id, when it cannot be loaded


def snapshot_store(
    *,
    run: EngineRun,
    model: ModelMetaLearner,
    memory: MemoryMetaLearner,
    optimization: OptimizationMetaLearner,
    strategy_slugs: list[str],
    feature_names: list[str],
) -> EngineSnapshot:
    snapshot = EngineSnapshot.objects.create(
        run=run,
        strategy_slugs=strategy_slugs,
        feature_names=feature_names,
        model_learner=model.to_bytes(),
        memory_learner=memory.to_bytes(),
        optimization_learner=optimization.to_bytes(),
    )
    keep = EngineSnapshot.objects.order_by("-created_at", "-id").values_list("id", flat=True)[:KEEP]
    EngineSnapshot.objects.exclude(id__in=list(keep)).delete()
    return snapshot


def snapshot_current() -> LoadedSnapshot | None:
    """The newest snapshot, loaded once per process."""
    global _current, _unreadable
    newest = EngineSnapshot.objects.order_by("-created_at", "-id").values_list("id", flat=True).first()
    if newest is None or newest == _unreadable:
        return None
    with _lock:
        if _current is None or _current.id != newest:
            row = EngineSnapshot.objects.get(pk=newest)
            try:
                model = _load(bytes(row.model_learner), ModelMetaLearner)
                memory = _load(bytes(row.memory_learner), MemoryMetaLearner)
                stored = row.optimization_learner
                optimization = None if stored is None else _load(bytes(stored), OptimizationMetaLearner)
            except SnapshotError as exc:
                logger.warning("Engine snapshot %s cannot be used (%s); advising from evidence", newest, exc)
                _unreadable = newest
                return None
            _current = LoadedSnapshot(
                id=row.pk,
                strategy_slugs=list(row.strategy_slugs),
                feature_names=list(row.feature_names),
                model=model,
                memory=memory,
                optimization=optimization,
            )
        return _current


def _load(data: bytes, kind: type[_Learner]) -> _Learner:
    learner = MetaLearner.from_bytes(data)
    if not isinstance(learner, kind):
        raise TypeError(f"snapshot holds a {type(learner).__name__} where a {kind.__name__} belongs")
    return learner
