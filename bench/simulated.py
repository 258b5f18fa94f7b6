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
                                           # their self-report and first k sessions
                                           # (`bench.bayes`)
        "known_population_regret_ratio_ci95": [[low, high], ...],  # as for the learners
        "known_population_draws": {"n_draws": ..., "ess": [...]},  # its draws per learner and
      },                                   # k, and their mean effective number per k
      "learners": {
        name: {
          "fit_seconds": ...,
          "regret": [...],         # mean of true_mean[best] - true_mean[argmax mean]
          "regret_ratio": [...],   # regret / baseline regret (lower is better, 1 = baseline)
          "regret_ratio_ci95": [[low, high], ...],  # 95% bootstrap interval over test learners,
                                   # paired: every row resamples the same learners
          "regret_ratio_step_ci95": [[low, high], ...],  # of each change from one k to the next
          "rmse": [...],           # RMSE of mean vs the realised outcome of every strategy
          "rmse_true": [...],      # RMSE of mean vs the true expected outcome
          "coverage90": [...],     # share of realised outcomes inside mean +- 1.645 std
          "predict_ms": [...],     # mean wall time of one predict call (the combination's:
                                   # of combining its bases' predictions)
          "bound_distance_ci95": [[low, high], ...],  # paired 95% interval of regret_ratio
                                   # minus the best possible (reference
                                   # known_population_regret_ratio)
          "best_other": [...],     # per k, the other learner with the lowest regret
          "best_other_diff_ci95": [[low, high], ...],  # paired 95% interval of regret_ratio
                                   # minus that learner's
          "neighbour_weight": {"k": [...], "share": [...]},  # memory learner only: see
        }                                  # MemoryMetaLearner.neighbour_weights
      },
      "stress": {                  # the same, on the "independent" design
        "population": "independent",
        "baseline": {...}, "learners": {...},
        "reference": {"known_traits_regret_ratio": ..., "known_population_regret_ratio": [...]}
      },
      "sensitivity": [             # the same, on each variant of "families" (`VARIANTS`): the
        {"population": name, "baseline": {...}, "learners": {...}, "reference": {...}}, ...
      ]                            # `SENSITIVITY` ones, then "archetypes", whose reference also
    }                              # has "known_archetypes_regret_ratio" (choosing with the true
                                   # traits and archetype, without the individual part)

Realised outcomes are drawn for every strategy in every situation (counterfactuals the
simulator can provide), so RMSE and coverage cover all strategies, not only the habitual ones.
The baseline is one fixed ranking of strategies by their average outcome in the training log.
A regret ratio is an average over the test learners and carries their sampling error: its 95%
interval comes from resampling test learners. Variants draw the same learners and situations
as the main population but for what they change (see `coach.engine.simulate`), so differences
between populations are not differences between samples.

`speed` measures meta-training time, predict latency and memory on a larger population.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import Any

import numpy as np

from bench.bayes import choice_regret as bayes_choice_regret
from bench.learner_report import COMBINED, fit_learner
from coach.engine.base import MetaLearner
from coach.engine.evaluate import resampled_ratios
from coach.engine.log import SessionLog
from coach.engine.simulate import (
    FAMILY_LOADING,
    N_STRATEGIES,
    STRATEGIES,
    VARIANTS,
    Design,
    Population,
    archetype_response,
    make_population,
    simulate,
)

Factory = Callable[[], MetaLearner]
Z90 = 1.645
N_RESAMPLES = 2000


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
    variants: Sequence[Design] = VARIANTS,
    n_draws: int = 4000,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Meta-train every learner on each population design and score recommendations; the
    designs are independent, so with an `executor` they run side by side."""
    ks = [int(k) for k in ks]
    sizes = {"n_train": n_train, "n_test": n_test, "n_situations": n_situations, "n_draws": n_draws}
    job = partial(_run_design, factories, ks=ks, n_train_sessions=n_train_sessions, seed=seed, **sizes)
    designs: list[str | Design] = ["families", "independent", *variants]
    if executor is None:
        blocks = [job(d) for d in designs]
    else:
        blocks = [f.result() for f in [executor.submit(job, d) for d in designs]]
    main, stress = blocks[:2]
    sensitivity = [{"population": v.name, **b} for v, b in zip(variants, blocks[2:], strict=True)]
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
    *,
    ks: list[int],
    n_train_sessions: int,
    seed: int,
    n_train: int,
    n_test: int,
    n_situations: int,
    n_draws: int,
) -> dict[str, Any]:
    """Baseline, references and every learner's scores on one population design."""
    population, train, test = _draw(design, n_train, n_test, n_train_sessions, max(ks), n_situations, seed)
    rows = np.arange(test.truth.shape[0])
    base_by_learner = _baseline_by_learner(train, test, n_test)
    base_regret = float(base_by_learner.mean())
    # One set of resampled test learners for every row, so intervals are paired across rows.
    resamples = np.random.default_rng(seed + 11).integers(0, n_test, (N_RESAMPLES, n_test))
    learners = {}
    regrets: dict[str, np.ndarray] = {}  # (n_test, n_k) per learner, for the paired intervals below
    fitted: dict[str, MetaLearner] = {}
    predicted: dict[str, list[tuple[np.ndarray, np.ndarray, float]]] = {}
    for name, factory in factories.items():
        start = time.perf_counter()
        learner = fitted[name] = fit_learner(name, factory(), train, fitted)
        fit_seconds = time.perf_counter() - start
        if name == COMBINED:
            # What its predict does, from the predictions its bases have just made; the time
            # is the combining's alone (the speed part times a whole predict).
            predicted[name] = [
                _combined(learner, k, [predicted[b][i] for b in learner.learners_]) for i, k in enumerate(ks)
            ]
        else:
            predicted[name] = [_predictions(learner, test, k, n_situations) for k in ks]
        scores = [_score(test, one, rows) for one in predicted[name]]
        result: dict[str, Any] = {"fit_seconds": fit_seconds, **neighbour_weights(learner)}
        for key in ("regret", "rmse", "rmse_true", "coverage90", "predict_ms"):
            result[key] = [s[key] for s in scores]
        result["regret_ratio"] = [r / base_regret for r in result["regret"]]
        by_learner = regrets[name] = np.stack([s["regret_by_learner"] for s in scores], axis=1)
        result["regret_ratio_ci95"] = _ratio_interval(by_learner, base_by_learner, resamples)
        result["regret_ratio_step_ci95"] = _step_interval(by_learner, base_by_learner, resamples)
        learners[name] = result
    without = dataclasses.replace(population, quirks=np.zeros_like(population.quirks))
    reference: dict[str, Any] = {"known_traits_regret_ratio": _choice_regret(without, test) / base_regret}
    bayes, ess = _bound_regret(population, test, n_test, ks, n_draws=n_draws, seed=seed)
    reference["known_population_regret_ratio"] = (bayes.mean(axis=0) / base_regret).tolist()
    reference["known_population_regret_ratio_ci95"] = _ratio_interval(bayes, base_by_learner, resamples)
    reference["known_population_draws"] = {"n_draws": n_draws, "ess": ess.mean(axis=0).tolist()}
    for name, row in learners.items():
        # Paired: the learner and the bound choose for the same test learners and situations.
        row["bound_distance_ci95"] = _ratio_interval(regrets[name] - bayes, base_by_learner, resamples)
        row |= _best_other(name, regrets, base_by_learner, resamples)
    if population.family is not None:
        shared = population.design.family_sd * population.family @ FAMILY_LOADING.T
        families = dataclasses.replace(population, quirks=shared)
        reference["known_families_regret_ratio"] = _choice_regret(families, test) / base_regret
    if population.archetype is not None:
        kinds = dataclasses.replace(population, quirks=archetype_response()[population.archetype])
        reference["known_archetypes_regret_ratio"] = _choice_regret(kinds, test) / base_regret
    return {
        "baseline": {"strategy": _baseline_choice(train), "regret": [base_regret] * len(ks)},
        "reference": reference,
        "learners": learners,
    }


def _draw(
    design: str | Design,
    n_train: int,
    n_test: int,
    n_train_sessions: int,
    n_history: int,
    n_situations: int,
    seed: int,
) -> tuple[Population, SessionLog, _TestSet]:
    """A population of training and new learners, the training learners' sessions and the new
    learners' test set, all from `seed`."""
    rng = np.random.default_rng(seed)
    population = make_population(n_train + n_test, rng, design)
    train = population.sessions(np.arange(n_train), n_train_sessions, rng)
    test = _test_set(population, np.arange(n_train, n_train + n_test), n_history, n_situations, rng)
    return population, train, test


def _baseline_by_learner(train: SessionLog, test: _TestSet, n_test: int) -> np.ndarray:
    """Each new learner's regret (n_test,) under the fixed best-on-average strategy of `train`."""
    fixed = _baseline_choice(train)
    return _by_learner(test.truth.max(axis=1) - test.truth[:, fixed], n_test)


def _bound_regret(
    population: Population, test: _TestSet, n_test: int, ks: list[int], *, n_draws: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The Bayes choice's regret (n_test, n_k) on the new learners (the population's last n_test)
    and its effective draws; `seed` is the bench's, the bound draws from a stream of its own."""
    first = population.n_learners - n_test
    return bayes_choice_regret(
        population,
        test.history,
        population.profile[first:],
        test.situations,
        test.truth,
        ks,
        n_draws=n_draws,
        seed=seed + 7,
    )


def _best_other(
    name: str, regrets: dict[str, np.ndarray], base: np.ndarray, resamples: np.ndarray
) -> dict[str, Any]:
    """At each k, the other learner with the lowest mean regret and the paired 95% interval of
    this learner's regret ratio minus its; nothing when there is no other learner."""
    others = [other for other in regrets if other != name]
    if not others:
        return {}
    means = np.stack([regrets[other].mean(axis=0) for other in others])  # (n_others, n_k)
    best = means.argmin(axis=0)
    columns = np.arange(best.shape[0])
    stacked = np.stack([regrets[other] for other in others])  # (n_others, n_test, n_k)
    diff = regrets[name] - stacked[best, :, columns].T
    return {
        "best_other": [others[i] for i in best],
        "best_other_diff_ci95": _ratio_interval(diff, base, resamples),
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
    history_rng, situation_rng, outcome_rng = rng.spawn(3)
    history = population.sessions(ids, n_history, history_rng)
    situation_ids = np.repeat(ids, n_situations)
    situations = population.draw_situations(situation_ids, situation_rng)
    truth = population.true_mean(situation_ids, situations)
    return _TestSet(
        history=history,
        starts=np.arange(ids.shape[0]) * n_history,
        situation_learner=situation_ids,
        situations=situations,
        truth=truth,
        realised=population.draw_outcomes(truth, outcome_rng),
    )


def _baseline_choice(train: SessionLog) -> int:
    """The strategy with the best average outcome in training; unseen strategies rank last."""
    counts = np.bincount(train.strategy, minlength=N_STRATEGIES)
    sums = np.bincount(train.strategy, weights=train.outcome, minlength=N_STRATEGIES)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    return int(np.argmax(means))


def _by_learner(values: np.ndarray, n_test: int) -> np.ndarray:
    """Mean over each test learner's situations (rows are grouped by learner)."""
    return values.reshape(n_test, -1).mean(axis=1)


def _ratio_interval(regret: np.ndarray, base: np.ndarray, resamples: np.ndarray) -> list[list[float]]:
    """95% bootstrap interval, over test learners, of the regret ratio at each k: `regret` is
    (n_test, n_k) per learner, `base` (n_test,) the baseline's, `resamples` rows of learner ids."""
    return np.percentile(resampled_ratios(regret, base, resamples), [2.5, 97.5], axis=0).T.tolist()


def _step_interval(regret: np.ndarray, base: np.ndarray, resamples: np.ndarray) -> list[list[float]]:
    """95% bootstrap interval of each change of the regret ratio from one k to the next, paired:
    the same resampled learners on both sides."""
    steps = np.diff(resampled_ratios(regret, base, resamples), axis=1)
    return np.percentile(steps, [2.5, 97.5], axis=0).T.tolist()


def _choice_regret(belief: Population, test: _TestSet) -> float:
    """Regret of choosing by `belief`'s expected outcomes (a population with some truth left out)."""
    choice = belief.true_mean(test.situation_learner, test.situations).argmax(axis=1)
    rows = np.arange(choice.shape[0])
    return float(np.mean(test.truth.max(axis=1) - test.truth[rows, choice]))


def _predictions(
    learner: MetaLearner, test: _TestSet, k: int, n_situations: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Every test learner's (mean, std) in their situations after their first k sessions, and
    the seconds the predict calls took."""
    means = np.empty_like(test.truth)
    stds = np.empty_like(test.truth)
    elapsed = 0.0
    for i, first in enumerate(test.starts):
        history = test.history.take(slice(first, first + k))
        block = slice(i * n_situations, (i + 1) * n_situations)
        start = time.perf_counter()
        means[block], stds[block] = learner.predict(history, test.situations[block])
        elapsed += time.perf_counter() - start
    return means, stds, elapsed


def _combined(
    combined: Any, k: int, parts: list[tuple[np.ndarray, np.ndarray, float]]
) -> tuple[np.ndarray, np.ndarray, float]:
    start = time.perf_counter()
    mean, std = combined.combine(k, [(mean, std) for mean, std, _ in parts])
    return mean, std, time.perf_counter() - start


def _score(
    test: _TestSet, predicted: tuple[np.ndarray, np.ndarray, float], rows: np.ndarray
) -> dict[str, Any]:
    means, stds, elapsed = predicted
    choice = means.argmax(axis=1)
    error = means - test.realised
    regret = test.truth.max(axis=1) - test.truth[rows, choice]
    return {
        "regret": float(np.mean(regret)),
        "regret_by_learner": _by_learner(regret, len(test.starts)),
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
    "predict_ms_p90", "fit_peak_mb", "saved_kb"}}}. Each learner is fitted once, in a process of
    its own (`_fit_alone`), which also gives `fit_peak_mb`: how far the fit raised that
    process's resident memory above what it held before. `predict_ms_*` time one call for one
    learner with `n_sessions` sessions of history and one situation, over `n_repeats` calls
    (different learners), on the learner loaded from its `to_bytes()`, whose size is `saved_kb`.
    """
    log, population = simulate(n_learners, n_sessions, seed)
    rng = np.random.default_rng(seed + 1)
    picks = rng.choice(n_learners, size=min(n_repeats, n_learners), replace=False)
    contexts = population.draw_situations(picks, rng)
    histories = [log.take(slice(p * n_sessions, (p + 1) * n_sessions)) for p in picks]
    results = {}
    saved: dict[str, bytes] = {}
    for name, factory in factories.items():
        # Spawned, so the fit's memory is measured from a fresh process's.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as alone:
            job = alone.submit(_fit_alone, name, factory, n_learners, n_sessions, seed, saved)
            saved[name], fit_seconds, peak_mb = job.result()
        learner = MetaLearner.from_bytes(saved[name])
        times = []
        for history, context in zip(histories, contexts, strict=True):
            start = time.perf_counter()
            learner.predict(history, context[None, :])
            times.append(1000.0 * (time.perf_counter() - start))
        results[name] = {
            "fit_seconds": fit_seconds,
            "predict_ms_median": float(np.median(times)),
            "predict_ms_p90": float(np.percentile(times, 90)),
            "fit_peak_mb": peak_mb,
            "saved_kb": len(saved[name]) / 1024,
        }
    return {
        "setup": {"n_learners": n_learners, "n_sessions": n_sessions, "n_repeats": len(picks)},
        "learners": results,
    }


def _fit_alone(
    name: str, factory: Factory, n_learners: int, n_sessions: int, seed: int, saved: dict[str, bytes]
) -> tuple[bytes, float, float]:
    """In a process of its own: the learner fitted on the speed part's log (a combination over
    the `saved` learners), its fit time, and how much its resident memory rose during the fit."""
    log, _ = simulate(n_learners, n_sessions, seed)
    fitted = {other: MetaLearner.from_bytes(data) for other, data in saved.items()}
    before = _reset_peak_rss()
    start = time.perf_counter()
    learner = fit_learner(name, factory(), log, fitted)
    seconds = time.perf_counter() - start
    return learner.to_bytes(), seconds, (_peak_rss() - before) / 2**20


def _reset_peak_rss() -> int:
    """Linux: reset the process's peak resident memory to what it holds now, and return that."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_bytes("VmRSS")


def _peak_rss() -> int:
    return _status_bytes("VmHWM")


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise OSError(f"/proc/self/status has no {field}")
