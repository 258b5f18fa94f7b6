"""Stored engine snapshots, and the one a worker process uses.

A snapshot holds the fitted learners in the engine's pickle-free format. Each worker process
keeps the newest one in memory and reloads only when a newer one appears, so a recommendation
costs one small query, not a deserialisation. A snapshot this engine cannot read (one saved in
an older format) is refused with a warning: advice comes from the published evidence until the
next retrain stores a readable one. A snapshot stored before the optimization learner was fitted
has none, and neither has one stored before the combination of the three was: such a snapshot
ranks with the model learner, as before.

Which learner ranks the strategies a learner is advised is decided here alone (`ranking_learner`):
the combination when the snapshot has it, else the model learner. The combination is stored as
its own weights only and put back together with the three learners loaded from their own fields.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TypeVar

from coach.engine import (
    CombinedMetaLearner,
    MemoryMetaLearner,
    MetaLearner,
    ModelMetaLearner,
    OptimizationMetaLearner,
    SnapshotError,
)
from coach.models import EngineRun, EngineSnapshot

# The learner whose predictions rank and choose the strategies (`coach.advice`) and whose 90%
# coverage the engine page reports for the advice: the combination when a snapshot has it, the
# model learner in one stored before. The model learner's `session_noise` sets what the
# exploring draws leave out either way: a session's own noise is the population's, whichever
# learner predicts its mean.
COMBINED_LEARNER = "combined"
FALLBACK_RANKING_LEARNER = "model"


def ranking_learner(has_combined: bool) -> str:
    """The key of the learner that ranks, in a snapshot and in a run's metrics."""
    return COMBINED_LEARNER if has_combined else FALLBACK_RANKING_LEARNER


@dataclass(frozen=True)
class LoadedSnapshot:
    id: int
    strategy_slugs: list[str]
    feature_names: list[str]
    model: ModelMetaLearner
    memory: MemoryMetaLearner
    optimization: OptimizationMetaLearner | None = None  # None in a snapshot stored before it was fitted
    combined: CombinedMetaLearner | None = None  # None in a snapshot stored before it was fitted

    @property
    def ranking_name(self) -> str:
        return ranking_learner(self.combined is not None)

    @property
    def ranking(self) -> ModelMetaLearner | CombinedMetaLearner:
        """The learner that ranks the strategies (`ranking_learner`)."""
        learner = getattr(self, self.ranking_name)
        assert isinstance(learner, (ModelMetaLearner, CombinedMetaLearner))
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
    combined: CombinedMetaLearner | None = None,
    strategy_slugs: list[str],
    feature_names: list[str],
) -> EngineSnapshot:
    """Store the fitted learners; `combined` (over these three) as its own weights only."""
    if combined is not None and any(
        combined.learners_.get(name) is not learner
        for name, learner in (("model", model), ("memory", memory), ("optimization", optimization))
    ):
        raise ValueError(
            "the combination must weigh the model, memory and optimization learners stored with it"
        )
    snapshot = EngineSnapshot.objects.create(
        run=run,
        strategy_slugs=strategy_slugs,
        feature_names=feature_names,
        model_learner=model.to_bytes(),
        memory_learner=memory.to_bytes(),
        optimization_learner=optimization.to_bytes(),
        combined_learner=None if combined is None else combined.combination_to_bytes(),
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
                combined = None
                if row.combined_learner is not None and optimization is not None:
                    bases = {"model": model, "memory": memory, "optimization": optimization}
                    combined = CombinedMetaLearner.from_combination_bytes(bytes(row.combined_learner), bases)
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
                combined=combined,
            )
        return _current


def _load(data: bytes, kind: type[_Learner]) -> _Learner:
    learner = MetaLearner.from_bytes(data)
    if not isinstance(learner, kind):
        raise TypeError(f"snapshot holds a {type(learner).__name__} where a {kind.__name__} belongs")
    return learner
