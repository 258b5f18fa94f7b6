"""The best possible recommendation on a simulated population: the Bayes choice.

It knows the population exactly (`coach.engine.simulate`) and a new learner only through what
the app sees: their self-report, their first k sessions (scores and confidence ratings) and the
confidence rating of the situation at hand. It recommends the strategy with the best posterior
expected score, which minimises expected regret: up to the sampling error of its integral, no
learner can do better on average.

What it does not know of a learner is one Gaussian vector x: the three traits, the ability
residual and the S quirks. Every logit is linear in x (`_Latent`), the self-report is a linear
Gaussian reading of the traits, and the posterior is computed as follows:
  - the self-report is conditioned on exactly (conjugate);
  - the scores (Beta) and confidence ratings (ordinal probit) are not conjugate, so a Laplace
    approximation at the posterior mode (Fisher scoring) gives a multivariate t proposal, and
    importance weights with the exact likelihood correct it;
  - the situation's own confidence rating reweights the draws per situation.
A proposal fitted to each learner keeps most draws useful however many sessions are seen, where
draws from the prior would leave only a handful once twenty sessions have been seen.

In the "archetypes" design x is Gaussian given the learner's archetype, with the archetype's
traits and response as its mean, and the archetype also sets the habits the first k strategies
were picked by. The posterior is then a mixture: each archetype gets its own proposal and a
share of the draws, and the weights carry its prior share, the Dirichlet-multinomial chance of
the strategies picked, and the normalising constants that make archetypes comparable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special

from coach.engine.log import SessionLog
from coach.engine.simulate import (
    ABILITY_PER_KNOWLEDGE,
    ABILITY_SD,
    ARCHETYPE_SHARE,
    ARCHETYPE_SPECIFIC_SD,
    ARCHETYPE_TRAITS,
    CONFIDENCE_MODEL,
    FEATURES,
    TRAIT_CORR,
    TRAIT_EFFECT,
    Population,
    archetype_habits,
    archetype_response,
)

_DIFFICULTY, _CONFIDENCE = FEATURES.index("difficulty"), FEATURES.index("confidence before")
_T_DOF = 6.0  # tails of the proposal: heavier than the posterior's, so weights stay bounded
_NEWTON_STEPS = 25
# Scores are whole percents: the Beta density at the score stands for the chance of its
# interval, and 0 and 100 for the middle of their half-intervals.
_SCORE_FLOOR = 0.0025


@dataclasses.dataclass(frozen=True)
class _Latent:
    """x = (traits (3), ability residual (1), quirks (S)); a logit is `offset + loading[s] @ x`."""

    prior_cov: np.ndarray  # (D, D)
    loading: np.ndarray  # (S, D)
    report_noise: np.ndarray  # (3,)

    @classmethod
    def of(cls, population: Population) -> _Latent:
        """x's prior given the archetype where there are archetypes (its mean is `_archetype_means`)."""
        quirks = population.design.quirk_covariance()
        n_strategies = quirks.shape[0]
        if population.design.quirks == "archetypes":
            quirks = ARCHETYPE_SPECIFIC_SD**2 * np.eye(n_strategies)
        prior = np.zeros((4 + n_strategies, 4 + n_strategies))
        prior[:3, :3] = TRAIT_CORR
        prior[3, 3] = ABILITY_SD**2
        prior[4:, 4:] = quirks
        loading = np.zeros((n_strategies, 4 + n_strategies))
        loading[:, :3] = TRAIT_EFFECT
        loading[:, 0] += ABILITY_PER_KNOWLEDGE
        loading[:, 3] = 1.0
        loading[:, 4:] = np.eye(n_strategies)
        return cls(prior, loading, np.asarray(population.design.report_noise, dtype=np.float64))

    @property
    def dim(self) -> int:
        return int(self.prior_cov.shape[0])


def _offsets(population: Population, context: np.ndarray) -> np.ndarray:
    """Logits (m, S) of a learner whose x is zero: the part every learner shares."""
    n_strategies = population.quirks.shape[1]
    nobody = dataclasses.replace(
        population,
        traits=np.zeros((1, 3)),
        ability=np.zeros(1),
        quirks=np.zeros((1, n_strategies)),
    )
    return nobody.true_logit(np.zeros(context.shape[0], dtype=np.int64), context)


def _rating_interval(knowledge: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised bounds of each confidence rating in `context` (..., d) at `knowledge`, which
    broadcasts against context[..., 0]; an end of the scale is open (infinite)."""
    base, per_knowledge, per_difficulty, noise = CONFIDENCE_MODEL
    likert = np.rint(context[..., _CONFIDENCE] * 4.0 + 1.0)
    centre = base + per_knowledge * knowledge - per_difficulty * (context[..., _DIFFICULTY] - 0.5)
    upper = np.where(likert >= 5.0, np.inf, likert + 0.5)
    lower = np.where(likert <= 1.0, -np.inf, likert - 0.5)
    return (upper - centre) / noise, (lower - centre) / noise


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi)


def _rating_log_likelihood(knowledge: np.ndarray, context: np.ndarray) -> np.ndarray:
    u, v = _rating_interval(knowledge, context)
    return np.log(np.maximum(special.ndtr(u) - special.ndtr(v), 1e-300))


def _rating_derivatives(knowledge: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and minus second derivative in knowledge of `_rating_log_likelihood`."""
    _, per_knowledge, _, noise = CONFIDENCE_MODEL
    u, v = _rating_interval(knowledge, context)
    p = special.ndtr(u) - special.ndtr(v)
    pdf_u, pdf_v = _normal_pdf(u), _normal_pdf(v)
    u_pdf = np.where(np.isfinite(u), u, 0.0) * pdf_u
    v_pdf = np.where(np.isfinite(v), v, 0.0) * pdf_v
    slope = (pdf_v - pdf_u) / (noise * p)
    curvature = slope**2 - (v_pdf - u_pdf) / (noise**2 * p)
    return per_knowledge * slope, per_knowledge**2 * curvature


def _score_log_likelihood(logit: np.ndarray, score: np.ndarray, concentration: float) -> np.ndarray:
    """Beta log-likelihood of `score` at mean sigmoid(logit)."""
    mean = special.expit(logit)
    a, b = mean * concentration, (1.0 - mean) * concentration
    y = np.clip(score, _SCORE_FLOOR, 1.0 - _SCORE_FLOOR)
    return (a - 1.0) * np.log(y) + (b - 1.0) * np.log1p(-y) - special.betaln(a, b)


def _score_derivatives(
    logit: np.ndarray, score: np.ndarray, concentration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Derivative in the logit of `_score_log_likelihood` and its Fisher information."""
    mean = special.expit(logit)
    a, b = mean * concentration, (1.0 - mean) * concentration
    y = np.clip(score, _SCORE_FLOOR, 1.0 - _SCORE_FLOOR)
    slope = concentration * mean * (1.0 - mean)
    gradient = slope * (np.log(y) - np.log1p(-y) - special.digamma(a) + special.digamma(b))
    return gradient, slope**2 * (special.polygamma(1, a) + special.polygamma(1, b))


@dataclasses.dataclass(frozen=True)
class _Sessions:
    """The first k sessions of each of n learners, as (n, k) arrays."""

    offsets: np.ndarray  # logit of the strategy used, for a learner whose x is zero
    strategies: np.ndarray
    scores: np.ndarray
    contexts: np.ndarray  # (n, k, d)


def _posterior_modes(
    latent: _Latent, precision: np.ndarray, centres: np.ndarray, sessions: _Sessions, concentration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mode (n, D) of each learner's log posterior and minus its expected Hessian there
    (n, D, D), by Fisher scoring from `centres`, the means given the self-report alone."""
    x = centres.copy()
    loads = latent.loading[sessions.strategies]  # (n, k, D)
    hessian = np.broadcast_to(precision, (x.shape[0], *precision.shape)).copy()
    for _ in range(_NEWTON_STEPS):
        logit = sessions.offsets + np.einsum("nkd,nd->nk", loads, x)
        gradient, information = _score_derivatives(logit, sessions.scores, concentration)
        slope, curvature = _rating_derivatives(x[:, :1], sessions.contexts)
        grad = -(x - centres) @ precision + np.einsum("nk,nkd->nd", gradient, loads)
        grad[:, 0] += slope.sum(axis=1)
        hessian = precision + np.einsum("nk,nkd,nke->nde", information, loads, loads)
        hessian[:, 0, 0] += curvature.sum(axis=1)
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        x += step
        if np.abs(step).max() < 1e-9:
            break
    return x, hessian


def choice_regret(
    population: Population,
    history: SessionLog,
    profile: np.ndarray,
    situations: np.ndarray,
    truth: np.ndarray,
    ks: list[int],
    *,
    n_draws: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Regret (n, len(ks)) of the Bayes choice for each of n new learners at each k, and the
    effective number of its `n_draws` draws (n, len(ks)), before the situation's rating.

    `history` holds max(ks) sessions of each learner, grouped by learner; `profile` (n, 3) their
    self-reports; `situations` (n * m, d) m fresh situations of each, `truth` (n * m, S) their
    true expected scores."""
    latent = _Latent.of(population)
    n, n_strategies = profile.shape[0], truth.shape[1]
    m = situations.shape[0] // n
    situation_offsets = _offsets(population, situations).reshape(n, m, n_strategies)
    situation_contexts = situations.reshape(n, m, -1)
    truth = truth.reshape(n, m, n_strategies)
    best = truth.max(axis=2)
    rng = np.random.default_rng(seed)
    regret, ess = np.zeros((n, len(ks))), np.zeros((n, len(ks)))
    for j, k in enumerate(ks):
        for i, (draws, w) in enumerate(weighted_draws(population, history, profile, k, n_draws, rng)):
            ess[i, j] = w.sum() ** 2 / np.sum(w**2)
            # The situation's own rating is one more reading of knowledge, different per situation.
            rating = _rating_log_likelihood(draws[:, :1], situation_contexts[i])  # (draws, m)
            here = w[:, None] * np.exp(rating - rating.max(axis=0))
            choice = _posterior_means(situation_offsets[i], draws @ latent.loading.T, here).argmax(axis=1)
            regret[i, j] = float(np.mean(best[i] - truth[i, np.arange(m), choice]))
    return regret, ess


def _posterior_means(offsets: np.ndarray, logits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over draws of the expected scores (m, S), from the situations' `offsets`
    (m, S), the draws' own logits (n_draws, S) and each draw's weight in each situation
    (n_draws, m). In single precision: its rounding (1e-7) is far below the draws' sampling
    error (1e-3), and it halves the cost of the bench's largest loop."""
    means = offsets[:, None, :].astype(np.float32) + logits[None].astype(np.float32)  # (m, draws, S)
    np.negative(means, out=means)
    np.exp(means, out=means)
    means += 1.0
    np.reciprocal(means, out=means)
    share = (weights / weights.sum(axis=0)).T.astype(np.float32)  # (m, draws)
    return np.matmul(share[:, None, :], means)[:, 0].astype(np.float64)


def weighted_draws(
    population: Population,
    history: SessionLog,
    profile: np.ndarray,
    k: int,
    n_draws: int,
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each of n learners, draws (n_draws, D) of x and their importance weights (n_draws,)
    given their self-report (`profile`, (n, 3)) and first k sessions; `history` holds the same
    number (>= k) of sessions of each learner, grouped by learner."""
    latent = _Latent.of(population)
    sessions = _first_sessions(population, history, profile.shape[0], k)
    if population.design.quirks != "archetypes":
        parts = _component_draws(latent, population, sessions, profile, np.zeros(latent.dim), n_draws, rng)
        return [(draws, np.exp(log_w - log_w.max())) for draws, log_w in parts]
    means = _archetype_means(latent.dim)
    per = max(n_draws // len(means), 2)
    alpha = population.design.habit_concentration * archetype_habits()
    by_archetype = []
    for a, mean in enumerate(means):
        chosen = _choice_log_likelihood(alpha[a], sessions.strategies)
        extra = np.log(ARCHETYPE_SHARE[a]) + chosen - np.log(per)
        parts = _component_draws(latent, population, sessions, profile, mean, per, rng)
        by_archetype.append([(draws, log_w + extra[i]) for i, (draws, log_w) in enumerate(parts)])
    out = []
    for parts in zip(*by_archetype, strict=True):
        draws = np.concatenate([d for d, _ in parts])
        log_w = np.concatenate([w for _, w in parts])
        out.append((draws, np.exp(log_w - log_w.max())))
    return out


def _archetype_means(dim: int) -> np.ndarray:
    """x's prior mean (A, D) in each archetype: its traits, no ability residual, its response."""
    means = np.zeros((len(ARCHETYPE_SHARE), dim))
    means[:, :3] = ARCHETYPE_TRAITS
    means[:, 4:] = archetype_response()
    return means


def _choice_log_likelihood(alpha: np.ndarray, strategies: np.ndarray) -> np.ndarray:
    """Log chance (n,) of each learner's sequence of strategies (n, k) under habits drawn from
    Dirichlet(alpha): the Dirichlet-multinomial."""
    counts = (strategies[..., None] == np.arange(alpha.size)).sum(axis=1)
    k = strategies.shape[1]
    picked = special.gammaln(alpha + counts) - special.gammaln(alpha)
    return special.gammaln(alpha.sum()) - special.gammaln(alpha.sum() + k) + np.sum(picked, axis=-1)


def _first_sessions(population: Population, history: SessionLog, n: int, k: int) -> _Sessions:
    n_history = len(history) // n if n else 0
    rows = (np.arange(n)[:, None] * n_history + np.arange(k)).reshape(-1)
    used = _offsets(population, history.context[rows])[np.arange(rows.shape[0]), history.strategy[rows]]
    return _Sessions(
        offsets=used.reshape(n, k),
        strategies=history.strategy[rows].reshape(n, k),
        scores=history.outcome[rows].reshape(n, k),
        contexts=history.context[rows].reshape(n, k, history.context.shape[1]),
    )


def _component_draws(
    latent: _Latent,
    population: Population,
    sessions: _Sessions,
    profile: np.ndarray,
    prior_mean: np.ndarray,
    n_draws: int,
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Draws of x with prior N(`prior_mean`, prior_cov) for each learner and their log importance
    weights: log joint density minus log proposal density, both up to constants that are the
    same for every prior mean, so the weights of different archetypes compare."""
    n = profile.shape[0]
    # The self-report, conjugate: a Gaussian reading of the traits.
    report_precision = np.zeros((latent.dim, latent.dim))
    report_precision[:3, :3] = np.diag(1.0 / latent.report_noise**2)
    prior_precision = np.linalg.inv(latent.prior_cov)
    precision = prior_precision + report_precision
    informed = np.zeros((n, latent.dim))
    informed[:, :3] = profile / latent.report_noise**2
    informed += prior_precision @ prior_mean
    centres = np.linalg.solve(precision, informed.T).T
    # What -0.5 (x - centre)' precision (x - centre) leaves out of the log joint density.
    shift = 0.5 * np.einsum("nd,de,ne->n", centres, precision, centres)
    shift -= 0.5 * prior_mean @ prior_precision @ prior_mean
    modes, hessians = _posterior_modes(latent, precision, centres, sessions, population.design.concentration)
    out = []
    for i in range(n):
        draws, log_q = _proposal(modes[i], hessians[i], n_draws, rng)
        log_q += 0.5 * np.linalg.slogdet(hessians[i])[1]
        log_p = _log_posterior(latent, precision, centres[i], draws, sessions, i, population) + shift[i]
        out.append((draws, log_p - log_q))
    return out


def _proposal(
    mode: np.ndarray, hessian: np.ndarray, n_draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draws from a multivariate t around the mode with the Laplace scale, and their log density
    up to a constant. Draws come in mirrored pairs, which cancels most of the sampling error of
    posterior means of near-linear functions such as the expected scores."""
    factor = np.linalg.cholesky(np.linalg.inv(hessian))
    half = rng.standard_normal(((n_draws + 1) // 2, mode.shape[0]))
    z = np.concatenate([half, -half])[:n_draws]
    u = np.tile(rng.chisquare(_T_DOF, (half.shape[0], 1)) / _T_DOF, (2, 1))[:n_draws]
    draws = mode + (z @ factor.T) / np.sqrt(u)
    distance = np.sum(z**2, axis=1) / u[:, 0]
    return draws, -0.5 * (_T_DOF + mode.shape[0]) * np.log1p(distance / _T_DOF)


def _log_posterior(
    latent: _Latent,
    precision: np.ndarray,
    centre: np.ndarray,
    draws: np.ndarray,
    sessions: _Sessions,
    i: int,
    population: Population,
) -> np.ndarray:
    """Log posterior density, up to a constant, of learner i's `draws` (n_draws, D)."""
    gap = draws - centre
    log_p = -0.5 * np.einsum("nd,de,ne->n", gap, precision, gap)
    if sessions.scores.shape[1] == 0:
        return log_p
    logit = sessions.offsets[i] + draws @ latent.loading[sessions.strategies[i]].T
    scores = _score_log_likelihood(logit, sessions.scores[i], population.design.concentration)
    ratings = _rating_log_likelihood(draws[:, :1], sessions.contexts[i])
    return log_p + scores.sum(axis=1) + ratings.sum(axis=1)
