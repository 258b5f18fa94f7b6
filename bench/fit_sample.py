"""Does the retrain's fit on a sample of learners predict as well as a fit on all of them?

    python -m bench.fit_sample [--learners 100000] [--sessions 50] [--cap 30000] [--held-out 2000]

Simulates an install, holds some learners out, fits both learners on a random sample of `cap` of
the others (as `coach.training` does past FIT_LEARNERS_MAX) and on all of them, and prints each
fit's time and its RMSE (score points) and 90% coverage on the held-out learners' later sessions.
Not part of make bench: at full size it takes several minutes and a few GB.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from coach import training
from coach.engine.evaluate import later_session_scores
from coach.engine.simulate import simulate

UTILITIES = ["high", "high", "moderate", "moderate", "moderate", "low", "low", "low", "low", "low"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--cap", type=int, default=training.FIT_LEARNERS_MAX)
    parser.add_argument("--held-out", type=int, default=2000)
    args = parser.parse_args()
    log, _ = simulate(args.learners, args.sessions, seed=2)
    held = np.random.default_rng(5).choice(np.unique(log.learner), size=args.held_out, replace=False)
    mask = np.isin(log.learner, held)
    rest, held_out = log.take(~mask), log.take(mask)
    for name, part in (("sample", training.learner_sample(rest, args.cap, seed=1)), ("all", rest)):
        tic = time.perf_counter()
        model, memory, _ = training.learners_for(UTILITIES)
        model.fit(part)
        model_s = time.perf_counter() - tic
        memory.fit(part)
        memory_s = time.perf_counter() - tic - model_s
        scores = later_session_scores(
            {"model": model.predict, "memory": memory.predict}, held_out, ks=(0, 1, 2, 5, 10)
        )
        figures = {
            learner: {
                "rmse": [None if v is None else round(100 * v, 3) for v in s["rmse"]],
                "coverage90": [None if v is None else round(v, 3) for v in s["coverage90"]],
            }
            for learner, s in scores["learners"].items()
        }
        fitted = int(np.unique(part.learner).size)
        print(
            name,
            json.dumps(
                {"learners": fitted, "model_s": round(model_s, 1), "memory_s": round(memory_s, 1), **figures}
            ),
        )


if __name__ == "__main__":
    main()
