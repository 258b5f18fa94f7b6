"""Closed loop: does following the coach for a term help a learner?

    python -m bench.closed_loop [--quick] [--memory] [--combination] [--seed N] [--out FILE]

The other parts score one recommendation at a time against a fixed history. Here the advice
shapes the history: `n_learners` new learners of the simulated population (`coach.engine.simulate`,
the "families" design) each study `n_sessions` sessions following one policy, and what they
score under it is what the engine later learns from. Policies:

  (a) habits: the learner's own habits, the simulator's habit probabilities (`Population.habits`),
      picked as `Population.sessions` picks them;
  (b) published: always the strategy the published ratings rank first (the highest utility,
      catalogue order among equals; it is also the top of the simulator's `MAIN_EFFECT`);
  (c) model greedy: the model learner's highest expected score;
  (d) product: `coach.engine.policy.recommend` as the product calls it (Thompson sampling with
      its price cap), with the mean, std and noise `coach.advice.advice_from_engine` gives it,
      from the same engine functions (`predict_mixed`, `draw_noise`): the prediction mixed over
      the situations the session may be, the session noise and that situational spread left
      out of the draws;
  (e) with `--combination`, the combination of the learners (coach.engine.CombinedMetaLearner),
      greedy: `run` takes its factory as `combination`. It costs three times the rest together
      (each refit fits the three learners twice, once without the learners its weights are
      fitted on), so make bench leaves it out and the row reads "not available";
  and, with `--memory` (it costs as much again as (c) and (d): five fits of the memory
  learner), the memory learner's highest expected score.

Common random numbers: every policy meets the same learners, the same situations (task kind,
difficulty, minutes, confidence before) and, for each session and strategy, the same drawn
score, so two policies that pick the same strategy in a session score the same, and differences
between policies are not differences between draws. The habit policy uses one uniform draw per
session; Thompson sampling its own stream per learner.

What a policy knows when it advises: as in the product, the advice comes before the session, for
the kind of task at hand; difficulty, confidence and minutes are not known yet. The rows it
predicts over are `coach.advice`'s (via `learners.dataset.situation_context`): the learner's
last `RECENT_OWN` sessions' difficulty, confidence and minutes with the task kind asked for,
topped up, for a learner with fewer, by how the install's learners vary around their own usual
values; for a learner with none, the install's last `RECENT_INSTALL` sessions. The install here
is the training population's log. Both greedy rows predict over the same rows, so (c) and (d)
differ by exploration only.

The engine as the product runs it: the learners, built as the bench builds them
(`bench.run._simulated_factories`: the product's history column), are first fitted on `n_train`
training learners with `n_train_sessions` habitual sessions each (`bench.simulated`'s population
and sizes), then refitted `n_nights - 1` times during the term, on the training log plus every
session the new learners have logged under that policy so far; between refits, each learner's
posterior moves with every session through `predict` on their growing history.

Scores: the drawn self-test score of each session, in points. Regret of a session: the best
true expected score among strategies in that situation minus that of the strategy studied
(`Population.true_mean`), in points; cumulative regret sums it over sessions 1..t. Intervals are
95% over learners (normal, from the spread across learners); differences between policies are
paired, per learner.

`run` returns:

    {
      "setup": {n_train, n_train_sessions, n_learners, n_sessions, n_nights,
                nights: [[first, end], ...] sessions between refits, seed, population,
                strategies, published_strategy},
      "sessions": [1, ..., n_sessions],
      "policies": {name: {                 # names as in POLICIES
          "label", "available",            # False, with "why", for the combination
          "mean_score", "mean_score_ci95",  # drawn score over the term, points
          "cumulative_regret", "cumulative_regret_ci95",  # after sessions 1..T, points
          "regret", "regret_ci95",         # of each session, points
          "explore_share": [...],          # per session: share of learners advised to explore
          "explore_price",                 # mean predicted points given up when exploring
          "strategy_share": [...],         # share of sessions with each strategy
          "seconds": {"fit", "advise"}}},  # engine policies only
      "comparisons": {"product - habits" | "product - published" | "product - model_greedy": {
          "mean_score", "mean_score_ci95", "cumulative_regret", "cumulative_regret_ci95",
          "sessions": s, "early_regret", "early_regret_ci95", "late_regret", "late_regret_ci95"}},
                                           # paired differences; early/late: mean per-session
                                           # regret over the first and the last s sessions
      "seconds": {"first_model_fit", "total", "cpu"}
    }
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from coach.engine.base import MetaLearner
from coach.engine.log import SessionLog
from coach.engine.policy import draw_noise, predict_mixed, recommend
from coach.engine.simulate import FEATURES, N_STRATEGIES, STRATEGIES, UTILITY, Population, make_population

Factory = Callable[[], MetaLearner]
Z95 = 1.96
# As learners.dataset: the sessions a learner's usual values are taken from, and the install's.
RECENT_OWN = 20
RECENT_INSTALL = 200
# What the learner has not said before a session: difficulty, confidence before, minutes.
UNKNOWN_BEFORE = tuple(FEATURES.index(name) for name in ("difficulty", "confidence before", "hours planned"))
RATING_ORDER = ("high", "moderate", "low")

FULL: dict[str, Any] = {
    "n_train": 2000,
    "n_train_sessions": 30,
    "n_learners": 500,
    "n_sessions": 30,
    "n_nights": 5,
}
QUICK: dict[str, Any] = {
    "n_train": 100,
    "n_train_sessions": 10,
    "n_learners": 20,
    "n_sessions": 10,
    "n_nights": 2,
}

POLICIES = {
    "habits": "(a) own habits",
    "published": "(b) published ranking",
    "model_greedy": "(c) model learner, greedy",
    "product": "(d) product: Thompson, price cap",
    "combination": "(e) combination of learners",
    "memory_greedy": "memory learner, greedy",
}
NO_COMBINATION = "left out for its cost: `python -m bench.closed_loop --combination` adds it"


@dataclass(frozen=True)
class Term:
    """What the new learners meet, the same under every policy."""

    learners: np.ndarray  # (n,) ids in the population
    situations: np.ndarray  # (n, T, d) context of each session
    truth: np.ndarray  # (n, T, S) true expected score of every strategy in it
    realised: np.ndarray  # (n, T, S) the score each strategy would draw in it
    habit_draw: np.ndarray  # (n, T) uniform draw behind a habitual pick

    @property
    def shape(self) -> tuple[int, int]:
        n, t = self.habit_draw.shape
        return int(n), int(t)


class Install(NamedTuple):
    """The install's recent sessions, as the product tops up a learner's situations from them."""

    recent: np.ndarray  # (m, 3) difficulty, confidence, minutes of the latest sessions
    deviations: np.ndarray  # (k, 3) those of learners with two or more, minus their own medians
    low: np.ndarray  # (3,) range of the values seen
    high: np.ndarray


class Choice(NamedTuple):
    strategy: int
    explored: bool
    price: float  # expected score given up against the top of the ranking (fraction)


class Played(NamedTuple):
    """A policy's term: what each learner studied in each session."""

    strategy: np.ndarray  # (n, T)
    explored: np.ndarray  # (n, T) bool
    price: np.ndarray  # (n, T)


Chooser = Callable[[MetaLearner, SessionLog, np.ndarray, np.random.Generator], Choice]


# The term -----------------------------------------------------------------------------------------
def draw_term(population: Population, ids: np.ndarray, n_sessions: int, rng: np.random.Generator) -> Term:
    """Situations, true means, drawn scores of every strategy and habit draws for a term."""
    situation_rng, outcome_rng, habit_rng = rng.spawn(3)
    n = ids.shape[0]
    rows = np.repeat(ids, n_sessions)
    situations = population.draw_situations(rows, situation_rng)
    truth = population.true_mean(rows, situations)
    realised = population.draw_outcomes(truth, outcome_rng)
    return Term(
        learners=ids,
        situations=situations.reshape(n, n_sessions, -1),
        truth=truth.reshape(n, n_sessions, N_STRATEGIES),
        realised=realised.reshape(n, n_sessions, N_STRATEGIES),
        habit_draw=habit_rng.random((n, n_sessions)),
    )


def score_and_regret(term: Term, strategy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drawn score and regret (n, T), as fractions, of studying `strategy` (n, T) in each session."""
    pick = strategy[..., None]
    score = np.take_along_axis(term.realised, pick, axis=2)[..., 0]
    regret = term.truth.max(axis=2) - np.take_along_axis(term.truth, pick, axis=2)[..., 0]
    return score, regret


def install_from(train: SessionLog) -> Install:
    """The install's recent sessions and their deviations, as `learners.dataset` reads them (the
    latest `RECENT_INSTALL`), from the training log's last rows."""
    values = train.context[:, UNKNOWN_BEFORE]
    recent, learner = values[-RECENT_INSTALL:], train.learner[-RECENT_INSTALL:]
    deviations = [
        recent[learner == who] - np.median(recent[learner == who], axis=0)
        for who in dict.fromkeys(learner.tolist())
        if np.count_nonzero(learner == who) >= 2
    ]
    return Install(
        recent=recent,
        deviations=np.concatenate(deviations) if deviations else np.zeros((0, len(UNKNOWN_BEFORE))),
        low=values.min(axis=0),
        high=values.max(axis=0),
    )


def decision_rows(past: np.ndarray, coming: np.ndarray, install: Install) -> np.ndarray:
    """The situations (m, d) the next session may be, as the product forms them: its task kind and
    the profile from `coming`, difficulty, confidence and minutes from the learner's last
    `RECENT_OWN` sessions `past` (t, d), topped up from the install's deviations around the
    learner's medians; from the install's recent sessions for a learner with none."""
    values = past[-RECENT_OWN:, UNKNOWN_BEFORE]
    if values.shape[0] == 0:
        values = install.recent
    elif values.shape[0] < RECENT_OWN:
        centre = np.median(values, axis=0)
        spread = install.deviations[: RECENT_OWN - values.shape[0]]
        values = np.vstack([values, np.clip(centre + spread, install.low, install.high)])
    rows = np.repeat(coming[None, :], values.shape[0], axis=0)
    rows[:, UNKNOWN_BEFORE] = values
    return rows


# Policies -----------------------------------------------------------------------------------------
def habit_choices(habits: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Strategies (n, T) picked by habit: learner i's habit probabilities `habits[i]` (S,) inverted
    at the uniform draws `draw[i]` (T,), the rule `Population.sessions` picks by."""
    cdf = np.cumsum(habits, axis=1)[:, None, :]
    return (draw[..., None] > cdf).sum(axis=2).clip(0, habits.shape[1] - 1)


def published_choice(utility: Sequence[str] = UTILITY) -> int:
    """The strategy the published ratings rank first: the best rating, catalogue order among equals."""
    return min(range(len(utility)), key=lambda i: (RATING_ORDER.index(utility[i]), i))


def greedy(learner: MetaLearner, history: SessionLog, rows: np.ndarray, rng: np.random.Generator) -> Choice:
    """The highest expected score, mixed over the rows as the product ranks."""
    mean, _, _ = predict_mixed(learner, history, rows)
    return Choice(int(np.argmax(mean[0])), False, 0.0)


def product(learner: MetaLearner, history: SessionLog, rows: np.ndarray, rng: np.random.Generator) -> Choice:
    """`recommend` with the mean, std and noise `coach.advice.advice_from_engine` gives it: the
    draws leave out a session's noise and what the learner will say before it."""
    mean, std, between = predict_mixed(learner, history, rows)
    noise = draw_noise(learner, mean[0], between[0])  # the model learner: it has session_noise
    advice = recommend(mean[0], std[0], noise=noise, seed=rng)
    price = advice.ranked[0].mean - advice.chosen.mean
    return Choice(advice.chosen.strategy, advice.exploration, float(price))


# The loop -----------------------------------------------------------------------------------------
def night_bounds(n_sessions: int, n_nights: int) -> list[tuple[int, int]]:
    """Sessions [start, end) studied between one refit and the next: `n_nights` near-equal blocks."""
    edges = np.linspace(0, n_sessions, n_nights + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def logged(term: Term, played: np.ndarray, n_done: int) -> SessionLog:
    """The first `n_done` sessions of every new learner under a policy, grouped by learner."""
    n, _ = term.shape
    strategy = played[:, :n_done]
    score, _ = score_and_regret(_head(term, n_done), strategy)
    return SessionLog(
        learner=np.repeat(term.learners, n_done),
        strategy=strategy.ravel(),
        context=term.situations[:, :n_done].reshape(n * n_done, -1),
        outcome=score.ravel(),
    )


def _head(term: Term, n_done: int) -> Term:
    return Term(
        learners=term.learners,
        situations=term.situations[:, :n_done],
        truth=term.truth[:, :n_done],
        realised=term.realised[:, :n_done],
        habit_draw=term.habit_draw[:, :n_done],
    )


def _concat(a: SessionLog, b: SessionLog) -> SessionLog:
    return SessionLog(
        learner=np.concatenate([a.learner, b.learner]),
        strategy=np.concatenate([a.strategy, b.strategy]),
        context=np.vstack([a.context, b.context]),
        outcome=np.concatenate([a.outcome, b.outcome]),
    )


def follow_engine(
    term: Term,
    *,
    train: SessionLog,
    install: Install,
    factory: Factory,
    choose: Chooser,
    n_nights: int,
    rng: np.random.Generator,
    fitted: MetaLearner | None = None,
) -> tuple[Played, dict[str, float]]:
    """Every new learner follows `choose` on the engine `factory` builds; it is fitted on the
    training log (or `fitted` is that fit) and refitted before each later night on the training
    log plus the term so far. Returns what was played and the seconds spent fitting and advising."""
    n, n_sessions = term.shape
    strategy = np.zeros((n, n_sessions), dtype=np.int64)
    explored = np.zeros((n, n_sessions), dtype=bool)
    price = np.zeros((n, n_sessions))
    streams = rng.spawn(n)
    seconds = {"fit": 0.0, "advise": 0.0}
    for night, (start, end) in enumerate(night_bounds(n_sessions, n_nights)):
        tic = time.perf_counter()
        if fitted is None or night > 0:
            fitted = factory().fit(train if night == 0 else _concat(train, logged(term, strategy, start)))
        seconds["fit"] += time.perf_counter() - tic
        tic = time.perf_counter()
        for t in range(start, end):
            for i in range(n):
                history = SessionLog(
                    learner=np.full(t, term.learners[i]),
                    strategy=strategy[i, :t],
                    context=term.situations[i, :t],
                    outcome=term.realised[i, np.arange(t), strategy[i, :t]],
                )
                rows = decision_rows(term.situations[i, :t], term.situations[i, t], install)
                strategy[i, t], explored[i, t], price[i, t] = choose(fitted, history, rows, streams[i])
        seconds["advise"] += time.perf_counter() - tic
    return Played(strategy, explored, price), seconds


# Summaries ----------------------------------------------------------------------------------------
def mean_ci95(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over learners (axis 0) and its 95% interval (normal, from their spread)."""
    mean = values.mean(axis=0)
    half = Z95 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0]) if values.shape[0] > 1 else 0.0 * mean
    return mean, mean - half, mean + half


def _interval(values: np.ndarray) -> tuple[Any, list[Any]]:
    mean, low, high = mean_ci95(values)
    if np.ndim(mean) == 0:
        return float(mean), [float(low), float(high)]
    return mean.tolist(), np.stack([low, high], axis=-1).tolist()


def summary(term: Term, played: Played) -> dict[str, Any]:
    """Per policy, in points: mean score over the term and cumulative regret after each session,
    with 95% intervals over learners; per-session regret, exploration share and price."""
    score, regret = score_and_regret(term, played.strategy)
    mean_score, mean_score_ci = _interval(100.0 * score.mean(axis=1))
    cumulative, cumulative_ci = _interval(100.0 * regret.cumsum(axis=1))
    per_session, per_session_ci = _interval(100.0 * regret)
    explored = played.explored
    price = np.where(explored, 100.0 * played.price, np.nan)
    return {
        "available": True,
        "mean_score": mean_score,
        "mean_score_ci95": mean_score_ci,
        "cumulative_regret": cumulative,
        "cumulative_regret_ci95": cumulative_ci,
        "regret": per_session,
        "regret_ci95": per_session_ci,
        "explore_share": explored.mean(axis=0).tolist(),
        "explore_price": float(np.nanmean(price)) if explored.any() else 0.0,
        "strategy_share": (
            np.bincount(played.strategy.ravel(), minlength=N_STRATEGIES) / played.strategy.size
        ).tolist(),
    }


def paired(term: Term, a: Played, b: Played) -> dict[str, Any]:
    """Differences a - b per learner, in points, with 95% intervals: mean score over the term,
    cumulative regret after every session, and mean per-session regret over the first and the
    last third of the term (at most 10 sessions each)."""
    score_a, regret_a = score_and_regret(term, a.strategy)
    score_b, regret_b = score_and_regret(term, b.strategy)
    diff = 100.0 * (regret_a - regret_b)
    score, score_ci = _interval(100.0 * (score_a - score_b).mean(axis=1))
    cumulative, cumulative_ci = _interval(diff.cumsum(axis=1))
    span = max(1, min(10, diff.shape[1] // 3))
    first, first_ci = _interval(diff[:, :span].mean(axis=1))
    last, last_ci = _interval(diff[:, -span:].mean(axis=1))
    return {
        "mean_score": score,
        "mean_score_ci95": score_ci,
        "cumulative_regret": cumulative,
        "cumulative_regret_ci95": cumulative_ci,
        "sessions": span,
        "early_regret": first,
        "early_regret_ci95": first_ci,
        "late_regret": last,
        "late_regret_ci95": last_ci,
    }


# The run ------------------------------------------------------------------------------------------
def run(
    factories: dict[str, Factory],
    *,
    n_train: int = 2000,
    n_train_sessions: int = 30,
    n_learners: int = 500,
    n_sessions: int = 30,
    n_nights: int = 5,
    seed: int = 0,
    memory: bool = False,
    combination: Factory | None = None,
) -> dict[str, Any]:
    """Every policy over the same term; `factories` holds "model" and "memory" as the bench builds
    them. `memory`: add the memory learner's greedy row, which costs about as much again as (c)
    and (d) together (its five fits). `combination`: a factory of a learner that combines the
    others, when the engine has one."""
    tic, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    population = make_population(n_train + n_learners, rng, "families")
    train = population.sessions(np.arange(n_train), n_train_sessions, rng)
    term_rng, thompson_rng = rng.spawn(2)
    term = draw_term(population, np.arange(n_train, n_train + n_learners), n_sessions, term_rng)
    played = _without_engine(term, population)
    engines: list[tuple[str, Factory, Chooser]] = [
        ("model_greedy", factories["model"], greedy),
        ("product", factories["model"], product),
    ]
    if combination is not None:
        engines.append(("combination", combination, greedy))
    if memory:
        engines.append(("memory_greedy", factories["memory"], greedy))
    start = time.perf_counter()
    first_model = factories["model"]().fit(train)  # the same first fit serves (c) and (d)
    shared_fit = time.perf_counter() - start
    seconds: dict[str, dict[str, float]] = {}
    loop = partial(follow_engine, term, train=train, install=install_from(train), n_nights=n_nights)
    for name, factory, choose in engines:
        fitted = first_model if factory is factories["model"] else None
        # Each policy spawns streams of its own from it; only (d) draws from them.
        played[name], seconds[name] = loop(factory=factory, choose=choose, rng=thompson_rng, fitted=fitted)
    return {
        "setup": {
            "n_train": n_train,
            "n_train_sessions": n_train_sessions,
            "n_learners": n_learners,
            "n_sessions": n_sessions,
            "n_nights": n_nights,
            "nights": night_bounds(n_sessions, n_nights),
            "seed": seed,
            "population": "families",
            "strategies": list(STRATEGIES),
            "published_strategy": published_choice(),
        },
        "sessions": list(range(1, n_sessions + 1)),
        **_figures(term, played, seconds),
        # The processor time beside the wall time: on a shared machine the two part ways.
        "seconds": {
            "first_model_fit": shared_fit,
            "total": time.perf_counter() - tic,
            "cpu": time.process_time() - cpu,
        },
    }


def _without_engine(term: Term, population: Population) -> dict[str, Played]:
    """(a) and (b): they explore nothing and pay no price."""
    idle = np.zeros(term.shape, dtype=bool), np.zeros(term.shape)
    return {
        "habits": Played(habit_choices(population.habits[term.learners], term.habit_draw), *idle),
        "published": Played(np.full(term.shape, published_choice(), dtype=np.int64), *idle),
    }


def _figures(term: Term, played: dict[str, Played], seconds: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Every policy's summary ("not available" for the combination unless it was asked for) and the
    paired differences of (d) from (a), (b) and (c)."""
    policies: dict[str, Any] = {}
    for name, label in POLICIES.items():
        if name in played:
            policies[name] = {"label": label, **summary(term, played[name]), "seconds": seconds.get(name, {})}
        elif name == "combination":
            policies[name] = {"label": label, "available": False, "why": NO_COMBINATION}
    comparisons = {
        f"product - {other}": paired(term, played["product"], played[other])
        for other in ("habits", "published", "model_greedy")
    }
    return {"policies": policies, "comparisons": comparisons}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Metacoach closed-loop bench: following each policy for a term"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a pipeline check, numbers not meaningful"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the results here (JSON)")
    parser.add_argument("--memory", action="store_true", help="add the memory learner's greedy row (slow)")
    parser.add_argument(
        "--combination", action="store_true", help="add the combination's greedy row (slower)"
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from bench import closed_loop_report
    from bench.learner_report import COMBINED
    from bench.run import _simulated_factories

    with threadpool_limits(limits=1):  # the budget is single-threaded, as in the bench's pool
        sizes = QUICK if args.quick else FULL
        factories = _simulated_factories(args.seed)
        combination = factories[COMBINED] if args.combination else None
        results = run(factories, seed=args.seed, memory=args.memory, combination=combination, **sizes)
    if args.quick:
        print("QUICK RUN: tiny sizes to check the pipeline; the numbers below are not meaningful.")
    print("\n".join(closed_loop_report.text(results)))
    if not args.quick:
        timed = closed_loop_report.time_check(results)
        print(f"  {timed.mark}: {timed.name}: {timed.measured} (target {timed.target})")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
