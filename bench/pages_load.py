"""Server time under load: locust in library mode, headless, every page in the same run.

    .venv/bench-locust/bin/python -m bench.pages_load --plan PLAN.json --out SAMPLES.json

Runs in locust's own environment (bench/setup_locust.sh), not the app's: locust patches the
standard library with gevent at import. PLAN is {"host", "users", "seconds", "pages": [{"label",
"path", "cookie"}]}. Each simulated client requests the pages in turn without pausing, starting
at a different page from its neighbour, so all pages are under the same load at once. Every
response time is written out (milliseconds, by page), so the percentiles are computed exactly
by bench/pages_report.py rather than from locust's rounded histogram.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import locust
from locust import HttpUser, constant, task
from locust.env import Environment
from locust.log import setup_logging


def run(plan: dict[str, Any]) -> dict[str, Any]:
    pages = plan["pages"]
    numbers = itertools.count()

    class Client(HttpUser):
        host = plan["host"]
        wait_time = constant(0)

        def on_start(self) -> None:
            self.turn = next(numbers)

        @task
        def next_page(self) -> None:
            page = pages[self.turn % len(pages)]
            self.turn += 1
            # One persona per request: nothing a response sets is carried to the next page.
            self.client.cookies.clear()
            headers = {"Cookie": page["cookie"]} if page["cookie"] else {}
            self.client.get(page["path"], headers=headers, name=page["label"], allow_redirects=False)

    times: dict[str, list[float]] = {page["label"]: [] for page in pages}
    failures: dict[str, list[str]] = {page["label"]: [] for page in pages}

    def on_request(name: str, response_time: float, exception: Exception | None, **kwargs: Any) -> None:
        response = kwargs.get("response")
        status = getattr(response, "status_code", 0)
        if exception is not None or status != 200:
            failures[name].append(f"{status} {exception or ''}".strip())
        times[name].append(float(response_time))

    setup_logging("WARNING")  # no line per ramp-up step
    env = Environment(user_classes=[Client])
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    tic = time.perf_counter()
    runner.start(plan["users"], spawn_rate=plan["users"])
    gevent.spawn_later(plan["seconds"], runner.quit)
    runner.greenlet.join()
    return {
        "seconds": time.perf_counter() - tic,
        "users": plan["users"],
        "locust": locust.__version__,
        "times_ms": times,
        "failures": {
            name: found[:5] + ([f"... {len(found)} in all"] if len(found) > 5 else [])
            for name, found in failures.items()
        },
        "n_failures": {name: len(found) for name, found in failures.items()},
    }


def plan_main(run: Callable[[dict[str, Any]], dict[str, Any]], description: str) -> None:
    """`--plan PLAN.json --out SAMPLES.json`: run(plan), written out as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_text(json.dumps(run(json.loads(args.plan.read_text()))))


def main() -> None:
    plan_main(run, "Metacoach pages: server time under load")


if __name__ == "__main__":
    main()
