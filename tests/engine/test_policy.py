"""recommend(): ranking, exploration and the reason shown to the learner."""

from __future__ import annotations

import numpy as np
import pytest

from coach.engine.policy import Recommendation, recommend

NAMES = ["practice testing", "rereading", "highlighting"]
MEAN = np.array([0.72, 0.63, 0.40])
STD = np.array([0.085, 0.05, 0.05])


def test_ranks_strategies_by_expected_outcome() -> None:
    rec = recommend(MEAN[::-1], STD[::-1], names=NAMES[::-1], explore=0.0)
    assert [o.name for o in rec.ranked] == NAMES
    assert isinstance(rec, Recommendation)


def test_without_exploration_the_top_strategy_is_chosen() -> None:
    rec = recommend(MEAN, STD, names=NAMES, explore=0.0, seed=1)
    assert rec.chosen.strategy == 0
    assert rec.exploration is False


def test_options_carry_a_ninety_percent_range() -> None:
    top = recommend(MEAN, STD, explore=0.0).ranked[0]
    assert top.low == pytest.approx(0.72 - 1.645 * 0.085)
    assert top.high == pytest.approx(0.72 + 1.645 * 0.085)


def test_reason_states_score_range_and_margin_over_runner_up() -> None:
    rec = recommend(MEAN, STD, names=NAMES, explore=0.0)
    assert rec.reason == (
        "Practice testing: expected score 72 (90% range 58\N{EN DASH}86), "
        "9 points above your next best option, rereading."
    )


def test_forced_exploration_is_labelled_and_reproducible_with_a_seed() -> None:
    mean, std = np.array([0.60, 0.59, 0.58]), np.array([0.2, 0.2, 0.2])
    picks = [recommend(mean, std, explore=1.0, seed=seed) for seed in range(30)]
    again = [recommend(mean, std, explore=1.0, seed=seed) for seed in range(30)]
    assert [r.chosen.strategy for r in picks] == [r.chosen.strategy for r in again]
    explored = [r for r in picks if r.chosen.strategy != 0]
    assert explored and all(r.exploration for r in explored)
    assert all(r.reason.startswith("Worth a try") for r in explored)


def test_exploration_reason_names_the_gap_to_the_best_option() -> None:
    mean, std = np.array([0.60, 0.57]), np.array([0.3, 0.3])
    rec = next(r for seed in range(50) if (r := recommend(mean, std, names=NAMES[:2], seed=seed)).exploration)
    assert "rereading, expected score 57" in rec.reason
    assert "3 points below practice testing (60)" in rec.reason


def test_default_rule_never_explores_an_option_far_below_the_best() -> None:
    mean, std = np.array([0.80, 0.50]), np.array([0.3, 0.3])
    assert not any(recommend(mean, std, seed=seed).exploration for seed in range(100))


def test_default_rule_stops_exploring_once_only_noise_is_left() -> None:
    mean, std = np.array([0.62, 0.60]), np.array([0.12, 0.12])
    assert not any(recommend(mean, std, noise=0.12, seed=seed).exploration for seed in range(50))
    assert any(recommend(mean, std, seed=seed).exploration for seed in range(50))


def test_rejects_std_of_another_shape() -> None:
    with pytest.raises(ValueError, match="std"):
        recommend(MEAN, STD[:2])


def test_rejects_names_of_another_length() -> None:
    with pytest.raises(ValueError, match="names"):
        recommend(MEAN, STD, names=NAMES[:2])


def test_rejects_exploration_rate_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="explore"):
        recommend(MEAN, STD, explore=1.5)
