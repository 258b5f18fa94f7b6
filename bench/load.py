"""Load: the production stack on loopback under simulated learners, with the issue's targets.

    python -m bench.load [--out var/bench] [--seconds 300] [--users 50]
                         [--postgres postgres://postgres@127.0.0.1:5432/postgres]
                         [--redis redis://127.0.0.1:6379/13]

What runs (bench/load_stack.py), all on 127.0.0.1, stopped at the end whatever happens:

- PostgreSQL: a scratch database of a unique name on the server at `--postgres`, dropped at the
  end (also on failure). Redis: the database number in `--redis` (13 by default) is the bench's
  own, as broker and cache: **it is emptied with FLUSHDB before and after the run**, so point it
  at no number anything else uses.
- `migrate`, `collectstatic`, `manage.py demo` under `coach.settings.local` on that database
  (the demo refuses production settings); then the demo cohort is grown by the demo's own
  generator (`learners.demo.demo_create`) to one learner per simulated user, and those learners
  are given a password the bench knows: the demo leaves them without one.
- gunicorn, two sync workers, under `coach.settings.production` (HTTPS redirect and HSTS off:
  plain HTTP on loopback). Sync rather than gthread: a request here is CPU work in Python
  (templates, the ORM), and threads of one process share the GIL, so on two cores they add no
  throughput and only overlap the short waits on loopback PostgreSQL and Redis; sync workers are
  gunicorn's default, hold one database connection each, and every request waits in one queue
  (the listen backlog), so the bare view's time is that queue and the dashboard's ratio to it is
  what the dashboard itself costs.
- Celery workers as the production docs start them: `--queues celery,low` (refreshes, then the
  dashboards built ahead; two prefork processes) and `--queues engine` (the retrain the demo
  queues, run before the load starts so the recommendations come from its snapshot). No beat:
  no periodic work while measuring.

Before the clock starts each learner's dashboard is opened once and its recommendation awaited.
Then bench/load_locust.py runs `--users` learners for `--seconds` in locust's environment
(bench/setup_locust.sh): the dashboard, the liveness view `/health/live/` (the bare Django view
that is the baseline), the timer, the session form and requests for a recommendation, and after
each save the time until the new recommendation is visible. Prints p50/p95/max and requests/s
per page, the save-to-visible times and the targets (bench/load_report.py); writes
<out>/load.json. Without PostgreSQL, Redis or the locust environment the part says it was
skipped. The machine's other work moves every figure; the output gives its load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bench import load_report, load_stack, report
from bench.pages import LOCUST_PYTHON, locust_run
from bench.pages_server import (
    EDUCATOR,
    ROOT,
    free_port,
    get_json,
    log_tail,
    login_cookies,
    manage,
    wait_until_up,
)

LOAD_SECONDS, LOAD_USERS = 300.0, 50
THINK_SECONDS = (1.0, 3.0)  # between a learner's steps
RAMP_SECONDS = 10.0  # the users start evenly over it: people do not all click in one instant
POLL_SECONDS = 0.05
VISIBLE_TIMEOUT = 30.0
GUNICORN_WORKERS = 2
REFRESH_CONCURRENCY = 2
CATCH_UP_TIMEOUT = 180.0
PASSWORD = "bench-load-password"

# The bench's own accounts: the demo cohort grown to one learner per simulated user (the demo's
# generator, seeded as `manage.py demo` seeds it), with a known password.
_ACCOUNTS = """
import json
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from coach.models import EngineRun, Strategy
from learners.demo import SUBJECTS, demo_create
from learners.models import TaskKind
names = [f"student{{i:02d}}" for i in range(1, {users} + 1)]
demo_create(members=max(12, {users} + 1))
User.objects.filter(username__in=names).update(password=make_password({password!r}))
print("ACCOUNTS " + json.dumps({{
    "usernames": names,
    "strategies": list(Strategy.objects.order_by("position").values_list("pk", flat=True)),
    "subjects": SUBJECTS,
    "task_kinds": list(TaskKind.values),
    "run": EngineRun.objects.order_by("-pk").values_list("pk", flat=True).first(),
}}))
"""


@dataclass(frozen=True)
class Accounts:
    usernames: list[str]
    strategies: list[int]
    subjects: list[str]
    task_kinds: list[str]
    run: int | None  # the engine run `manage.py demo` queued


def _prepare(env: dict[str, str], users: int) -> Accounts:
    """The scratch database migrated and loaded: the demo, then the bench's own learners."""
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "demo")
    script = _ACCOUNTS.format(users=users, password=PASSWORD)
    found = re.search(r"^ACCOUNTS (.*)$", manage(env, "shell", "--no-imports", "-c", script), re.MULTILINE)
    if found is None:
        raise RuntimeError("could not create the bench's learners")
    return Accounts(**json.loads(found.group(1)))


@dataclass(frozen=True)
class Stack:
    base_url: str
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def check(self, when: str) -> None:
        """Raises if a process of the stack has exited."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"{log.stem} exited {when} with {process.returncode}: {log_tail(log)}")

    def until(self, what: str, done: Callable[[], bool]) -> None:
        tic = time.monotonic()
        while not done():
            self.check(f"while waiting for {what}")
            if time.monotonic() - tic > CATCH_UP_TIMEOUT:
                raise RuntimeError(f"{what}: not done after {CATCH_UP_TIMEOUT:g} s")
            time.sleep(0.5)


@contextlib.contextmanager
def _stack(scratch: Path, env: dict[str, str], port: int) -> Iterator[Stack]:
    """gunicorn and the two workers, each in its process group, stopped on exit."""
    logs = [scratch / "gunicorn.log", scratch / "worker-celery.log", scratch / "worker-engine.log"]
    commands = [
        load_stack.gunicorn_command(port, workers=GUNICORN_WORKERS),
        load_stack.worker_command("celery,low", concurrency=REFRESH_CONCURRENCY, hostname="celery@%h"),
        load_stack.worker_command("engine", concurrency=1, hostname="engine@%h"),
    ]
    with contextlib.ExitStack() as groups:
        processes = [
            groups.enter_context(load_stack.process_group(command, env=env, log=log))
            for command, log in zip(commands, logs, strict=True)
        ]
        stack = Stack(f"http://127.0.0.1:{port}", processes, logs)
        wait_until_up(stack.base_url, processes[0], logs[0], "gunicorn")
        yield stack


def _catch_up(stack: Stack, accounts: Accounts, sessions: dict[str, str]) -> str:
    """The demo's retrain run, then each learner's dashboard once (it asks for their first
    recommendation) and the recommendations awaited; how the retrain ended."""
    retrain = "none queued"
    if accounts.run is not None:
        teacher = login_cookies(stack.base_url, EDUCATOR, EDUCATOR)["sessionid"]
        path = f"/educator/engine/runs/{accounts.run}/status/"
        stack.until(
            "the demo's engine run", lambda: not get_json(stack.base_url, path, teacher).get("active")
        )
        retrain = str(get_json(stack.base_url, path, teacher).get("status"))

    def visit(name: str) -> None:
        headers = {"Cookie": f"sessionid={sessions[name]}"}
        urllib.request.urlopen(
            urllib.request.Request(stack.base_url + "/", headers=headers), timeout=60
        ).close()

    with ThreadPoolExecutor(GUNICORN_WORKERS) as pool:
        list(pool.map(visit, accounts.usernames))
    stack.until(
        "the first recommendations",
        lambda: all(
            get_json(stack.base_url, "/recommendation/status/", sessions[name]).get("ready")
            for name in accounts.usernames
        ),
    )
    return retrain


def _plan(
    base_url: str, accounts: Accounts, cookies: dict[str, dict[str, str]], *, users: int, seconds: float
) -> dict[str, Any]:
    return {
        "host": base_url,
        "users": users,
        "seconds": seconds,
        "think": THINK_SECONDS,
        "ramp_seconds": min(RAMP_SECONDS, seconds / 3),
        "poll_seconds": POLL_SECONDS,
        "visible_timeout": VISIBLE_TIMEOUT,
        "seed": 0,
        "accounts": [
            {"username": name, "cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
            for name, jar in cookies.items()
        ],
        "strategies": accounts.strategies,
        "subjects": accounts.subjects,
        "task_kinds": accounts.task_kinds,
    }


def _measure(
    scratch: Path, *, database_url: str, redis_url: str, users: int, seconds: float
) -> dict[str, Any]:
    tic = time.monotonic()
    accounts = _prepare(load_stack.local_env(scratch, database_url=database_url, redis_url=redis_url), users)
    port = free_port()
    env = load_stack.production_env(
        scratch, database_url=database_url, redis_url=redis_url, site_url=f"http://127.0.0.1:{port}"
    )
    with _stack(scratch, env, port) as stack:
        # Two at a time, one per gunicorn worker: a login is mostly the password's hashing.
        with ThreadPoolExecutor(GUNICORN_WORKERS) as pool:
            jars = pool.map(lambda name: login_cookies(stack.base_url, name, PASSWORD), accounts.usernames)
            cookies = dict(zip(accounts.usernames, jars, strict=True))
        retrain = _catch_up(stack, accounts, {name: jar["sessionid"] for name, jar in cookies.items()})
        setup_seconds = time.monotonic() - tic
        before = os.getloadavg()[0]
        plan = _plan(stack.base_url, accounts, cookies, users=users, seconds=seconds)
        load = locust_run("bench.load_locust", plan, seconds=seconds)
        stack.check("during the run")
        stopping = time.monotonic()
    stop_seconds = time.monotonic() - stopping
    stack_text = (
        f"gunicorn {GUNICORN_WORKERS} sync workers, a Celery worker of {REFRESH_CONCURRENCY} processes "
        f"on queue celery and one on queue engine (the demo's retrain: {retrain}, before the clock "
        f"started), {len(accounts.usernames)} learners of the demo's generator; "
        f"setup {setup_seconds:.0f} s, stopping {stop_seconds:.0f} s"
    )
    # Other work on the machine moves every figure: how busy it was, the run's own share included.
    busy = (
        f"{os.cpu_count()} cores; load average over 1 minute {before:.1f} as the clock started, "
        f"over 5 minutes {os.getloadavg()[1]:.1f} as it stopped"
    )
    return {"setup": {"stack": stack_text, "machine": busy}, "load": load}


@contextlib.contextmanager
def _terminated_as_exit() -> Iterator[None]:
    """SIGTERM raises SystemExit while the stack runs, so its clean-up (processes, the scratch
    database, Redis) runs too; the previous handler comes back afterwards."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(
    *,
    out: Path,
    seconds: float = LOAD_SECONDS,
    users: int = LOAD_USERS,
    postgres_url: str = load_stack.POSTGRES_URL,
    redis_url: str = load_stack.REDIS_URL,
) -> dict[str, Any]:
    """The load part; writes <out>/load.json. Skipped (not failed) without the services or locust."""
    tic = time.perf_counter()
    results: dict[str, Any]
    why = load_stack.unavailable(postgres_url=postgres_url, redis_url=redis_url)
    if why is None and not LOCUST_PYTHON.exists():
        why = f"skipped: {LOCUST_PYTHON} not found (run bash bench/setup_locust.sh)"
    if why is not None:
        results = {"skipped": why}
    else:
        print("bench load: the stack on a scratch database, then the simulated learners ...", file=sys.stderr)
        with (
            _terminated_as_exit(),
            load_stack.scratch_database(postgres_url) as database_url,
            load_stack.scratch_redis(redis_url),
            tempfile.TemporaryDirectory(prefix="metacoach-load-") as scratch,
        ):
            results = _measure(
                Path(scratch), database_url=database_url, redis_url=redis_url, users=users, seconds=seconds
            )
    results["seconds"] = time.perf_counter() - tic
    _write(out, results)
    return results


def _write(out: Path, results: dict[str, Any]) -> None:
    checks = load_report.checks(results)
    out.mkdir(parents=True, exist_ok=True)
    payload = report._clean(results) | {"checks": [c.__dict__ | {"mark": c.mark} for c in checks]}
    (out / "load.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Metacoach load bench")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="directory for load.json")
    parser.add_argument("--seconds", type=float, default=LOAD_SECONDS, help="length of the load run")
    parser.add_argument("--users", type=int, default=LOAD_USERS, help="simulated learners at once")
    parser.add_argument("--postgres", default=load_stack.POSTGRES_URL, help="a superuser's URL of the server")
    parser.add_argument("--redis", default=load_stack.REDIS_URL, help="a Redis database the bench may empty")
    args = parser.parse_args(argv)
    try:
        results = run(
            out=args.out,
            seconds=args.seconds,
            users=args.users,
            postgres_url=args.postgres,
            redis_url=args.redis,
        )
    except Exception as exc:
        traceback.print_exc()
        results = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        _write(args.out, results)
    text = (
        load_report.text(results) if "error" not in results else [f"== load: not run ({results['error']}) =="]
    )
    rows = [[f"  {c.mark}", c.name, c.target, c.measured] for c in load_report.checks(results)]
    table = report._grid(["", "", "target", "measured"], rows, numeric=False)
    print("\n".join([*text, "", "== Targets ==", table]))
    print(f"wrote {args.out / 'load.json'}")
    return 1 if "error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
