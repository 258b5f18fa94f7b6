"""A situation the learner has not described yet: predictions over its possible contexts, mixed."""

import numpy as np
import pytest

from coach.engine import SessionLog
from coach.engine.policy import predict_mixed


class _Linear:
    """Outcome = context's first column + strategy offset, with a fixed std."""

    def predict(self, history, context):
        mean = context[:, :1] + np.array([[0.0, 0.1]])
        return mean, np.full_like(mean, 0.05)


def test_the_mixture_keeps_the_mean_and_adds_the_spread_between_situations():
    context = np.array([[0.4, 0.0], [0.6, 0.0]])
    mean, std, between = predict_mixed(_Linear(), SessionLog.empty(2), context)  # type: ignore[arg-type]
    assert mean == pytest.approx(np.array([[0.5, 0.6]]))
    assert between == pytest.approx(np.array([[0.1, 0.1]]))
    assert std == pytest.approx(np.sqrt(0.05**2 + 0.1**2) * np.ones((1, 2)))


def test_one_known_situation_is_the_learners_own_prediction():
    context = np.array([[0.4, 0.0]])
    mean, std, between = predict_mixed(_Linear(), SessionLog.empty(2), context)  # type: ignore[arg-type]
    assert mean == pytest.approx(np.array([[0.4, 0.5]]))
    assert std == pytest.approx(np.full((1, 2), 0.05))
    assert between == pytest.approx(np.zeros((1, 2)))
