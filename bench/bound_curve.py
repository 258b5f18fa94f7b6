"""How far from the best possible is each learner, as the number of training learners grows?

    python -m bench.bound_curve [--learners model] [--sizes 1000,2000,4000,8000]
                                [--design families] [--seed 0] [--test 500]

One simulated population of max(sizes) training learners and `test` new ones: each learner is
meta-trained on the first n training learners for each n in `sizes`, and its regret on the same
new learners and situations is set beside the Bayes choice that knows the population exactly
(`bench/bayes.py`). It prints the distance to that bound (regret ratio minus the bound's) at
each k with its paired 95% interval; ratios are to the fixed best-on-average strategy of all
max(sizes) training learners, the same for every row. A distance that shrinks as n grows is what
learning the population from n learners costs; one that stays is what the learner cannot
represent.

Not part of make bench: `make bench` trains on 2,000 learners, and this reads its distance to
the bound against more and fewer (about a minute for the three learners on 2 cores).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from bench import simulated
from bench.learner_report import fit_learner
from bench.run import _simulated_factories
from bench.simulated import N_RESAMPLES, _predictions, _ratio_interval, _score, _TestSet
from coach.engine.log import SessionLog
from coach.engine.simulate import VARIANTS, Design, Population

KS = (0, 1, 2, 5, 10, 20)
N_SITUATIONS = 20
N_DRAWS = 4000  # as make bench
DESIGNS: dict[str, str | Design] = {"families": "families", "independent": "independent"} | {
    v.name: v for v in VARIANTS
}


def _draw(design: str, n_train: int, n_test: int, seed: int) -> tuple[Population, SessionLog, _TestSet]:
    """The population, its training learners' sessions and the new learners, as make bench draws them."""
    return simulated._draw(DESIGNS[design], n_train, n_test, 30, max(KS), N_SITUATIONS, seed)


def _bound(design: str, n_train: int, n_test: int, seed: int) -> np.ndarray:
    """The Bayes choice's regret (n_test, n_k)."""
    population, _, test = _draw(design, n_train, n_test, seed)
    with threadpool_limits(1):
        regret, _ = simulated._bound_regret(population, test, n_test, list(KS), n_draws=N_DRAWS, seed=seed)
    return regret


def _learner(name: str, n: int, design: str, n_train: int, n_test: int, seed: int) -> np.ndarray:
    """`name`'s regret (n_test, n_k) after meta-training on the first n training learners."""
    _, train, test = _draw(design, n_train, n_test, seed)
    with threadpool_limits(1):
        learner = fit_learner(name, _simulated_factories(seed)[name](), train.take(train.learner < n), {})
        rows = np.arange(test.truth.shape[0])
        scores = [_score(test, _predictions(learner, test, k, N_SITUATIONS), rows) for k in KS]
    return np.stack([s["regret_by_learner"] for s in scores], axis=1)


def run(names: list[str], sizes: list[int], design: str, seed: int, n_test: int) -> dict[str, Any]:
    n_train = max(sizes)
    _, train, test = _draw(design, n_train, n_test, seed)
    base = simulated._baseline_by_learner(train, test, n_test)
    resamples = np.random.default_rng(seed + 11).integers(0, n_test, (N_RESAMPLES, n_test))
    with ProcessPoolExecutor(max_workers=2) as pool:
        bound_job = pool.submit(_bound, design, n_train, n_test, seed)
        jobs = {
            (name, n): pool.submit(_learner, name, n, design, n_train, n_test, seed)
            for name in names
            for n in sizes
        }
        bound = bound_job.result()
        out: dict[str, Any] = {
            "ks": list(KS),
            "bound": (bound.mean(axis=0) / base.mean()).tolist(),
            "rows": [],
        }
        for (name, n), job in jobs.items():
            gap = job.result() - bound
            distance = (gap.mean(axis=0) / base.mean()).tolist()
            interval = _ratio_interval(gap, base, resamples)
            out["rows"].append({"learner": name, "n_train": n, "distance": distance, "ci95": interval})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="model", help="comma-separated: model, memory, optimization")
    parser.add_argument("--sizes", default="1000,2000,4000,8000", help="training learners, comma-separated")
    parser.add_argument("--design", default="families", choices=sorted(DESIGNS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test", type=int, default=500, help="new learners scored")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    result = run(args.learners.split(","), sizes, args.design, args.seed, args.test)
    print(f"{args.design}, seed {args.seed}, {args.test} new learners")
    bound = " ".join(f"{b:.3f}" for b in result["bound"])
    print(f"best possible regret ratio at k = {', '.join(map(str, KS))}: {bound}")
    print("distance to it, with its paired 95% interval:")
    print(f"{'learner':<13}{'trained on':>11}" + "".join(f"{'k = ' + str(k):>24}" for k in KS))
    for row in result["rows"]:
        pairs = zip(row["distance"], row["ci95"], strict=True)
        cells = "".join(f"{f'{d:+.3f} ({lo:+.3f}, {hi:+.3f})':>24}" for d, (lo, hi) in pairs)
        print(f"{row['learner']:<13}{row['n_train']:>11}{cells}")


if __name__ == "__main__":
    main()
