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
        "known_population_regret_ratio": [...],  # per k: approximate Bayes choice knowing the
      },                                   # population exactly but the learner only through
                                           # their self-report and first k outcomes
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

from coach.engine.base import MetaLearner
from coach.engine.log import SessionLog
from coach.engine.simulate import (
    FAMILY_LOADING,
    N_STRATEGIES,
    SENSITIVITY,
    STRATEGIES,
    TRAIT_CORR,
    TRAIT_EFFECT,
    TRAITS,
    Design,
    Population,
    make_population,
    simulate,
)

Factory = Callable[[], MetaLearner]
Z90 = 1.645


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
) -> dict[str, Any]:
    """Meta-train every learner on each population design and score recommendations."""
    ks = [int(k) for k in ks]
    sizes = {"n_train": n_train, "n_test": n_test, "n_situations": n_situations}
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
    bayes = [_known_population_regret(population, test, k) / base_regret for k in ks]
    reference["known_population_regret_ratio"] = bayes
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


def _known_population_regret(population: Population, test: _TestSet, k: int) -> float:
    """Regret of an approximate Bayes choice that knows the population but not the learner.

    The learner is x = (traits, ability not explained by knowledge, quirks) with its true prior;
    the self-report and the first k outcomes update it, outcomes linearised around the learner
    at the population mean. The confidence ratings are left out, so this is close to, not
    exactly, the best any learner could do."""
    design = population.design
    n_test = test.starts.shape[0]
    mean = dataclasses.replace(
        population,
        traits=np.zeros_like(population.traits),
        ability=np.zeros_like(population.ability),
        quirks=np.zeros_like(population.quirks),
    )
    s, t = N_STRATEGIES, len(TRAITS)
    load = np.hstack([TRAIT_EFFECT + np.eye(t)[0] * 0.5, np.ones((s, 1)), np.eye(s)])  # eta = base + load @ x
    prior = np.zeros((t + 1 + s, t + 1 + s))
    prior[:t, :t], prior[t, t], prior[t + 1 :, t + 1 :] = TRAIT_CORR, 0.45**2, design.quirk_covariance()
    prec0 = np.linalg.inv(prior)
    report_prec = 1.0 / np.asarray(design.report_noise) ** 2
    n_situations = test.situations.shape[0] // n_test
    belief = np.empty((n_test, s))
    for i in range(n_test):
        ids = population.traits.shape[0] - n_test + i
        prec, info = prec0.copy(), np.zeros(t + 1 + s)
        prec[np.arange(t), np.arange(t)] += report_prec
        info[:t] = report_prec * population.profile[ids]
        if k:
            h = test.history.take(slice(test.starts[i], test.starts[i] + k))
            p0 = mean.true_mean(h.learner, h.context)[np.arange(k), h.strategy]
            jac = (p0 * (1.0 - p0))[:, None] * load[h.strategy]
            noise = p0 * (1.0 - p0) / (design.concentration + 1.0)
            prec += jac.T @ (jac / noise[:, None])
            info += jac.T @ ((h.outcome - p0) / noise)
        belief[i] = load @ np.linalg.solve(prec, info)
    rows = np.arange(test.truth.shape[0])
    eta = mean.true_logit(test.situation_learner, test.situations) + np.repeat(belief, n_situations, axis=0)
    return float(np.mean(test.truth.max(axis=1) - test.truth[rows, eta.argmax(axis=1)]))


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
