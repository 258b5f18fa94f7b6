"""Meta-training on a SessionLog: what the held-out evaluation is run on."""

from __future__ import annotations

import numpy as np
import pytest

from coach import training
from coach.engine import ModelMetaLearner, OptimizationMetaLearner, SessionLog
from coach.engine.simulate import simulate
from coach.training import learner_sample


def test_a_large_install_is_evaluated_on_a_sample_of_whole_learners() -> None:
    log, _ = simulate(50, 4, seed=1)
    sample = learner_sample(log, 20)
    kept = np.unique(sample.learner)
    assert kept.size == 20
    assert len(sample) == 20 * 4  # every row of each learner drawn, none of the others
    assert np.array_equal(sample.learner, log.learner[np.isin(log.learner, kept)])


def test_an_install_within_the_limit_is_evaluated_on_every_learner() -> None:
    log, _ = simulate(10, 4, seed=1)
    assert learner_sample(log, 20) is log


def test_a_large_install_is_fitted_on_a_sample_of_learners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "FIT_LEARNERS_MAX", 30)
    log, _ = simulate(60, 8, seed=2)
    fitted: list[int] = []
    original = ModelMetaLearner.fit

    def counting(self: ModelMetaLearner, part: SessionLog) -> ModelMetaLearner:
        fitted.append(int(np.unique(part.learner).size))
        return original(self, part)

    monkeypatch.setattr(ModelMetaLearner, "fit", counting)
    trained = training.train(log, utilities=["high"] * 5 + ["low"] * 5, progress=lambda _: None)
    assert trained.metrics["fit_learners"] == 30
    assert fitted[-1] == 30  # the evaluation's fit before it: 80% of the 60


def test_the_optimization_learner_is_evaluated_and_fitted_beside_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(training, "FIT_LEARNERS_MAX", 30)
    log, _ = simulate(60, 8, seed=2)
    fitted: list[int] = []
    original = OptimizationMetaLearner.fit

    def counting(self: OptimizationMetaLearner, part: SessionLog) -> OptimizationMetaLearner:
        fitted.append(int(np.unique(part.learner).size))
        return original(self, part)

    monkeypatch.setattr(OptimizationMetaLearner, "fit", counting)
    percents: list[int] = []
    trained = training.train(
        log, utilities=["high"] * 5 + ["low"] * 5, progress=percents.append, history_columns=(6,)
    )
    assert fitted == [48, 30]  # the evaluation's 80% of the 60, then the final sample
    assert list(trained.metrics["learners"]) == ["model", "memory", "optimization", "evidence"]
    rmse = trained.metrics["learners"]["optimization"]["rmse"]
    assert all(0 < value < 50 for value in rmse[:4]) and rmse[4] is None  # no one has 10 + 1 sessions
    optimization = trained.learners.optimization
    assert optimization.random_state == 0 and tuple(optimization.history_columns) == (6,)
    assert optimization.history_shrink_.shape == (1,)
    assert percents == sorted(percents) and len(set(percents)) == len(percents) and percents[-1] < 100
