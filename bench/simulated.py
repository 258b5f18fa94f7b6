"""Simulated-learner benchmark: how well meta-learners recommend for new learners.

The population is `coach.engine.simulate` (documented there), in two designs. The main one,
"families", is the population the figures stand for: learners' idiosyncrasies come from latent
sensitivities shared by families of strategies, so a few sessions with one strategy say
something about its relatives. The stress case, "independent", is the earlier population with an
independent quirk per strategy: nothing carries over between strategies, and even choosing
with the true traits leaves most of the regret. Both are scored the same way, on the same seed.

Each learner is meta-trained on `n_train` simulated learners with `n_train_sessions` habitual
sessions each. Then, for `n_test` new learners, the first k of their own sessions are revealed
(k in `ks`) and the learner scores `n_situations` fresh situations per test learner, the same
situations for every k.

`run` returns (all lists are aligned with "ks"; top-level blocks are the "families" design):

    {
      "ks": [0, 1, 2, 5, 10, 20],
      "setup": {n_train, n_test, n_train_sessions, n_situations, seed, strategies,
                population: "families"},
      "baseline": {
        "strategy": index of the strategy the baseline always recommends,
        "regret": [...],           # mean regret of that fixed choice (same at every k)
      },
      "reference": {
        "known_traits_regret_ratio": ...,  # choosing with the true traits but without the
                                           # per-learner quirks: what profiles alone could give
        "known_families_regret_ratio": ...,  # true traits plus the learner's shared family
                                           # sensitivities: what learning across strategies
                                           # could give at best ("families" design only)
        "known_population_regret_ratio": [...],  # per k: the Bayes choice knowing the
                                           # population exactly but the learner only through
                                           # their self-report and first k sessions, sampled
        "known_population_draws": {"n_draws": ..., "ess": [...]},  # its prior draws and
      },                                   # their effective number per k
      "learners": {
        name: {
          "fit_seconds": ...,
          "regret": [...],         # mean of true_mean[best] - true_mean[argmax mean]
          "regret_ratio": [...],   # regret / baseline regret (lower is better, 1 = baseline)
          "rmse": [...],           # RMSE of mean vs the realised outcome of every strategy
          "rmse_true": [...],      # RMSE of mean vs the true expected outcome
          "coverage90": [...],     # share of realised outcomes inside mean +- 1.645 std
          "predict_ms": [...],     # mean wall time of one predict call
          "neighbour_weight": {"k": [...], "share": [...]},  # memory learner only: see
        }                                  # MemoryMetaLearner.neighbour_weights
      },
      "stress": {                  # the same, on the "independent" design
        "population": "independent",
        "baseline": {...}, "learners": {...},
        "reference": {"known_traits_regret_ratio": ..., "known_population_regret_ratio": [...]}
      },
      "sensitivity": [             # the same, on each variant of "families" (`SENSITIVITY`)
        {"population": name, "baseline": {...}, "learners": {...}, "reference": {...}}, ...
      ]
    }

Realised outcomes are drawn for every strategy in every situation (counterfactuals the
simulator can provide), so RMSE and coverage cover all strategies, not only the habitual ones.
The baseline is one fixed ranking of strategies by their average outcome in the training log.

`speed` measures meta-training time, predict latency and memory on a larger population.
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import special, stats

from coach.engine.base import MetaLearner
from coach.engine.log import SessionLog
from coach.engine.simulate import (
    CONFIDENCE_MODEL,
    FAMILY_LOADING,
    FEATURES,
    N_STRATEGIES,
    SENSITIVITY,
    STRATEGIES,
    Design,
    Population,
    make_population,
    simulate,
)

Factory = Callable[[], MetaLearner]
Z90 = 1.645
_DIFFICULTY, _CONFIDENCE = FEATURES.index("difficulty"), FEATURES.index("confidence before")


@dataclasses.dataclass(frozen=True)
class _TestSet:
    history: SessionLog  # the first max(ks) sessions of each test learner, grouped by learner
    starts: np.ndarray  # (n_test,) first history row of each test learner
    situation_learner: np.ndarray  # (n_test * n_situations,) whose situation each row is
    situations: np.ndarray  # (n_test * n_situations, d)
    truth: np.ndarray  # (n_test * n_situations, S) true expected outcome
    realised: np.ndarray  # (n_test * n_situations, S) one realised outcome per strategy


def run(
    factories: dict[str, Factory],
    *,
    n_train: int = 2000,
    n_test: int = 500,
    ks: Sequence[int] = (0, 1, 2, 5, 10, 20),
    n_situations: int = 20,
    n_train_sessions: int = 30,
    seed: int = 0,
    variants: Sequence[Design] = SENSITIVITY,
    n_draws: int = 10_000,
) -> dict[str, Any]:
    """Meta-train every learner on each population design and score recommendations."""
    ks = [int(k) for k in ks]
    sizes = {"n_train": n_train, "n_test": n_test, "n_situations": n_situations, "n_draws": n_draws}
    main = _run_design(factories, "families", ks, n_train_sessions, seed, **sizes)
    stress = _run_design(factories, "independent", ks, n_train_sessions, seed, **sizes)
    sensitivity = [
        {"population": v.name, **_run_design(factories, v, ks, n_train_sessions, seed, **sizes)}
        for v in variants
    ]
    return {
        "ks": ks,
        "setup": {
            "n_train": n_train,
            "n_test": n_test,
            "n_train_sessions": n_train_sessions,
            "n_situations": n_situations,
            "n_draws": n_draws,
            "seed": seed,
            "strategies": list(STRATEGIES),
            "population": "families",
        },
        **main,
        "stress": {"population": "independent", **stress},
        "sensitivity": sensitivity,
    }


def _run_design(
    factories: dict[str, Factory],
    design: str | Design,
    ks: list[int],
    n_train_sessions: int,
    seed: int,
    *,
    n_train: int,
    n_test: int,
    n_situations: int,
    n_draws: int,
) -> dict[str, Any]:
    """Baseline, references and every learner's scores on one population design."""
    rng = np.random.default_rng(seed)
    population = make_population(n_train + n_test, rng, design)
    train = population.sessions(np.arange(n_train), n_train_sessions, rng)
    test = _test_set(population, np.arange(n_train, n_train + n_test), max(ks), n_situations, rng)
    fixed = _baseline_choice(train)
    rows = np.arange(test.truth.shape[0])
    base_regret = float(np.mean(test.truth.max(axis=1) - test.truth[:, fixed]))
    learners = {}
    for name, factory in factories.items():
        start = time.perf_counter()
        learner = factory().fit(train)
        fit_seconds = time.perf_counter() - start
        scores = [_score(learner, test, k, n_situations, rows) for k in ks]
        result: dict[str, Any] = {"fit_seconds": fit_seconds, **neighbour_weights(learner)}
        for key in ("regret", "rmse", "rmse_true", "coverage90", "predict_ms"):
            result[key] = [s[key] for s in scores]
        result["regret_ratio"] = [r / base_regret for r in result["regret"]]
        learners[name] = result
    without = dataclasses.replace(population, quirks=np.zeros_like(population.quirks))
    reference: dict[str, Any] = {"known_traits_regret_ratio": _choice_regret(without, test) / base_regret}
    bayes, ess = _known_population_regret(population, test, ks, n_draws=n_draws, seed=seed)
    reference["known_population_regret_ratio"] = [r / base_regret for r in bayes]
    reference["known_population_draws"] = {"n_draws": n_draws, "ess": ess}
    if population.family is not None:
        shared = population.design.family_sd * population.family @ FAMILY_LOADING.T
        families = dataclasses.replace(population, quirks=shared)
        reference["known_families_regret_ratio"] = _choice_regret(families, test) / base_regret
    return {
        "baseline": {"strategy": fixed, "regret": [base_regret] * len(ks)},
        "reference": reference,
        "learners": learners,
    }


def neighbour_weights(learner: MetaLearner) -> dict[str, Any]:
    """For a memory learner, how much its neighbours count at each snapshot level; else nothing."""
    weights = getattr(learner, "neighbour_weights", None)
    if weights is None:
        return {}
    levels, shares = weights()
    return {"neighbour_weight": {"k": levels.tolist(), "share": shares.tolist()}}


def _test_set(
    population: Population, ids: np.ndarray, n_history: int, n_situations: int, rng: np.random.Generator
) -> _TestSet:
    history = population.sessions(ids, n_history, rng)
    situation_ids = np.repeat(ids, n_situations)
    situations = population.draw_situations(situation_ids, rng)
    truth = population.true_mean(situation_ids, situations)
    return _TestSet(
        history=history,
        starts=np.arange(ids.shape[0]) * n_history,
        situation_learner=situation_ids,
        situations=situations,
        truth=truth,
        realised=population.draw_outcomes(truth, rng),
    )


def _baseline_choice(train: SessionLog) -> int:
    """The strategy with the best average outcome in training; unseen strategies rank last."""
    counts = np.bincount(train.strategy, minlength=N_STRATEGIES)
    sums = np.bincount(train.strategy, weights=train.outcome, minlength=N_STRATEGIES)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    return int(np.argmax(means))


def _choice_regret(belief: Population, test: _TestSet) -> float:
    """Regret of choosing by `belief`'s expected outcomes (a population with some truth left out)."""
    choice = belief.true_mean(test.situation_learner, test.situations).argmax(axis=1)
    rows = np.arange(choice.shape[0])
    return float(np.mean(test.truth.max(axis=1) - test.truth[rows, choice]))


def _known_population_regret(
    population: Population, test: _TestSet, ks: list[int], *, n_draws: int, seed: int
) -> tuple[list[float], list[float]]:
    """Regret at each k of the Bayes choice that knows the population exactly but the new
    learner only through their self-report, their first k sessions (scores and confidence
    ratings) and the confidence rating of the situation at hand: `n_draws` learners drawn from
    the true prior, weighted by the exact likelihood of what was seen, and the strategy with the
    best posterior expected score chosen. Up to sampling error no learner can do better on
    average. Also the mean effective number of draws at each k, before the situation's rating."""
    draws = make_population(n_draws, np.random.default_rng(seed + 7), population.design)
    n_test = test.starts.shape[0]
    n_situations = test.situations.shape[0] // n_test
    rows = np.arange(n_situations)
    regret, ess = np.zeros(len(ks)), np.zeros(len(ks))
    for i in range(n_test):
        first = population.n_learners - n_test + i
        history = test.history.take(slice(test.starts[i], test.starts[i] + max(ks)))
        report, sessions = _log_likelihood(draws, history, population.profile[first])
        evidence = report[:, None] + np.hstack([np.zeros((n_draws, 1)), np.cumsum(sessions, axis=1)])
        block = slice(i * n_situations, (i + 1) * n_situations)
        situations, truth = test.situations[block], test.truth[block]
        means = draws.true_mean(
            np.repeat(np.arange(n_draws), n_situations), np.tile(situations, (n_draws, 1))
        )
        means = means.reshape(n_draws, n_situations, -1)
        rating = _confidence_log_likelihood(draws, situations)
        for j, k in enumerate(ks):
            w = np.exp(evidence[:, k] - evidence[:, k].max())
            ess[j] += float(w.sum() ** 2 / np.sum(w**2))
            here = w[:, None] * np.exp(rating - rating.max(axis=0))
            choice = np.einsum("dn,dns->ns", here / here.sum(axis=0), means).argmax(axis=1)
            regret[j] += float(np.mean(truth.max(axis=1) - truth[rows, choice]))
    return (regret / n_test).tolist(), (ess / n_test).tolist()


def _log_likelihood(
    draws: Population, history: SessionLog, profile: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood of one learner's self-report (n_draws,) and of each of their sessions
    (n_draws, k), their score and confidence rating, were they each of `draws`."""
    design = draws.design
    n, k = draws.n_learners, len(history)
    report = stats.norm.logpdf(profile[None, :], draws.traits, np.asarray(design.report_noise)).sum(axis=1)
    if k == 0:
        return report, np.zeros((n, 0))
    ids = np.repeat(np.arange(n), k)
    mean = draws.true_mean(ids, np.tile(history.context, (n, 1)))[
        np.arange(n * k), np.tile(history.strategy, n)
    ]
    a, b = mean * design.concentration, (1.0 - mean) * design.concentration
    # Scores are whole percents: the Beta density at the score stands for the chance of its
    # interval, and 0 and 100 for the middle of their half-intervals.
    y = np.tile(np.clip(history.outcome, 0.0025, 0.9975), n)
    log_p = (a - 1.0) * np.log(y) + (b - 1.0) * np.log1p(-y) - special.betaln(a, b)
    return report, log_p.reshape(n, k) + _confidence_log_likelihood(draws, history.context)


def _confidence_log_likelihood(draws: Population, context: np.ndarray) -> np.ndarray:
    """Log-likelihood (n_draws, m) of the confidence rating in each context row."""
    base, per_knowledge, per_difficulty, noise = CONFIDENCE_MODEL
    likert = np.rint(context[:, _CONFIDENCE] * 4.0 + 1.0)
    difficulty = context[None, :, _DIFFICULTY]
    centre = base + per_knowledge * draws.traits[:, :1] - per_difficulty * (difficulty - 0.5)
    upper = np.where(likert >= 5.0, np.inf, likert + 0.5)
    lower = np.where(likert <= 1.0, -np.inf, likert - 0.5)
    q = stats.norm.cdf((upper - centre) / noise) - stats.norm.cdf((lower - centre) / noise)
    return np.log(np.maximum(q, 1e-300))


def _score(
    learner: MetaLearner, test: _TestSet, k: int, n_situations: int, rows: np.ndarray
) -> dict[str, float]:
    means = np.empty_like(test.truth)
    stds = np.empty_like(test.truth)
    elapsed = 0.0
    for i, first in enumerate(test.starts):
        history = test.history.take(slice(first, first + k))
        block = slice(i * n_situations, (i + 1) * n_situations)
        start = time.perf_counter()
        means[block], stds[block] = learner.predict(history, test.situations[block])
        elapsed += time.perf_counter() - start
    choice = means.argmax(axis=1)
    error = means - test.realised
    return {
        "regret": float(np.mean(test.truth.max(axis=1) - test.truth[rows, choice])),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "rmse_true": float(np.sqrt(np.mean((means - test.truth) ** 2))),
        "coverage90": float(np.mean(np.abs(error) <= Z90 * stds)),
        "predict_ms": 1000.0 * elapsed / max(len(test.starts), 1),
    }


def speed(
    factories: dict[str, Factory],
    *,
    n_learners: int = 10_000,
    n_sessions: int = 30,
    n_repeats: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Cost of each learner on `n_learners` x `n_sessions` simulated sessions.

    Returns {"setup": {...}, "learners": {name: {"fit_seconds", "predict_ms_median",
    "predict_ms_p90", "fit_peak_mb", "saved_kb"}}}. `predict_ms_*` time one call for one
    learner with `n_sessions` sessions of history and one situation, over `n_repeats` calls
    (different learners). `fit_peak_mb` is the tracemalloc peak of a second, traced fit, so
    tracing does not slow the timed one. `saved_kb` is the size of `to_bytes()`.
    """
    log, population = simulate(n_learners, n_sessions, seed)
    rng = np.random.default_rng(seed + 1)
    picks = rng.choice(n_learners, size=min(n_repeats, n_learners), replace=False)
    contexts = population.draw_situations(picks, rng)
    histories = [log.take(slice(p * n_sessions, (p + 1) * n_sessions)) for p in picks]
    results = {}
    for name, factory in factories.items():
        start = time.perf_counter()
        learner = factory().fit(log)
        fit_seconds = time.perf_counter() - start
        times = []
        for history, context in zip(histories, contexts, strict=True):
            start = time.perf_counter()
            learner.predict(history, context[None, :])
            times.append(1000.0 * (time.perf_counter() - start))
        tracemalloc.start()
        factory().fit(log)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[name] = {
            "fit_seconds": fit_seconds,
            "predict_ms_median": float(np.median(times)),
            "predict_ms_p90": float(np.percentile(times, 90)),
            "fit_peak_mb": peak / 2**20,
            "saved_kb": len(learner.to_bytes()) / 1024,
        }
    return {
        "setup": {"n_learners": n_learners, "n_sessions": n_sessions, "n_repeats": len(picks)},
        "learners": results,
    }
