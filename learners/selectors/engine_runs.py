"""Reads for the engine page: runs with the figures of their evaluation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.models import EngineRun

ENGINE_LEARNERS = ("model", "memory", "evidence")


@dataclass(frozen=True)
class EngineRunRow:
    """An engine run with the figures of its evaluation at the largest k, for the runs table."""

    run: EngineRun
    k: int | None
    held_out: int | None
    rmse: dict[str, float | None]  # learner name -> RMSE in score points
    coverage: float | None  # share of held-out outcomes inside the model's 90% interval


def engine_run_rows(*, runs: list[EngineRun]) -> list[EngineRunRow]:
    rows = []
    for run in runs:
        metrics = run.metrics or {}
        ks = metrics.get("ks") or []
        learners = metrics.get("learners") or {}
        rmse = {name: _last(learners.get(name, {}).get("rmse")) for name in ENGINE_LEARNERS}
        rows.append(
            EngineRunRow(
                run=run,
                k=ks[-1] if ks else None,
                held_out=metrics.get("held_out_learners"),
                rmse=rmse,
                coverage=_last(learners.get("model", {}).get("coverage90")),
            )
        )
    return rows


def _last(values: list[float | None] | None) -> float | None:
    if not values:
        return None
    value = values[-1]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
