"""Meta-training the engine's learners on a SessionLog, with a held-out evaluation; no database here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from coach.engine import (
    CombinedMetaLearner,
    MemoryMetaLearner,
    MetaLearner,
    ModelMetaLearner,
    OptimizationMetaLearner,
    SessionLog,
)
from coach.engine.evaluate import Predictor, later_session_scores, split_learners
from coach.engine.prior import evidence_prior
from coach.fallback import evidence_ranking, population_estimate

MIN_LEARNERS = 5
MIN_SESSIONS = 30
EVALUATION_KS = (0, 1, 2, 5, 10)
TIME_LIMIT_SECONDS = 1800  # hard limit of the retrain task; a run older than this is dead
# The held-out evaluation fits the learners once more on 80% of the learners and predicts for
# the rest, one learner at a time: on a large install it runs on a random sample of this many
# learners (1,600 held out give RMSE intervals of a fraction of a point), and only the final
# fit sees everyone.
EVALUATION_LEARNERS_MAX = 8_000
# No learner's snapshot holds a parameter per learner of the install: the model learner keeps
# the population's coefficients and covariances, the memory learner those and a bank of learner
# snapshots to search, the optimization learner its starting point and step sizes. Past this
# many learners the final fit runs on a random sample of them. On simulated learners x 50
# sessions (python -m bench.fit_sample), measured for the model and memory learners: a fit on
# 30,000 predicted 2,000 held-out learners with the same RMSE (within 0.005 points at k = 0..10)
# and 90% coverage (within 0.004) as a fit on 98,000, in a quarter of the time and memory; a fit
# on 20,000 as one on 30,000 (within 0.006 points and 0.004), in 26 s against 39 s.
FIT_LEARNERS_MAX = 20_000
# The combination that ranks is weighed on the held-out learners' predictions after 0, 1, 2, 3,
# 5, 8, ... sessions by each learner, which costs about as much as scoring them; on a large
# install a random sample of this many held-out learners fits its weights. On 10,000 simulated
# learners x 30 sessions (2,000 held out; "families" and "independent" designs), weights fitted
# on 500, 1,000 or 2,000 of them scored the same cross-fitted RMSE (within 0.02 points at
# k = 0..10) and 90% coverage (within 0.01), for 4, 7 and 15 CPU seconds; at 500 the weights
# themselves moved more (the model learner's share 0.77-1.0, against 0.90-1.0). A retrain of
# 100,000 learners x 50 sessions took 96 CPU seconds with the combination, 86 without.
COMBINATION_LEARNERS_MAX = 1_000
# Below this many held-out learners no combination is fitted and the model learner ranks: its
# weights could not be scored on learners that did not fit them (two halves of five folds).
COMBINATION_LEARNERS_MIN = 10
COMBINED = "combined"


class NotEnoughData(ValueError):
    """Too few scored sessions to learn anything across learners yet."""


class Learners(NamedTuple):
    """The engine's learners, one of each family, unfitted or fitted."""

    model: ModelMetaLearner
    memory: MemoryMetaLearner
    optimization: OptimizationMetaLearner


@dataclass(frozen=True)
class Trained:
    learners: Learners
    metrics: dict[str, Any]
    # The three final learners weighed on held-out learners; None with too few held-out learners.
    combined: CombinedMetaLearner | None = None


def learners_for(utilities: Sequence[str], history_columns: Sequence[int] = ()) -> Learners:
    """The three learners for a catalogue with these published ratings. The optimization learner
    has no prior on the strategies' gains: it starts from a pooled fit of the training learners."""
    gain = evidence_prior(utilities)
    n = len(utilities)
    columns = tuple(history_columns)
    return Learners(
        model=ModelMetaLearner(n, prior_gain=gain, history_columns=columns),
        memory=MemoryMetaLearner(n, prior_gain=gain, history_columns=columns, random_state=0),
        optimization=OptimizationMetaLearner(n, history_columns=columns, random_state=0),
    )


def _fit(
    learners: Learners, log: SessionLog, progress: Callable[[int], None], percents: Sequence[int]
) -> None:
    """Fit each learner on `log`, reporting its percentage after each."""
    for learner, percent in zip(learners, percents, strict=True):
        learner.fit(log)
        progress(percent)


def train(
    log: SessionLog,
    *,
    utilities: Sequence[str],
    progress: Callable[[int], None],
    history_columns: Sequence[int] = (),
) -> Trained:
    """Evaluate on held-out learners, then fit on everyone (at most FIT_LEARNERS_MAX of them);
    `progress` gets percentages.
    `history_columns`: context columns whose mean over a learner's sessions every learner uses too."""
    n_learners = int(np.unique(log.learner).size)
    if n_learners < MIN_LEARNERS or len(log) < MIN_SESSIONS:
        raise NotEnoughData(
            f"{n_learners} learners with {len(log)} scored sessions; the engine needs at least "
            f"{MIN_LEARNERS} learners and {MIN_SESSIONS} scored sessions"
        )
    training, held_out = split_learners(learner_sample(log, EVALUATION_LEARNERS_MAX), test_share=0.2, seed=0)
    evaluated = learners_for(utilities, history_columns)
    # Percentages by each step's share of a retrain of 10,000 simulated learners x 30 sessions,
    # after the 5% the dataset's build takes.
    _fit(evaluated, training, progress, (13, 27, 32))
    bases: dict[str, MetaLearner] = evaluated._asdict()
    weighed = None
    if np.unique(held_out.learner).size >= COMBINATION_LEARNERS_MIN:
        weighing = learner_sample(held_out, COMBINATION_LEARNERS_MAX, seed=2)
        weighed = CombinedMetaLearner.from_fitted(bases, weighing, bases, cross_fit=True)
    progress(45)
    predictors = {name: _last_call(learner.predict) for name, learner in bases.items()}
    metrics = later_session_scores(
        {**predictors, "evidence": _evidence_predictor(utilities, training)},
        held_out,
        ks=EVALUATION_KS,
        per_learner={} if weighed is None else {COMBINED: _cross_fitted(weighed, list(predictors.values()))},
    )
    metrics["learners"] = {name: _points(scores) for name, scores in metrics["learners"].items()}
    if weighed is not None:
        metrics["combination"] = combination_metrics(weighed)
    progress(69)
    del evaluated, bases, predictors  # freed before the final fit, which sets the retrain's peak memory
    final = learner_sample(log, FIT_LEARNERS_MAX, seed=1)
    metrics["fit_learners"] = int(np.unique(final.learner).size)
    learners = learners_for(utilities, history_columns)
    _fit(learners, final, progress, (78, 90, 95))
    combined = None if weighed is None else weighed.rebased(learners._asdict())
    return Trained(learners=learners, metrics=metrics, combined=combined)


def combination_metrics(combined: CombinedMetaLearner) -> dict[str, Any]:
    """What the page shows of the combination: per bucket of history lengths (first k), each
    learner's stacking weight and the method used."""
    return {
        "bucket_starts": [int(k) for k in combined.bucket_starts_],
        "learners": list(combined.learners_),
        "weights": [[round(float(w), 3) for w in row] for row in combined.weights_],
        "method": list(combined.method_),
    }


def _last_call(predict: Predictor) -> Predictor:
    """`predict`, answering a repeat of its last call (the same history and context objects) from
    memory: the held-out scoring asks each learner, then the combination, about the same sessions."""
    last: list[Any] = [None, None, None]

    def remembered(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if last[0] is not history or last[1] is not context:
            last[:] = [history, context, predict(history, context)]
        result: tuple[np.ndarray, np.ndarray] = last[2]
        return result

    return remembered


def _cross_fitted(combined: CombinedMetaLearner, bases: list[Predictor]) -> Callable[[int], Predictor]:
    """The combination's predictor for a held-out learner, with weights fitted without them: a
    learner whose sessions fit the weights is predicted with those of the other half of the
    weighing learners (`cross_fit`); one outside the weighing sample with all of them."""
    halves, fits = combined.cross_fit_learners_, combined.cross_fit_

    def make(learner: int) -> Predictor:
        own = next((fits[h] for h, half in enumerate(halves) if np.isin(learner, half)), None)

        def predict(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return combined.combine(len(history), [base(history, context) for base in bases], own)

        return predict

    return make


def learner_sample(log: SessionLog, n_learners: int, seed: int = 0) -> SessionLog:
    """The rows of at most `n_learners` learners drawn at random (all rows when there are fewer)."""
    learners = np.unique(log.learner)
    if learners.size <= n_learners:
        return log
    chosen = np.random.default_rng(seed).choice(learners, size=n_learners, replace=False)
    return log.take(np.isin(log.learner, chosen))


def _evidence_predictor(
    utilities: Sequence[str], training: SessionLog
) -> Callable[[SessionLog, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """What the product says without a snapshot, scored the same way (outcomes as fractions);
    its population is estimated from the training learners, as the product's from the install."""
    S = len(utilities)
    population = population_estimate(utilities, training.learner, training.strategy, 100 * training.outcome)

    def predict(history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.bincount(history.strategy, minlength=S).astype(float)
        sums = np.bincount(history.strategy, weights=100 * history.outcome, minlength=S)
        means = np.divide(sums, counts, out=np.zeros(S), where=counts > 0)
        mean, std = evidence_ranking(utilities, counts, means, population)
        m = context.shape[0]
        return np.tile(mean / 100, (m, 1)), np.tile(std / 100, (m, 1))

    return predict


def _points(scores: dict[str, Any]) -> dict[str, Any]:
    """Outcome fractions as score points, for the page and the admin."""
    return {
        "rmse": [None if v is None else round(100 * v, 2) for v in scores["rmse"]],
        "rmse_ci95": [None if v is None else [round(100 * b, 2) for b in v] for v in scores["rmse_ci95"]],
        "coverage90": [None if v is None else round(v, 3) for v in scores["coverage90"]],
    }
