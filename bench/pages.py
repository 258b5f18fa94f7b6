"""The product pages: page weight, server time under load and Lighthouse scores.

    python -m bench.pages [--out var/bench] [--seconds 20] [--users 10] [--no-worker] [--lighthouse-runs 1]

Against a server started as `make run` starts it (bench/pages_server.py: `collectstatic`, then
`runserver --noreload` under the local settings, on a scratch var/ loaded by `manage.py demo`):

1. Page weight (bench/pages_weight.py): each chart page's first load in a fresh Chromium context
   (empty cache), bytes over the network and requests; and the dashboard's second load.
2. Server time (bench/pages_load.py): the dashboard (as `demo`), the cohort overview and the
   engine page (as `teacher`) beside the anonymous login page, `--users` clients at once for
   `--seconds`, all in one locust run on loopback; p50, p95, requests/s, and each page's p95 as
   a ratio to the login page's, which takes out the machine's speed.
3. Lighthouse (bench/pages_lighthouse.py): mobile emulation, on the dashboard, timer and
   self-report (as `demo`) and the cohort overview and engine page (as `teacher`).

Prints the figures with their targets (bench/pages_report.py) and writes <out>/pages.json and the
Lighthouse reports under <out>/lighthouse/. `make bench` runs this after the engine's parts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import pages_lighthouse, pages_report, pages_weight, report
from bench.pages_server import EDUCATOR, LEARNER, Server, product_server
from bench.pages_weight import PageVisit

ROOT = Path(__file__).resolve().parent.parent
LOCUST_PYTHON = ROOT / ".venv" / "bench-locust" / "bin" / "python"
LOAD_SECONDS, LOAD_USERS = 20.0, 10


def _visits(server: Server) -> dict[str, PageVisit]:
    ids = server.ids
    cohort = f"/educator/cohorts/{ids.cohort}/"
    return {
        "dashboard": PageVisit("dashboard", "/", LEARNER),
        "timer": PageVisit("timer", "/study/", LEARNER),
        "self-report": PageVisit("self-report", "/self-report/", LEARNER),
        "cohort overview": PageVisit("cohort overview", cohort, EDUCATOR),
        "member drill-down": PageVisit("member drill-down", f"{cohort}members/{ids.member}/", EDUCATOR),
        "engine page": PageVisit("engine page", "/educator/engine/", EDUCATOR),
        "login page": PageVisit("login page", "/accounts/login/", None),
    }


def _weight(server: Server, visits: dict[str, PageVisit]) -> dict[str, Any]:
    chromium = pages_weight.chromium_path()
    if chromium is None:
        return {"skipped": "skipped: Debian's chromium is not installed (make browser-tools installs it)"}
    chart_pages = [visits[p] for p in ("dashboard", "cohort overview", "member drill-down", "engine page")]
    return {"pages": pages_weight.measure(server.port, chart_pages, server.sessions, chromium=chromium)}


def _load(server: Server, visits: dict[str, PageVisit], *, users: int, seconds: float) -> dict[str, Any]:
    if not LOCUST_PYTHON.exists():
        return {"skipped": f"skipped: {LOCUST_PYTHON} not found (run bash bench/setup_locust.sh)"}
    pages = [visits[p] for p in (pages_report.BASELINE, *pages_report.UNDER_LOAD)]
    plan = {
        "host": server.base_url,
        "users": users,
        "seconds": seconds,
        "pages": [
            {
                "label": v.label,
                "path": v.path,
                "cookie": f"sessionid={server.sessions[v.persona]}" if v.persona else "",
            }
            for v in pages
        ],
    }
    return locust_run("bench.pages_load", plan, seconds=seconds)


def locust_run(module: str, plan: dict[str, Any], *, seconds: float) -> dict[str, Any]:
    """`python -m <module> --plan PLAN --out SAMPLES` in locust's environment; the samples."""
    with tempfile.TemporaryDirectory(prefix="metacoach-load-") as scratch:
        plan_path, out = Path(scratch) / "plan.json", Path(scratch) / "samples.json"
        plan_path.write_text(json.dumps(plan))
        command = [str(LOCUST_PYTHON), "-m", module, "--plan", str(plan_path), "--out", str(out)]
        subprocess.run(command, cwd=ROOT, check=True, timeout=seconds + 120)
        return dict(json.loads(out.read_text()))


def _lighthouse(server: Server, visits: dict[str, PageVisit], out: Path, *, runs: int) -> dict[str, Any]:
    chromium = pages_weight.chromium_path()
    why = pages_lighthouse.unavailable() or (
        None if chromium else "skipped: Debian's chromium is not installed"
    )
    if why or chromium is None:
        return {"skipped": why}
    scored = [visits[p] for p in ("dashboard", "timer", "self-report", "cohort overview", "engine page")]
    return pages_lighthouse.run(
        server.base_url, scored, server.sessions, chromium=chromium, out=out / "lighthouse", runs=runs
    )


def _step(name: str, job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One part; a failure is recorded and the other parts still run."""
    print(f"bench pages: {name} ...", file=sys.stderr, flush=True)
    try:
        return job()
    except Exception as exc:
        traceback.print_exc()
        return {"skipped": f"failed: {type(exc).__name__}: {exc}".splitlines()[0]}


def run(
    *,
    out: Path,
    seconds: float = LOAD_SECONDS,
    users: int = LOAD_USERS,
    worker: bool = True,
    lighthouse_runs: int = 1,
) -> dict[str, Any]:
    tic = time.perf_counter()
    # Other work on the machine moves every timing here; the output says how busy it was.
    busy = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start"
    print(
        "bench pages: starting the server on a scratch var/ with the demo data ...",
        file=sys.stderr,
        flush=True,
    )
    with product_server(worker=worker) as server:
        visits = _visits(server)
        results: dict[str, Any] = {
            "setup": {"worker": server.worker, "machine": busy, "base_url": server.base_url}
        }
        # Page weight first: it also opens every chart page once, so the timed run starts warm.
        results["weight"] = _step("page weight", lambda: _weight(server, visits))
        results["load"] = _step("server time", lambda: _load(server, visits, users=users, seconds=seconds))
        if lighthouse_runs > 0:
            scores = _step("Lighthouse", lambda: _lighthouse(server, visits, out, runs=lighthouse_runs))
            results["lighthouse"] = scores
        else:
            results["lighthouse"] = {"skipped": "skipped: --lighthouse-runs 0"}
    results["seconds"] = time.perf_counter() - tic
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Metacoach product pages bench")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "var" / "bench", help="directory for pages.json and reports"
    )
    parser.add_argument("--seconds", type=float, default=LOAD_SECONDS, help="length of the load run")
    parser.add_argument("--users", type=int, default=LOAD_USERS, help="concurrent clients in the load run")
    parser.add_argument("--no-worker", action="store_true", help="leave the demo's engine run queued")
    parser.add_argument(
        "--lighthouse-runs",
        type=int,
        default=1,
        help="Lighthouse runs per page, the median kept (0: none); 3 or 5 steady the performance score",
    )
    args = parser.parse_args(argv)
    try:
        results = run(
            out=args.out,
            seconds=args.seconds,
            users=args.users,
            worker=not args.no_worker,
            lighthouse_runs=args.lighthouse_runs,
        )
    except Exception as exc:  # the server did not start: reported as not measured
        traceback.print_exc()
        results = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    checks = pages_report.checks(results)
    rows = [[f"  {c.mark}", c.name, c.target, c.measured] for c in checks]
    text = (
        pages_report.text(results)
        if "error" not in results
        else [f"== pages: not run ({results['error']}) =="]
    )
    table = report._grid(["", "", "target", "measured"], rows, numeric=False)
    print("\n".join([*text, "", "== Targets ==", table]))
    args.out.mkdir(parents=True, exist_ok=True)
    payload = report._clean(results) | {"checks": [c.__dict__ | {"mark": c.mark} for c in checks]}
    (args.out / "pages.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    print(f"wrote {args.out / 'pages.json'}")
    return 1 if "error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
