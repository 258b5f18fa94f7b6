"""Ranking before the engine has a snapshot: published evidence, moved by the learner's own scores.

A small random-effects model on the 0-100 score scale. A session with strategy s scores

    the learner's level + the evidence gain of s + the learner's own quirk with s + noise,

with the level, the quirks and the noise Gaussian. Their spreads (`Population`) are estimated
from the install's scored sessions by moments, each pulled toward a default by a pseudo-count,
so a brand-new install says something sensible and a busy one speaks from its own data.
For one learner the level and quirks get a Gaussian posterior from their per-strategy means; the
ranking gives, per strategy, the expected score of their next session and its predictive std
(what is unknown about them plus one session's noise), so a 90% range is a range for the score
they will see. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coach.engine.prior import PRIOR_SPREAD, evidence_prior


@dataclass(frozen=True)
class Population:
    """What the install's sessions say about learners in general, in points."""

    level_mean: float  # a learner's average score over strategies, evidence gains taken out
    level_sd: float  # how much learners' levels differ
    quirk_sd: float  # how far one learner's result with a strategy strays from the evidence
    noise_sd: float  # one learner's session-to-session spread with one strategy


# A brand-new install: a typical first self-test, learners differing by about a grade, the
# evidence's own spread for quirks, and sessions varying about as much as learners do.
DEFAULT_POPULATION = Population(level_mean=60.0, level_sd=12.0, quirk_sd=100.0 * PRIOR_SPREAD, noise_sd=12.0)
# How many observations each default counts for against the data.
PSEUDO_LEARNERS = 10.0
PSEUDO_SESSIONS = 20.0


def population_estimate(
    utilities: Sequence[str],
    learner: np.ndarray,
    strategy: np.ndarray,
    score: np.ndarray,
    *,
    default: Population = DEFAULT_POPULATION,
) -> Population:
    """Variance components from scored sessions (arrays of equal length; `strategy` indexes
    `utilities`, `score` in points), each shrunk toward `default`."""
    learner = np.asarray(learner)
    strategy = np.asarray(strategy, dtype=np.int64)
    residual = np.asarray(score, dtype=np.float64) - 100.0 * evidence_prior(utilities)[strategy]
    if residual.size == 0:
        return default
    _, group = np.unique(np.stack([learner, strategy]), axis=1, return_inverse=True)
    group = group.ravel()
    n_groups = int(group.max()) + 1
    count = np.bincount(group, minlength=n_groups).astype(np.float64)
    group_mean = np.bincount(group, weights=residual, minlength=n_groups) / count
    within = float(((residual - group_mean[group]) ** 2).sum())
    df_within = residual.size - n_groups
    noise_var = (PSEUDO_SESSIONS * default.noise_sd**2 + within) / (PSEUDO_SESSIONS + df_within)

    # Group means, by learner: their spread inside a learner is quirk plus noise, across
    # learners' averages it is level plus what remains of both.
    group_learner = np.zeros(n_groups, dtype=np.int64)
    _, learner_index = np.unique(learner, return_inverse=True)
    group_learner[group] = learner_index.ravel()
    n_learners = int(group_learner.max()) + 1
    k = np.bincount(group_learner, minlength=n_learners).astype(np.float64)
    learner_mean = np.bincount(group_learner, weights=group_mean, minlength=n_learners) / k
    noise_of_mean = noise_var / count
    spread = float(((group_mean - learner_mean[group_learner]) ** 2).sum())
    df_quirk = float((k - 1).sum())
    quirk_var_hat = max(spread / df_quirk - float(noise_of_mean.mean()), 0.0) if df_quirk else 0.0
    quirk_var = (PSEUDO_LEARNERS * default.quirk_sd**2 + df_quirk * quirk_var_hat) / (
        PSEUDO_LEARNERS + df_quirk
    )
    level_mean = float(
        (PSEUDO_LEARNERS * default.level_mean + learner_mean.sum()) / (PSEUDO_LEARNERS + n_learners)
    )
    df_level = n_learners - 1
    if df_level > 0:
        mean_noise = np.bincount(group_learner, weights=noise_of_mean, minlength=n_learners) / k**2
        level_var_hat = max(float(learner_mean.var(ddof=1) - (quirk_var / k + mean_noise).mean()), 0.0)
    else:
        level_var_hat = 0.0
    level_var = (PSEUDO_LEARNERS * default.level_sd**2 + df_level * level_var_hat) / (
        PSEUDO_LEARNERS + df_level
    )
    return Population(
        level_mean=level_mean,
        level_sd=float(np.sqrt(level_var)),
        quirk_sd=float(np.sqrt(quirk_var)),
        noise_sd=float(np.sqrt(noise_var)),
    )


def evidence_ranking(
    utilities: Sequence[str],
    counts: np.ndarray,
    means: np.ndarray,
    population: Population = DEFAULT_POPULATION,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected score of the learner's next session with each strategy and its predictive std
    (S,), from utility ratings and the learner's per-strategy record (counts, mean scores)."""
    gain = 100.0 * evidence_prior(utilities)
    counts = np.asarray(counts, dtype=np.float64)
    seen = counts > 0
    means = np.nan_to_num(np.asarray(means, dtype=np.float64), nan=0.0)
    S = gain.shape[0]
    # Parameters: [level, quirk_1 .. quirk_S]; one observation per strategy the learner used.
    prior_mean = np.concatenate([[population.level_mean], np.zeros(S)])
    prior_precision = np.diag(
        1.0 / np.concatenate([[population.level_sd**2], np.full(S, population.quirk_sd**2)])
    )
    design = np.zeros((S, S + 1))
    design[:, 0] = 1.0
    design[np.arange(S), np.arange(S) + 1] = 1.0
    weight = np.where(seen, counts, 0.0) / population.noise_sd**2
    precision = prior_precision + design.T @ (weight[:, None] * design)
    cov = np.linalg.inv(precision)
    post_mean = cov @ (prior_precision @ prior_mean + design.T @ (weight * (means - gain)))
    mean = gain + design @ post_mean
    var = np.einsum("ij,jk,ik->i", design, cov, design) + population.noise_sd**2
    return np.clip(mean, 0.0, 100.0), np.sqrt(var)
