"""The learning curve of the distance to the best possible (`python -m bench.bound_curve`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench import bound_curve
from bench.simulated import _baseline_choice, _by_learner


def test_each_size_trains_on_the_first_n_learners_and_scores_the_same_new_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[np.ndarray] = []
    fit = bound_curve.fit_learner

    def recording(name: str, learner: Any, train: Any, fitted: Any) -> Any:
        seen.append(np.unique(train.learner))
        return fit(name, learner, train, fitted)

    monkeypatch.setattr(bound_curve, "fit_learner", recording)
    small = bound_curve._learner("model", 120, "families", n_train=300, n_test=8, seed=0)
    large = bound_curve._learner("model", 300, "families", n_train=300, n_test=8, seed=0)
    assert [ids.tolist() for ids in seen] == [list(range(120)), list(range(300))]
    assert small.shape == large.shape == (8, len(bound_curve.KS))


def test_the_distance_is_the_learners_regret_minus_the_bounds_over_the_baselines() -> None:
    result = bound_curve.run(["model"], [150, 300], "families", seed=0, n_test=8)
    assert [row["n_train"] for row in result["rows"]] == [150, 300]
    bound = bound_curve._bound("families", 300, 8, 0)
    _, train, test = bound_curve._draw("families", 300, 8, 0)
    fixed = _baseline_choice(train)
    base = _by_learner(test.truth.max(axis=1) - test.truth[:, fixed], 8)
    np.testing.assert_allclose(result["bound"], bound.mean(axis=0) / base.mean())
    regret = bound_curve._learner("model", 150, "families", 300, 8, 0)
    np.testing.assert_allclose(result["rows"][0]["distance"], (regret - bound).mean(axis=0) / base.mean())
    for row in result["rows"]:
        for d, (lo, hi) in zip(row["distance"], row["ci95"], strict=True):
            assert lo - 1e-12 <= d <= hi + 1e-12
