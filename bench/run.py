"""The bench: simulated learners, speed and IntroProg real learners, with targets.

    python -m bench.run [--quick] [--out var/bench] [--no-pybkt] [--no-pages] [--no-load] [--jobs N]

Prints one table, writes <out>/results.json and <out>/report.html (opens offline). Beside the
simulated and IntroProg parts, the product path (bench/product.py): what the recommendation card
shows, through the product's code. Then the product pages (bench/pages.py): page weight, server
time under load and Lighthouse, against a server started as `make run` starts it; its reports go
to <out>/lighthouse/. Last, the load (bench/load.py): gunicorn, PostgreSQL and Redis on loopback
under 50 simulated learners for five minutes; it writes <out>/load.json. `--quick` runs tiny
sizes to check the pipeline in CI, without the pages or the load; its numbers are not meaningful.

Speed runs first and alone, as its timings are targets. Then the simulated populations (a job
each) and IntroProg (a job per learner and one for pyBKT; the combination's, once its bases are
done, in a process of its own) run side by side in `--jobs` single-threaded worker processes
(one per core by default), so their own fit and predict times are taken beside one another, and
beside the product path's process. The off-policy evaluation (bench/policy_eval.py) and the closed loop
(bench/closed_loop.py: new learners follow each policy for a term) are two more jobs of that pool.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import closed_loop, introprog, load, pages, report
from bench.learner_report import LEARNERS

ROOT = Path(__file__).resolve().parent.parent
N_SIM_STRATEGIES = 10

FULL: dict[str, dict[str, Any]] = {
    "simulated": {"n_train": 2000, "n_test": 500, "ks": (0, 1, 2, 5, 10, 20), "n_situations": 20},
    "speed": {"n_learners": 10_000, "n_sessions": 30},
    "introprog": {"max_learners": None},
    "closed_loop": closed_loop.FULL,
}
QUICK: dict[str, dict[str, Any]] = {
    "simulated": {"n_train": 100, "n_test": 20, "ks": (0, 1, 5), "n_situations": 5, "n_draws": 200},
    "speed": {"n_learners": 300, "n_sessions": 10, "n_repeats": 20},
    "introprog": {"max_learners": 60},
    "closed_loop": closed_loop.QUICK,
}


def _factories(n_strategies: int | None, seed: int, **shared: Any) -> dict[str, Callable[..., Any]]:
    from coach.engine import make_learner
    from coach.engine.registry import learner_class

    sized = {} if n_strategies is None else {"n_strategies": n_strategies}  # IntroProg passes its own
    # A learner that draws (the training learners it calibrates on, its meta-training tasks) takes
    # a random_state: seeded, so runs repeat.
    params = {
        name: {**sized, **shared}
        | ({"random_state": seed} if "random_state" in learner_class(name)._parameter_constraints else {})
        for name in LEARNERS
    }
    return {name: partial(make_learner, name, **params[name]) for name in LEARNERS}


def _simulated_factories(seed: int) -> dict[str, Callable[..., Any]]:
    """As the product builds them: every learner also reads the learner's usual confidence rating."""
    from coach.engine.simulate import FEATURES

    return _factories(N_SIM_STRATEGIES, seed, history_columns=(FEATURES.index("confidence before"),))


# One BLAS/OpenMP thread for a process that runs beside the pool's workers (which set theirs).
ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _product_path(*, quick: bool, seed: int) -> dict[str, Any]:
    """bench/product.py in its own process: it sets Django up on a scratch database, which the
    rest of the bench never loads. It runs beside the simulated and IntroProg parts, single-threaded
    as they are: none of its figures is a time."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "product.json"
        command = [sys.executable, "-m", "bench.product", "--seed", str(seed), "--out", str(out)]
        env = {**os.environ, **ONE_THREAD_ENV}
        subprocess.run([*command, *(["--quick"] if quick else [])], cwd=ROOT, check=True, env=env)
        return json.loads(out.read_text())


def _submit_policy_eval(
    pool: ProcessPoolExecutor, *, quick: bool, seed: int
) -> Future[tuple[dict[str, Any], float]]:
    """Off-policy evaluation (bench/policy_eval.py) in a worker, beside the simulated populations."""
    from bench import policy_eval

    return pool.submit(_timed, partial(policy_eval.run, seed=seed, **policy_eval.sizes(quick)))


def _timed(job: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """`job()` and its own wall time, taken where it runs."""
    tic = time.perf_counter()
    return job(), time.perf_counter() - tic


def _queue(submit: Callable[[], Callable[[], dict[str, Any]]]) -> Callable[[], tuple[dict[str, Any], float]]:
    """`submit()` now: it queues jobs on the pool and returns what waits for them. Returns a job
    giving that result and the wall time from now; an error raised now is raised by the job, so
    the part records it as any other."""
    tic = time.perf_counter()
    try:
        collect = submit()
    except Exception as exc:
        error = exc

        def failed() -> tuple[dict[str, Any], float]:
            raise error

        return failed
    return lambda: (collect(), time.perf_counter() - tic)


def _part(name: str, job: Callable[[], tuple[dict[str, Any], float]], results: dict[str, Any]) -> bool:
    """Record one part; a failure is recorded and reported, and the other parts still run."""
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    try:
        results[name], results["seconds"][name] = job()
        return True
    except Exception as exc:
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        return False


def _closed_loop_submit(
    pool: ProcessPoolExecutor, *, seed: int, sizes: dict[str, Any]
) -> Future[tuple[dict[str, Any], float]]:
    """bench/closed_loop.py as one job of the pool, with the simulated part's learners; without the
    combination's row, which would take three times the rest of the part (`python -m
    bench.closed_loop --combination` runs it)."""
    job = partial(closed_loop.run, _simulated_factories(seed), seed=seed, **sizes)
    return pool.submit(_timed, job)


_LIMITS: Any = None


def _one_thread() -> None:
    """Worker start-up: one BLAS/OpenMP thread, so `jobs` workers share the cores without
    oversubscribing them."""
    global _LIMITS
    from threadpoolctl import threadpool_limits

    _LIMITS = threadpool_limits(limits=1)


def run(
    *,
    quick: bool,
    pybkt: bool = True,
    seed: int = 0,
    jobs: int | None = None,
    introprog_data: Path | None = None,
    pages_out: Path | None = None,
    load_out: Path | None = None,
) -> tuple[dict[str, Any], bool]:
    """The bench; the product pages too when `pages_out` names where their reports go, and the
    load when `load_out` names where load.json goes."""
    sizes = QUICK if quick else FULL
    jobs = max(1, jobs or os.cpu_count() or 1)
    results: dict[str, Any] = {
        "quick": quick,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "jobs": jobs,
        "sizes": {part: dict(args) for part, args in sizes.items()},
        "seconds": {},
    }
    from bench import simulated

    tic = time.perf_counter()
    ok = _part(
        "speed",
        partial(_timed, partial(simulated.speed, _simulated_factories(seed), seed=seed, **sizes["speed"])),
        results,
    )
    # The product path waits on a process of its own, so a thread here is enough to run it beside
    # the pool; the three share the cores, which moves no target (the speed part is done). A
    # second thread waits on IntroProg's jobs and queues its combination's.
    beside = ThreadPoolExecutor(2)
    product_job = beside.submit(_timed, partial(_product_path, quick=quick, seed=seed))
    # Spawned, not forked: a fork copies the BLAS thread pool the speed part has started.
    context = multiprocessing.get_context("spawn")
    # IntroProg's combination waits for its bases, by which time the pool's queue holds every
    # population: it runs in a process of its own rather than last and alone.
    aside = ProcessPoolExecutor(1, mp_context=context, initializer=_one_thread)
    with aside, ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread) as pool:
        # IntroProg's jobs first: its learners' fits are the longest jobs of the pool.
        introprog_queued = partial(
            introprog.submit,
            _factories(None, seed),
            seed=seed,
            pybkt=pybkt,
            path=introprog_data,
            executor=pool,
            combination_executor=aside,
            **sizes["introprog"],
        )
        introprog_job = beside.submit(_queue(introprog_queued))
        policy_eval_job = _submit_policy_eval(pool, quick=quick, seed=seed)
        closed_loop_job = _closed_loop_submit(pool, seed=seed, sizes=sizes["closed_loop"])
        simulated_run = partial(
            simulated.run, _simulated_factories(seed), seed=seed, executor=pool, **sizes["simulated"]
        )
        ok &= _part("simulated", partial(_timed, simulated_run), results)
        ok &= _part("introprog", introprog_job.result, results)
        ok &= _part("policy_eval", policy_eval_job.result, results)
        ok &= _part("closed_loop", closed_loop_job.result, results)
    ok &= _part("product", product_job.result, results)
    beside.shutdown()
    results["seconds"]["total"] = time.perf_counter() - tic
    if pages_out is None:
        results["pages"] = {"error": "skipped (--quick or --no-pages; make bench-pages runs them alone)"}
    else:
        # Alone, once the engine's parts are done: its timings need the machine to themselves. It has
        # its own time budget, so `total` stays the engine's.
        ok &= _part("pages", partial(_timed, partial(pages.run, out=pages_out)), results)
    if load_out is None:
        results["load"] = {"error": "skipped (--quick or --no-load; make bench-load runs it alone)"}
    else:
        # Last and alone too; without PostgreSQL, Redis or locust it says it was skipped.
        ok &= _part("load", partial(_timed, partial(load.run, out=load_out)), results)
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
    parser.add_argument("--no-pages", action="store_true", help="skip the product pages (bench/pages.py)")
    parser.add_argument("--no-load", action="store_true", help="skip the load (bench/load.py)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for the simulated and IntroProg parts (one per core)",
    )
    parser.add_argument(
        "--introprog",
        type=Path,
        default=None,
        help="attempts CSV in the IntroProg layout (default: the shared data)",
    )
    args = parser.parse_args(argv)

    results, ok = run(
        quick=args.quick,
        pybkt=not args.no_pybkt,
        seed=args.seed,
        jobs=args.jobs,
        introprog_data=args.introprog,
        pages_out=None if args.quick or args.no_pages else args.out,
        load_out=None if args.quick or args.no_load else args.out,
    )
    print(report.format_table(results))
    report.write_json(results, args.out / "results.json")
    report.write_html(results, args.out / "report.html")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.html'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
