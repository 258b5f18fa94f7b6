"""The bench: simulated learners, speed and IntroProg real learners, with targets.

    python -m bench.run [--quick] [--out var/bench] [--no-pybkt]

Prints one table, writes <out>/results.json and <out>/report.html (opens offline). `--quick`
runs tiny sizes to check the pipeline in CI; its numbers are not meaningful.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import introprog, report

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = ("model", "memory")
N_SIM_STRATEGIES = 10

FULL: dict[str, dict[str, Any]] = {
    "simulated": {"n_train": 2000, "n_test": 500, "ks": (0, 1, 2, 5, 10, 20), "n_situations": 20},
    "speed": {"n_learners": 10_000, "n_sessions": 30},
    "introprog": {"max_learners": None},
}
QUICK: dict[str, dict[str, Any]] = {
    "simulated": {"n_train": 100, "n_test": 20, "ks": (0, 1, 5), "n_situations": 5, "n_draws": 200},
    "speed": {"n_learners": 300, "n_sessions": 10, "n_repeats": 20},
    "introprog": {"max_learners": 60},
}


def _factories(n_strategies: int | None, **model_params: Any) -> dict[str, Callable[..., Any]]:
    from coach.engine import make_learner

    sized = {} if n_strategies is None else {"n_strategies": n_strategies}  # IntroProg passes its own
    params = {"model": {**sized, **model_params}, "memory": sized}
    return {name: partial(make_learner, name, **params[name]) for name in LEARNERS}


def _simulated_factories() -> dict[str, Callable[..., Any]]:
    """As the product builds them: the model also reads the learner's usual confidence rating."""
    from coach.engine.simulate import FEATURES

    return _factories(N_SIM_STRATEGIES, history_columns=(FEATURES.index("confidence before"),))


def _part(name: str, job: Callable[[], dict[str, Any]], results: dict[str, Any]) -> bool:
    """Run one part; a failure is recorded and reported, and the other parts still run."""
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    tic = time.perf_counter()
    try:
        results[name] = job()
        ok = True
    except Exception as exc:
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        ok = False
    results["seconds"][name] = time.perf_counter() - tic
    return ok


def run(*, quick: bool, pybkt: bool = True, seed: int = 0) -> tuple[dict[str, Any], bool]:
    sizes = QUICK if quick else FULL
    results: dict[str, Any] = {
        "quick": quick,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "sizes": {part: dict(args) for part, args in sizes.items()},
        "seconds": {},
    }
    from bench import simulated

    ok = _part(
        "simulated",
        lambda: simulated.run(_simulated_factories(), seed=seed, **sizes["simulated"]),
        results,
    )
    ok &= _part(
        "speed", lambda: simulated.speed(_simulated_factories(), seed=seed, **sizes["speed"]), results
    )
    ok &= _part(
        "introprog",
        lambda: introprog.run(_factories(None), seed=seed, pybkt=pybkt, **sizes["introprog"]),
        results,
    )
    results["seconds"]["total"] = sum(results["seconds"].values())
    return results, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Metacoach bench")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a pipeline check, numbers not meaningful"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "var" / "bench", help="directory for results and report"
    )
    parser.add_argument("--no-pybkt", action="store_true", help="skip the pyBKT baseline")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results, ok = run(quick=args.quick, pybkt=not args.no_pybkt, seed=args.seed)
    print(report.format_table(results))
    report.write_json(results, args.out / "results.json")
    report.write_html(results, args.out / "report.html")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.html'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
