"""Stored engine snapshots, and the one a worker process uses.

A snapshot holds both fitted learners in the engine's pickle-free format. Each worker process
keeps the newest one in memory and reloads only when a newer one appears, so a recommendation
costs one small query, not a deserialisation. A snapshot this engine cannot read (one saved in
an older format) is refused with a warning: advice comes from the published evidence until the
next retrain stores a readable one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from coach.engine import MemoryMetaLearner, MetaLearner, ModelMetaLearner, SnapshotError
from coach.models import EngineRun, EngineSnapshot


@dataclass(frozen=True)
class LoadedSnapshot:
    id: int
    strategy_slugs: list[str]
    feature_names: list[str]
    model: ModelMetaLearner
    memory: MemoryMetaLearner


KEEP = 3  # older snapshots are deleted: each holds both fitted learners (megabytes on a large install)

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_current: LoadedSnapshot | None = None
_unreadable: int | None = None  # the newest snapshot's id, when it cannot be loaded


def snapshot_store(
    *,
    run: EngineRun,
    model: ModelMetaLearner,
    memory: MemoryMetaLearner,
    strategy_slugs: list[str],
    feature_names: list[str],
) -> EngineSnapshot:
    snapshot = EngineSnapshot.objects.create(
        run=run,
        strategy_slugs=strategy_slugs,
        feature_names=feature_names,
        model_learner=model.to_bytes(),
        memory_learner=memory.to_bytes(),
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
                model, memory = _load_model(bytes(row.model_learner)), _load_memory(bytes(row.memory_learner))
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
            )
        return _current


def _load_model(data: bytes) -> ModelMetaLearner:
    learner = MetaLearner.from_bytes(data)
    if not isinstance(learner, ModelMetaLearner):
        raise TypeError(f"snapshot holds a {type(learner).__name__} where a model learner belongs")
    return learner


def _load_memory(data: bytes) -> MemoryMetaLearner:
    learner = MetaLearner.from_bytes(data)
    if not isinstance(learner, MemoryMetaLearner):
        raise TypeError(f"snapshot holds a {type(learner).__name__} where a memory learner belongs")
    return learner
