"""Meta-training on a SessionLog: what the held-out evaluation is run on."""

from __future__ import annotations

import numpy as np

from coach.engine.simulate import simulate
from coach.training import evaluation_sample


def test_a_large_install_is_evaluated_on_a_sample_of_whole_learners() -> None:
    log, _ = simulate(50, 4, seed=1)
    sample = evaluation_sample(log, 20)
    kept = np.unique(sample.learner)
    assert kept.size == 20
    assert len(sample) == 20 * 4  # every row of each learner drawn, none of the others
    assert np.array_equal(sample.learner, log.learner[np.isin(log.learner, kept)])


def test_an_install_within_the_limit_is_evaluated_on_every_learner() -> None:
    log, _ = simulate(10, 4, seed=1)
    assert evaluation_sample(log, 20) is log
