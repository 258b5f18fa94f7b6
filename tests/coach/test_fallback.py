"""The advice before a snapshot: spreads estimated from the install, ranges for the next session."""

import numpy as np
import pytest

from coach.engine.prior import evidence_prior
from coach.engine.stats import Z90
from coach.fallback import DEFAULT_POPULATION, Population, evidence_ranking, population_estimate

UTILITIES = ["high", "high", "moderate", "moderate", "moderate", "low", "low", "low", "low", "low"]
TRUE = Population(level_mean=62.0, level_sd=10.0, quirk_sd=6.0, noise_sd=9.0)


def _cohort(rng: np.random.Generator, n_learners: int, sessions: int):
    gain = 100 * evidence_prior(UTILITIES)
    learner, strategy, score, truth = [], [], [], []
    for i in range(n_learners):
        level = rng.normal(TRUE.level_mean, TRUE.level_sd)
        mean = level + gain + rng.normal(0, TRUE.quirk_sd, len(UTILITIES))
        truth.append(mean)
        for s in rng.integers(0, len(UTILITIES), sessions):
            learner.append(i)
            strategy.append(s)
            score.append(mean[s] + rng.normal(0, TRUE.noise_sd))
    return np.array(learner), np.array(strategy), np.array(score), np.array(truth)


def test_spreads_are_recovered_from_a_busy_install():
    learner, strategy, score, _ = _cohort(np.random.default_rng(1), 400, 15)
    found = population_estimate(UTILITIES, learner, strategy, score)
    assert found.level_mean == pytest.approx(TRUE.level_mean, abs=1.5)
    assert found.level_sd == pytest.approx(TRUE.level_sd, abs=1.5)
    assert found.quirk_sd == pytest.approx(TRUE.quirk_sd, abs=1.5)
    assert found.noise_sd == pytest.approx(TRUE.noise_sd, abs=0.5)


def test_a_new_install_uses_the_defaults_and_a_few_sessions_barely_move_them():
    empty = np.zeros(0)
    assert population_estimate(UTILITIES, empty, empty, empty) == DEFAULT_POPULATION
    learner, strategy, score, _ = _cohort(np.random.default_rng(2), 2, 3)
    few = population_estimate(UTILITIES, learner, strategy, score)
    assert abs(few.noise_sd - DEFAULT_POPULATION.noise_sd) < 3
    assert abs(few.quirk_sd - DEFAULT_POPULATION.quirk_sd) < 3


@pytest.mark.parametrize("k", [0, 1, 5, 20])
def test_the_90_percent_range_covers_nine_next_sessions_in_ten(k):
    rng = np.random.default_rng(3 + k)
    learner, strategy, score, _ = _cohort(rng, 300, 12)
    population = population_estimate(UTILITIES, learner, strategy, score)
    _, s_new, y_new, _ = _cohort(rng, 1500, k + 1)
    covered = []
    for i in range(1500):
        past_s, past_y = s_new[i * (k + 1) : i * (k + 1) + k], y_new[i * (k + 1) : i * (k + 1) + k]
        counts = np.bincount(past_s, minlength=len(UTILITIES)).astype(float)
        sums = np.bincount(past_s, weights=past_y, minlength=len(UTILITIES))
        means = np.divide(sums, counts, out=np.full(len(UTILITIES), np.nan), where=counts > 0)
        mean, std = evidence_ranking(UTILITIES, counts, means, population)
        s = s_new[i * (k + 1) + k]
        covered.append(abs(y_new[i * (k + 1) + k] - mean[s]) <= Z90 * std[s])
    assert 0.87 <= np.mean(covered) <= 0.93


def test_own_sessions_move_the_estimate_and_narrow_only_their_strategy():
    counts, means = np.zeros(10), np.full(10, np.nan)
    before, before_std = evidence_ranking(UTILITIES, counts, means, TRUE)
    counts[7], means[7] = 6, 95.0
    after, after_std = evidence_ranking(UTILITIES, counts, means, TRUE)
    assert after[7] > before[7] + 15
    assert after_std[7] < before_std[7]
    assert after_std[7] >= TRUE.noise_sd  # one session's noise always remains
    assert np.all(after[:7] > before[:7])  # a high scorer is likely high elsewhere too


def test_extreme_scores_keep_finite_ranges_inside_the_scale():
    counts = np.full(10, 3.0)
    for value in (0.0, 100.0):
        mean, std = evidence_ranking(UTILITIES, counts, np.full(10, value), DEFAULT_POPULATION)
        assert np.all((mean >= 0) & (mean <= 100))
        assert np.all(np.isfinite(std)) and np.all(std < 25)
