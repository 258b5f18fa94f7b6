"""Reads for the engine page: runs with the figures of their evaluation, and the learners measured."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from coach.engine.combined import INVERSE_VARIANCE, SINGLE
from coach.models import EngineRun
from coach.snapshots import ranking_learner


@dataclass(frozen=True)
class EngineLearner:
    """A predictor the retrain evaluates: its key in a run's metrics, its name and what it is."""

    key: str
    name: str | Promise
    description: str | Promise


# In the order the page shows them; a run recorded before a learner existed shows "–" for it.
ENGINE_LEARNERS = (
    EngineLearner("model", _("Model"), _("Model-based: a population model adapted from a few sessions.")),
    EngineLearner("memory", _("Memory"), _("Memory-based: reuses what worked for similar learners.")),
    EngineLearner(
        "optimization",
        _("Optimization"),
        _(
            "Optimization-based: a model per learner whose starting point and step sizes are "
            "learned across learners."
        ),
    ),
    EngineLearner(
        "combined",
        _("Combined"),
        _("The three above, weighed by how well each predicted held-out learners after as many sessions."),
    ),
    EngineLearner(
        "evidence",
        _("Evidence only"),
        _("The published ratings moved by the learner's own scores, as before the first retrain."),
    ),
)


@dataclass(frozen=True)
class EngineRunRow:
    """An engine run with the figures of its evaluation at the largest k, for the runs table."""

    run: EngineRun
    k: int | None
    held_out: int | None
    rmse: list[float | None]  # RMSE in score points of each of ENGINE_LEARNERS, in their order
    coverage: float | None  # share of held-out outcomes inside the ranking learner's 90% interval


@dataclass(frozen=True)
class LearnerFigure:
    """One learner's figures after k sessions: RMSE in score points, 90% coverage as a share."""

    k: int
    rmse: float | None
    coverage: float | None


@dataclass(frozen=True)
class LearnerEvaluation:
    """One learner's figures at every k of a run's evaluation, for the per-learner table."""

    learner: EngineLearner
    ranks: bool  # the learner whose predictions rank the strategies
    figures: list[LearnerFigure]


def engine_run_rows(*, runs: list[EngineRun]) -> list[EngineRunRow]:
    rows = []
    for run in runs:
        metrics = run.metrics or {}
        ks = metrics.get("ks") or []
        learners = metrics.get("learners") or {}
        rows.append(
            EngineRunRow(
                run=run,
                k=ks[-1] if ks else None,
                held_out=metrics.get("held_out_learners"),
                rmse=[_last(learners.get(learner.key, {}).get("rmse")) for learner in ENGINE_LEARNERS],
                coverage=_last(learners.get(_ranking(metrics), {}).get("coverage90")),
            )
        )
    return rows


def engine_evaluation(*, metrics: dict) -> list[LearnerEvaluation]:
    """Every learner's RMSE and 90% coverage at each k of a run's evaluation; the learners the
    run did not evaluate (it ran before they existed) are left out."""
    ks = metrics.get("ks") or []
    learners = metrics.get("learners") or {}
    evaluations = []
    for learner in ENGINE_LEARNERS:
        scores = learners.get(learner.key)
        if not scores:
            continue
        rmse, coverage = scores.get("rmse") or [], scores.get("coverage90") or []
        figures = [LearnerFigure(k=k, rmse=_at(rmse, j), coverage=_at(coverage, j)) for j, k in enumerate(ks)]
        evaluations.append(
            LearnerEvaluation(learner=learner, ranks=learner.key == _ranking(metrics), figures=figures)
        )
    return evaluations


@dataclass(frozen=True)
class BucketWeights:
    """The combination's weights for learners with `first`..`last` sessions (`last` None: and more)."""

    first: int
    last: int | None
    shares: list[tuple[EngineLearner, int | None]]  # each learner combined, its weight in percent
    inverse_variance: bool  # weighed by each learner's own certainty instead of these shares
    alone: bool  # the learner that predicted best, alone (its share is 100%)


# The learners the combination weighs, as the page names them.
COMBINED_LEARNERS = tuple(
    learner for learner in ENGINE_LEARNERS if learner.key in ("model", "memory", "optimization")
)


def combination_weights(*, metrics: dict) -> list[BucketWeights]:
    """The combination's weights per bucket of session counts, as the run fitted them (empty for a
    run that fitted none)."""
    combination = metrics.get("combination") or {}
    starts = combination.get("bucket_starts") or []
    names, weights = combination.get("learners") or [], combination.get("weights") or []
    methods = combination.get("method") or []
    buckets = []
    for j, first in enumerate(starts):
        row = dict(zip(names, weights[j], strict=False)) if j < len(weights) else {}
        buckets.append(
            BucketWeights(
                first=int(first),
                last=int(starts[j + 1]) - 1 if j + 1 < len(starts) else None,
                shares=[(learner, _percent(row.get(learner.key))) for learner in COMBINED_LEARNERS],
                inverse_variance=j < len(methods) and methods[j] == INVERSE_VARIANCE,
                alone=j < len(methods) and methods[j] == SINGLE,
            )
        )
    return buckets


def _percent(share: float | None) -> int | None:
    return None if share is None else round(100 * float(share))


def _ranking(metrics: dict) -> str:
    # A run that fitted the combination stored it, and the product ranks with it.
    return ranking_learner(bool(metrics.get("combination")))


def _at(values: list[float | None], j: int) -> float | None:
    return _finite(values[j]) if j < len(values) else None


def _last(values: list[float | None] | None) -> float | None:
    return _finite(values[-1]) if values else None


def _finite(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
