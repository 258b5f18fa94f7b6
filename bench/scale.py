"""Scale: the engine's retrain, the dashboard and recommendation refreshes on a full PostgreSQL.

    python -m bench.scale [--learners 100000] [--sessions 50] [--out var/bench]
                          [--postgres postgres://postgres@127.0.0.1:5432/postgres]
                          [--redis redis://127.0.0.1:6379/12]

What runs, on 127.0.0.1, stopped and dropped at the end whatever happens (bench/load_stack.py):
a scratch PostgreSQL database of a unique name, migrated; Redis database 12 (`--redis`) as broker
and nothing else, **emptied with FLUSHDB before, between the parts and after**; `make run`'s
settings (`coach.settings.local`) on them.

1. Fill: `--learners` simulated learners with `--sessions` scored sessions each, and one learner
   with `--heavy` sessions, written by COPY (bench/scale_fill.py); its time is printed.
2. Retrain: `engine_run_execute`, what the engine worker's task runs, in a process of its own
   (bench/scale_phases.py), so its peak RSS is the retrain's alone: wall time and peak RSS,
   and the dataset build's share. Targets: at most 120 s, at most 2 GB.
3. Dashboard: the heavy learner's dashboard through Django's test client, `--requests` times
   with the page cache emptied before each (the build), then as many kept (warm); p50/p95.
4. Refreshes: a Celery worker on the default queue as production starts it, with 1 and then 2
   prefork processes; a few refreshes first (each process loads the snapshot), then
   `--refreshes` refreshes of distinct learners timed from the first queued to the last
   written; per second (the dashboards each refresh asks to build wait untaken on the low
   queue). Target: 2 processes refresh more per second than 1.

The machine's other work moves every figure (its cores are shared); the output gives them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from bench import load_stack, report, scale_fill
from bench.pages_report import percentile, verdict
from bench.pages_server import PYTHON, ROOT, log_tail, manage

RETRAIN_SECONDS_MAX = 120.0
RETRAIN_RSS_MB_MAX = 2048.0
REDIS_URL = "redis://127.0.0.1:6379/12"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--heavy", type=int, default=2000, help="sessions of the dashboard's learner")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--refreshes", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--postgres", default=load_stack.POSTGRES_URL)
    parser.add_argument("--redis", default=REDIS_URL)
    args = parser.parse_args(argv)
    results = run(args)
    print(text(results))
    write_json(results, args.out / "scale.json")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "learners": args.learners,
        "sessions_each": args.sessions,
        "machine": _machine(),
    }
    why = load_stack.unavailable(postgres_url=args.postgres, redis_url=args.redis)
    if why:
        return results | {"skipped": why}
    with (
        tempfile.TemporaryDirectory(prefix="metacoach-scale-") as tmp,
        load_stack.scratch_database(args.postgres) as database_url,
        load_stack.scratch_redis(args.redis) as redis_url,
    ):
        var = Path(tmp)
        env = load_stack.local_env(var, database_url=database_url, redis_url=redis_url)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        tic = time.perf_counter()
        n_learners, n_sessions, heavy = scale_fill.fill(
            _psycopg_url(database_url),
            learners=args.learners,
            sessions=args.sessions,
            heavy_sessions=args.heavy,
        )
        results["fill"] = {
            "learners": n_learners,
            "sessions": n_sessions,
            "seconds": time.perf_counter() - tic,
        }
        print(
            f"filled {n_learners:,} learners, {n_sessions:,} sessions in {results['fill']['seconds']:.0f} s",
            flush=True,
        )
        results["retrain"] = _phase(env, var, "retrain")
        print(f"retrain: {results['retrain']}", flush=True)
        _flush(redis_url)  # the retrain's catch-up task: no worker is to run it
        results["dashboard"] = _phase(
            env, var, "dashboard", "--learner", str(heavy), "--requests", str(args.requests)
        )
        results["refresh"] = {}
        first = heavy - n_learners + 1  # the fill's first learner id
        for processes in (1, 2):
            warm = 4 * processes
            with load_stack.process_group(
                load_stack.worker_command("celery", concurrency=processes, hostname=f"scale{processes}@%h"),
                env=env,
                log=var / f"worker-{processes}.log",
            ) as worker:
                found = _phase(
                    env,
                    var,
                    "refresh",
                    "--first",
                    str(first),
                    "--count",
                    str(args.refreshes),
                    "--warm",
                    str(warm),
                )
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited: {log_tail(var / f'worker-{processes}.log')}")
            results["refresh"][str(processes)] = found | {"load_average": os.getloadavg()[0]}
            first += warm + args.refreshes
            _flush(redis_url)
    return results


def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _flush(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def _phase(env: dict[str, str], var: Path, *args: str) -> dict[str, Any]:
    log = var / f"phase-{args[0]}.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [str(PYTHON), "-m", "bench.scale_phases", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
        )
    for line in done.stdout.decode().splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line.removeprefix("RESULT ")))
    raise RuntimeError(f"{args[0]} failed ({done.returncode}): {log_tail(log)}")


def _machine() -> str:
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores shared with other work, load average {load} at the start"


def checks(results: dict[str, Any]) -> list[report.Check]:
    if "skipped" in results:
        return [report.Check("scale", results["skipped"], "", None)]
    retrain, fill = results["retrain"], results["fill"]
    ok = retrain["status"] == "succeeded"
    seconds, rss = retrain["seconds"], retrain["peak_rss_mb"]
    sessions = f"{fill['sessions']:,} sessions"
    out = [
        report.Check(
            "scale: retrain wall time (one process)",
            f"{seconds:.0f} s ({sessions}){'' if ok else ', ' + retrain['status']}",
            f"<= {RETRAIN_SECONDS_MAX:.0f} s",
            ok and verdict(seconds, at_most=RETRAIN_SECONDS_MAX),
        ),
        report.Check(
            "scale: retrain peak RSS",
            f"{rss:.0f} MB",
            f"<= {RETRAIN_RSS_MB_MAX:.0f} MB",
            ok and verdict(rss, at_most=RETRAIN_RSS_MB_MAX),
        ),
    ]
    board = results["dashboard"]
    out.append(
        report.Check(
            f"scale: dashboard p95, {board['sessions']:,} sessions, empty cache / changed / kept",
            " / ".join(f"{percentile(board[k], 95):.0f}" for k in ("cold_ms", "changed_ms", "warm_ms"))
            + " ms",
            "reported (no target set)",
            None,
        )
    )
    one, two = (results["refresh"][k]["per_second"] for k in ("1", "2"))
    out.append(
        report.Check(
            "scale: refreshes/s, 2 worker processes against 1",
            f"{two:.1f} against {one:.1f} ({two / one:.2f}x)",
            "grows",
            two > one,
        )
    )
    return out


def text(results: dict[str, Any]) -> str:
    out = [
        f"== Scale: PostgreSQL with {results['learners']:,} learners x {results['sessions_each']} sessions =="
    ]
    out.append(f"machine: {results['machine']}")
    if "skipped" not in results:
        fill, retrain, board = results["fill"], results["retrain"], results["dashboard"]
        cold, changed, warm = board["cold_ms"], board["changed_ms"], board["warm_ms"]
        out += [
            f"fill (COPY from the simulator): {fill['learners']:,} learners, {fill['sessions']:,} sessions "
            f"in {fill['seconds']:.0f} s",
            f"retrain (engine_run_execute in a process of its own): {retrain['status']}"
            f" in {retrain['seconds']:.1f} s, peak RSS {retrain['peak_rss_mb']:.0f} MB;"
            f" the dataset build {retrain['build_seconds'] or 0:.1f} s,"
            f" {retrain['build_peak_rss_mb'] or 0:.0f} MB at its end"
            + (f"; error: {retrain['error']}" if retrain["error"] else ""),
            f"dashboard ({board['sessions']:,} sessions, test client in-process, {len(cold)} requests):"
            f" built from an empty cache {_p50_p95(cold)}; built after the learner's change"
            f" {_p50_p95(changed)}; kept {_p50_p95(warm)}",
        ]
        for processes, found in results["refresh"].items():
            out.append(
                f"refreshes, {processes} worker process(es): {found['count']} in {found['seconds']:.1f} s ="
                f" {found['per_second']:.1f}/s (warm-up {found['warm_seconds']:.1f} s; load average"
                f" {found['load_average']:.1f} at its end)"
            )
    rows = [[f"  {c.mark}", c.name, c.target, c.measured] for c in checks(results)]
    out += ["== Scale targets ==", report._grid(["", "", "target", "measured"], rows, numeric=False)]
    return "\n".join(out)


def _p50_p95(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms"


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = report._clean(results) | {"checks": [c.__dict__ | {"mark": c.mark} for c in checks(results)]}
    path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
