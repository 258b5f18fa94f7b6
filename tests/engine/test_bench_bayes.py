"""The bench's Bayes reference against brute force: learners drawn from the prior, weighted."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from bench.bayes import weighted_draws
from coach.engine.simulate import (
    ABILITY_PER_KNOWLEDGE,
    ARCHETYPES_DESIGN,
    CONFIDENCE_MODEL,
    FEATURES,
    SENSITIVITY,
    Population,
    make_population,
)

_DIFFICULTY, _CONFIDENCE = FEATURES.index("difficulty"), FEATURES.index("confidence before")


def _prior_weights(draws: Population, profile: np.ndarray, history) -> np.ndarray:
    """Likelihood of a self-report and sessions (scores and ratings) for every prior draw,
    computed from the simulator itself."""
    design = draws.design
    n, k = draws.n_learners, len(history)
    log_w = stats.norm.logpdf(profile, draws.traits, np.asarray(design.report_noise)).sum(axis=1)
    ids = np.repeat(np.arange(n), k)
    mean = draws.true_mean(ids, np.tile(history.context, (n, 1)))[
        np.arange(n * k), np.tile(history.strategy, n)
    ]
    a, b = mean * design.concentration, (1.0 - mean) * design.concentration
    y = np.tile(np.clip(history.outcome, 0.0025, 0.9975), n)
    log_score = (a - 1.0) * np.log(y) + (b - 1.0) * np.log1p(-y) - special.betaln(a, b)
    base, per_knowledge, per_difficulty, noise = CONFIDENCE_MODEL
    likert = np.rint(history.context[:, _CONFIDENCE] * 4.0 + 1.0)
    centre = (
        base + per_knowledge * draws.traits[:, :1] - per_difficulty * (history.context[:, _DIFFICULTY] - 0.5)
    )
    upper = np.where(likert >= 5.0, np.inf, likert + 0.5)
    lower = np.where(likert <= 1.0, -np.inf, likert - 0.5)
    rating = np.log(stats.norm.cdf((upper - centre) / noise) - stats.norm.cdf((lower - centre) / noise))
    log_w += log_score.reshape(n, k).sum(axis=1) + rating.sum(axis=1)
    if design.quirks == "archetypes":
        # There the habits the strategies were picked by are a reading of the learner too.
        log_w += np.log(draws.habits[:, history.strategy]).sum(axis=1)
    return np.exp(log_w - log_w.max())


@pytest.mark.parametrize("design", ["families", "independent", SENSITIVITY[3], ARCHETYPES_DESIGN])
def test_weighted_draws_give_the_posterior_that_brute_force_gives(design) -> None:
    rng = np.random.default_rng(5)
    population = make_population(1, rng, design)
    history = population.sessions(np.zeros(1, dtype=np.int64), 6, rng)
    situations = population.draw_situations(np.zeros(4, dtype=np.int64), rng)

    [(draws, w)] = weighted_draws(population, history, population.profile, 6, 20_000, rng)
    w = w / w.sum()
    prior = make_population(400_000, np.random.default_rng(9), design)
    v = _prior_weights(prior, population.profile[0], history)
    v = v / v.sum()
    assert 1.0 / np.sum(v**2) > 2000  # enough effective draws for the brute force to be exact

    np.testing.assert_allclose(w @ draws[:, :3], v @ prior.traits, atol=0.03)
    np.testing.assert_allclose(w @ draws[:, 4:], v @ prior.quirks, atol=0.02)
    # Posterior expected scores of every strategy in fresh situations: what the choice uses.
    ids = np.repeat(np.arange(prior.n_learners), 4)
    brute = np.einsum(
        "n,nms->ms", v, prior.true_mean(ids, np.tile(situations, (prior.n_learners, 1))).reshape(-1, 4, 10)
    )
    ours = _expected_scores(population, draws, w, situations)
    np.testing.assert_allclose(ours, brute, atol=0.004)


def _expected_scores(
    population: Population, draws: np.ndarray, w: np.ndarray, situations: np.ndarray
) -> np.ndarray:
    """Weighted mean over draws of x = (traits, ability residual, quirks) of the true expected
    scores, through the simulator: each draw becomes a learner."""
    as_learners = Population(
        traits=draws[:, :3],
        ability=ABILITY_PER_KNOWLEDGE * draws[:, 0] + draws[:, 3],
        quirks=draws[:, 4:],
        habits=np.full((draws.shape[0], 10), 0.1),
        task_mix=np.full((draws.shape[0], 5), 0.2),
        profile=draws[:, :3],
        design=population.design,
    )
    n, m = draws.shape[0], situations.shape[0]
    means = as_learners.true_mean(np.repeat(np.arange(n), m), np.tile(situations, (n, 1))).reshape(n, m, -1)
    return np.einsum("n,nms->ms", w, means)
