"""Off-policy evaluation on simulated learners: do the estimators find the value they claim to?

    python -m bench.policy_eval [--quick] [--seed N] [--out var/bench/policy_eval.json]

The product logs, for each session, the strategy studied and the probability with which that
happened (its propensity); `coach.engine.policy_eval` estimates from such a log what another
coaching policy would have scored. Here the truth is known, so the estimates can be checked.

Behaviour (what is logged). Learners of the simulated population (`coach.engine.simulate`,
"families" design) study `n_sessions` sessions each. Before every session the product suggests
a strategy as `coach/advice.py` does: the model learner, meta-trained once on `n_train` other
learners with habitual sessions, predicts every strategy's score from the learner's sessions so
far in the session's situation; the Thompson rule with its price cap gives the probability of
suggesting each strategy (`choice_probabilities`, its 4,000 draws, the draws' spread leaving out
the session noise as advice.py does), and the suggestion is drawn from those probabilities, so
the logged propensity is exact by construction. The learner follows it with probability
`FOLLOW`, and otherwise picks by habit (the simulated learner's own habit probabilities, as
`Population.sessions` draws them). The propensity logged is the exact mixture
FOLLOW * suggestion + (1 - FOLLOW) * habit of the strategy studied; its score is drawn as the
simulator draws scores. The suggestion is made for the session's own situation (advice.py
averages over the situations the next session may be: one known situation is the simplest case).

Targets (what is evaluated), in each logged situation and with the learner's logged history:
  - "greedy": the model learner's top strategy;
  - "thompson": the product's rule itself, always followed (the suggestion probabilities);
  - "ranking": the published ranking, the strategy with the highest evidence rating and main
    effect (practice testing) every time.
A target's true value is the mean over sessions of sum_a pi(a) * Population.true_mean[a]: the
expected score had the target chosen, on the learners and histories the behaviour produces.
Its population value, which the intervals are about (they resample learners), is estimated by
the mean of that over the other replications (leave-one-out, so the truth a replication is
scored against owes nothing to its own learners); it is printed with its standard error.

Estimators: IPS, SNIPS, DR and switch-DR (`TAU` = 10, set before any run: rows where the
behaviour gave the target's choice less than a tenth of the target's probability keep the
model alone), with the model's predicted scores as the reward model; the direct method (the
model alone) is shown for reference, its interval ignoring the model's error. No clipping. The
95% interval is the bootstrap over learners (`PolicyLog.group`).

Over `n_replications` fresh logs (new learners, situations, choices and scores each; the fitted
model is the same, as it would be between two logging periods), per estimator and target:
coverage of the 95% interval (target 0.90-0.98; with its binomial 95% interval, as 100
replications pin a coverage only to about +-0.045), bias, RMSE and mean interval width against
the population value, and the mean effective sample size. And whether DR's RMSE is no larger
than SNIPS's for every target.

Returns (and writes with --out):
    {"setup": {...}, "seconds": ..., "truth": {target: {"value", "se"}},
     "targets": {target: {"ess": ..., "estimators": {method: {"coverage", "coverage_ci95",
                  "bias", "rmse", "width"}}}},
     "dr_vs_snips": {target: {"dr_rmse", "snips_rmse"}}}
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.engine import ModelMetaLearner
from coach.engine.log import SessionLog
from coach.engine.policy import choice_probabilities
from coach.engine.policy_eval import PolicyLog, off_policy_value
from coach.engine.simulate import FEATURES, MAIN_EFFECT, N_STRATEGIES, UTILITY, Population, make_population

FOLLOW = 0.5  # probability that a learner studies with the suggested strategy
TAU = 10.0  # switch-DR: weights above it keep the model alone
TARGETS = ("greedy", "thompson", "ranking")
ESTIMATORS = ("ips", "snips", "dr", "switch-dr", "dm")
REFERENCE = ("dm",)  # shown, not checked: its interval ignores the model's error
_RATING = {"high": 2, "moderate": 1, "low": 0}

# Sized for the budget of 90 s of processor time: a log of 240 sessions costs about 0.75 s (a
# model prediction and 4,000 Thompson draws per session), the fit about 2 s.
FULL: dict[str, Any] = {
    "n_train": 1000,
    "n_train_sessions": 30,
    "n_replications": 100,
    "n_learners": 30,
    "n_sessions": 8,
    "n_bootstrap": 1000,
}
QUICK: dict[str, Any] = {
    "n_train": 100,
    "n_train_sessions": 10,
    "n_replications": 6,
    "n_learners": 8,
    "n_sessions": 3,
    "n_bootstrap": 200,
}


def sizes(quick: bool) -> dict[str, Any]:
    return dict(QUICK if quick else FULL)


def published_first() -> int:
    """The strategy the published ranking puts first: best rating, then main effect."""
    return max(range(N_STRATEGIES), key=lambda s: (_RATING[UTILITY[s]], MAIN_EFFECT[s], -s))


@dataclass(frozen=True)
class Logged:
    """One replication's log, with what each target would do and its true value."""

    log: PolicyLog
    context: np.ndarray  # (n, d) each session's situation
    reward_hat: np.ndarray  # (n, S) the model's predicted scores
    target: dict[str, np.ndarray]  # name: (n, S) probabilities
    truth: dict[str, float]  # name: mean true expected score under the target


def log_sessions(
    model: ModelMetaLearner,
    population: Population,
    ids: np.ndarray,
    n_sessions: int,
    rng: np.random.Generator,
) -> Logged:
    """`n_sessions` sessions of each learner in `ids` under the behaviour policy (module docstring)."""
    situation_rng, choice_rng, outcome_rng = rng.spawn(3)
    learner = np.repeat(ids, n_sessions)
    context = population.draw_situations(learner, situation_rng)
    truth = population.true_mean(learner, context)
    n = learner.shape[0]
    action = np.zeros(n, dtype=np.int64)
    outcome = np.zeros(n)
    propensity = np.zeros(n)
    predicted = np.zeros((n, N_STRATEGIES))
    suggested = np.zeros((n, N_STRATEGIES))
    for i in range(n):
        first = i - i % n_sessions  # the learner's first row: their history is first..i-1
        history = SessionLog(
            learner=learner[first:i],
            strategy=action[first:i],
            context=context[first:i],
            outcome=outcome[first:i],
        )
        mean, std = model.predict(history, context[i : i + 1])
        noise = model.session_noise(mean[0])
        suggestion = choice_probabilities(mean[0], std[0], noise=noise, seed=choice_rng).probability
        habit = population.habits[learner[i]]
        follows = choice_rng.random() < FOLLOW
        action[i] = _draw(suggestion if follows else habit, choice_rng)
        propensity[i] = FOLLOW * suggestion[action[i]] + (1.0 - FOLLOW) * habit[action[i]]
        outcome[i] = population.draw_outcomes(truth[i, action[i]], outcome_rng)
        predicted[i], suggested[i] = mean[0], suggestion
    eye = np.eye(N_STRATEGIES)
    target = {
        "greedy": eye[np.argmax(predicted, axis=1)],
        "thompson": suggested,
        "ranking": np.tile(eye[published_first()], (n, 1)),
    }
    return Logged(
        log=PolicyLog(action=action, reward=outcome, propensity=propensity, group=learner),
        context=context,
        reward_hat=predicted,
        target=target,
        truth={name: float(np.mean(np.sum(pi * truth, axis=1))) for name, pi in target.items()},
    )


def _draw(probability: np.ndarray, rng: np.random.Generator) -> int:
    return int(
        min(np.searchsorted(np.cumsum(probability), rng.random() * probability.sum()), N_STRATEGIES - 1)
    )


def estimates(logged: Logged, *, n_bootstrap: int, seed: int) -> dict[str, dict[str, list[float]]]:
    """[value, low, high, ess] of every target by every estimator on one log; NaN where the
    estimator is undefined (SNIPS when the log holds no session the target would have chosen)."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, pi in logged.target.items():
        out[name] = {}
        for method in ESTIMATORS:
            model = {"reward_hat": logged.reward_hat} if method in ("dr", "switch-dr", "dm") else {}
            tau = {"tau": TAU} if method == "switch-dr" else {}
            try:
                e = off_policy_value(
                    logged.log,
                    target=pi,
                    method=method,
                    n_bootstrap=n_bootstrap,
                    random_state=seed,
                    **model,
                    **tau,
                )
            except ValueError:
                out[name][method] = [math.nan] * 4
                continue
            out[name][method] = [e.value, e.low, e.high, e.ess]
    return out


def run(
    *,
    n_train: int,
    n_train_sessions: int,
    n_replications: int,
    n_learners: int,
    n_sessions: int,
    n_bootstrap: int,
    seed: int = 0,
) -> dict[str, Any]:
    """The validation described in the module docstring; figures as measured."""
    if n_replications < 2:
        raise ValueError("leave-one-out truths need at least two replications")
    tic, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    population_rng, train_rng, *replication_rngs = rng.spawn(2 + n_replications)
    population = make_population(n_train + n_replications * n_learners, population_rng)
    train = population.sessions(np.arange(n_train), n_train_sessions, train_rng)
    # As the product builds it: the model also reads the learner's usual confidence rating.
    model = ModelMetaLearner(N_STRATEGIES, history_columns=(FEATURES.index("confidence before"),)).fit(train)
    values = np.zeros((n_replications, len(TARGETS), len(ESTIMATORS), 4))
    truths = np.zeros((n_replications, len(TARGETS)))
    for r, replication_rng in enumerate(replication_rngs):
        ids = n_train + r * n_learners + np.arange(n_learners)
        logged = log_sessions(model, population, ids, n_sessions, replication_rng)
        found = estimates(logged, n_bootstrap=n_bootstrap, seed=seed + r)
        for t, name in enumerate(TARGETS):
            truths[r, t] = logged.truth[name]
            for m, method in enumerate(ESTIMATORS):
                values[r, t, m] = found[name][method]
    result = summarise(values, truths)
    result["setup"] = {
        "n_train": n_train,
        "n_train_sessions": n_train_sessions,
        "n_replications": n_replications,
        "n_learners": n_learners,
        "n_sessions": n_sessions,
        "n_bootstrap": n_bootstrap,
        "follow": FOLLOW,
        "tau": TAU,
        "seed": seed,
        "population": "families",
        "ranking_first": published_first(),
        "targets": list(TARGETS),
        "estimators": list(ESTIMATORS),
        "reference": list(REFERENCE),
    }
    result["seconds"] = time.perf_counter() - tic
    # The processor time, and how busy the machine was, say how much of the wall time was waiting.
    result["cpu_seconds"] = time.process_time() - cpu
    result["load_average"] = os.getloadavg()[0]
    return result


def summarise(values: np.ndarray, truths: np.ndarray) -> dict[str, Any]:
    """Coverage, bias, RMSE and width against the leave-one-out population value: `values`
    (R, targets, estimators, [value, low, high, ess]), `truths` (R, targets) per replication."""
    n = truths.shape[0]
    loo = (truths.sum(axis=0) - truths) / (n - 1)  # (R, targets)
    out: dict[str, Any] = {"truth": {}, "targets": {}, "dr_vs_snips": {}}
    for t, name in enumerate(TARGETS):
        out["truth"][name] = {
            "value": float(truths[:, t].mean()),
            "se": float(truths[:, t].std(ddof=1) / math.sqrt(n)),
        }
        rows = {}
        for m, method in enumerate(ESTIMATORS):
            value, low, high = values[:, t, m, 0], values[:, t, m, 1], values[:, t, m, 2]
            defined = ~np.isnan(value)
            error = (value - loo[:, t])[defined]
            # A log on which the estimator is undefined counts as one whose interval missed.
            covered = int(np.sum((low <= loo[:, t]) & (loo[:, t] <= high)))
            rows[method] = {
                "coverage": covered / n,
                "coverage_ci95": list(wilson(covered, n)),
                "bias": float(error.mean()) if error.size else math.nan,
                "rmse": float(np.sqrt(np.mean(error**2))) if error.size else math.nan,
                "width": float(np.mean((high - low)[defined])) if error.size else math.nan,
                "undefined": int(n - defined.sum()),
            }
        ess = values[:, t, ESTIMATORS.index("ips"), 3]
        out["targets"][name] = {"ess": float(ess.mean()), "estimators": rows}
        out["dr_vs_snips"][name] = {"dr_rmse": rows["dr"]["rmse"], "snips_rmse": rows["snips"]["rmse"]}
    return out


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Off-policy evaluation on simulated learners")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a pipeline check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from bench import policy_eval_report

    with threadpool_limits(limits=1):  # single-threaded, as in the bench's worker processes
        result = run(seed=args.seed, **sizes(args.quick))
    print(policy_eval_report.standalone(result, quick=args.quick))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
