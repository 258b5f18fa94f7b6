"""Meta-training on a SessionLog: what the held-out evaluation is run on."""

from __future__ import annotations

import numpy as np
import pytest

from coach import training
from coach.engine import CombinedMetaLearner, ModelMetaLearner, OptimizationMetaLearner, SessionLog
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
    assert list(trained.metrics["learners"]) == ["model", "memory", "optimization", "evidence", "combined"]
    rmse = trained.metrics["learners"]["optimization"]["rmse"]
    assert all(0 < value < 50 for value in rmse[:4]) and rmse[4] is None  # no one has 10 + 1 sessions
    optimization = trained.learners.optimization
    assert optimization.random_state == 0 and tuple(optimization.history_columns) == (6,)
    assert optimization.history_shrink_.shape == (1,)
    assert percents == sorted(percents) and len(set(percents)) == len(percents) and percents[-1] < 100


def test_the_combination_is_weighed_on_a_sample_of_held_out_learners_and_scored_cross_fitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(training, "COMBINATION_LEARNERS_MAX", 12)
    log, _ = simulate(100, 8, seed=3)
    weighed: list[int] = []
    original = CombinedMetaLearner.from_fitted

    def counting(weight_learners, held_out, final_learners, **kwargs):  # type: ignore[no-untyped-def]
        weighed.append(int(np.unique(held_out.learner).size))
        assert kwargs["cross_fit"] is True
        return original(weight_learners, held_out, final_learners, **kwargs)

    monkeypatch.setattr(CombinedMetaLearner, "from_fitted", counting)
    used: list[object] = []
    combine = CombinedMetaLearner.combine

    def spying(self, k, parts, fits=None):  # type: ignore[no-untyped-def]
        used.append(fits)
        return combine(self, k, parts, fits)

    monkeypatch.setattr(CombinedMetaLearner, "combine", spying)
    trained = training.train(log, utilities=["high"] * 5 + ["low"] * 5, progress=lambda _: None)
    assert weighed == [12]  # of the 20 held-out learners
    combined = trained.combined
    assert combined is not None
    assert combined.learners_ == trained.learners._asdict()  # the final learners, not the evaluated ones
    assert trained.metrics["combination"]["weights"] == [
        [round(float(w), 3) for w in row] for row in combined.weights_
    ]
    figures = trained.metrics["learners"]["combined"]
    assert all(0 < value < 50 for value in figures["rmse"][:4]) and figures["rmse"][4] is None
    # The 12 weighing learners are scored with the weights of the half they are not in, the 8
    # others with the weights in use; the final combination keeps no halves.
    fitted_halves = {id(fits) for fits in used if fits is not None}
    assert len(fitted_halves) == 2 and None in used
    assert not hasattr(combined, "cross_fit_")


def test_too_few_held_out_learners_fit_no_combination() -> None:
    log, _ = simulate(40, 8, seed=3)  # 8 held out
    trained = training.train(log, utilities=["high"] * 5 + ["low"] * 5, progress=lambda _: None)
    assert trained.combined is None
    assert "combined" not in trained.metrics["learners"] and "combination" not in trained.metrics
