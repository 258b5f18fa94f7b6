"""recommend(): ranking, exploration and the reason shown to the learner."""

from __future__ import annotations

import numpy as np
import pytest

from coach.engine.policy import Recommendation, choice_probabilities, recommend

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


def _empirical_choices(mean: np.ndarray, std: np.ndarray, runs: int, **rule: object) -> np.ndarray:
    picks = [recommend(mean, std, seed=seed, **rule).chosen.strategy for seed in range(runs)]  # type: ignore[arg-type]
    return np.bincount(picks, minlength=mean.shape[0]) / runs


@pytest.mark.parametrize("rule", [{}, {"max_cost": 0.02}, {"explore": 0.3}, {"noise": 0.04}])
def test_choice_probabilities_match_what_recommend_picks(rule: dict[str, object]) -> None:
    mean, std = np.array([0.62, 0.60, 0.57, 0.40]), np.array([0.06, 0.09, 0.05, 0.05])
    estimated = choice_probabilities(mean, std, seed=7, **rule)  # type: ignore[arg-type]
    runs = 3000
    seen = _empirical_choices(mean, std, runs, **rule)
    # Both are estimates: their difference has the standard error of the two combined.
    combined = np.sqrt(estimated.stderr**2 + seen * (1 - seen) / runs)
    assert np.all(np.abs(seen - estimated.probability) <= 4 * combined + 1e-12), (seen, estimated)
    assert estimated.probability.sum() == pytest.approx(1.0)
    assert np.all(estimated.stderr < 0.01)
    assert estimated.probability[3] == 0.0  # far below the best: never chosen


def test_a_greedy_choice_has_exact_propensities() -> None:
    estimated = choice_probabilities(MEAN, STD, explore=0.0)
    assert estimated.probability.tolist() == [1.0, 0.0, 0.0]
    assert estimated.stderr.tolist() == [0.0, 0.0, 0.0]
    assert estimated.draws == 0


def test_choice_probabilities_are_reproducible_and_checked() -> None:
    mean, std = np.array([0.60, 0.59]), np.array([0.2, 0.2])
    first = choice_probabilities(mean, std, seed=3).probability
    assert choice_probabilities(mean, std, seed=3).probability.tolist() == first.tolist()
    with pytest.raises(ValueError, match="draws"):
        choice_probabilities(mean, std, draws=0)
    with pytest.raises(ValueError, match="explore"):
        choice_probabilities(mean, std, explore=1.5)
