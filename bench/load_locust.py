"""The load bench's simulated learners: locust in library mode, headless, on loopback.

    .venv/bench-locust/bin/python -m bench.load_locust --plan PLAN.json --out SAMPLES.json

Runs in locust's own environment (bench/setup_locust.sh), as bench/pages_load.py does: locust
patches the standard library with gevent at import. PLAN is written by bench/load.py: {"host",
"users", "seconds", "ramp_seconds", "think": [low, high], "poll_seconds", "visible_timeout",
"seed", "accounts": [{"username", "cookie"}], "strategies": [ids], "subjects", "task_kinds"}.

Each user is logged in as a learner of its own (the cookies arrive in the plan and are sent as a
header: they are marked Secure, which a cookie jar does not send over plain HTTP). The users
start evenly over `ramp_seconds`, not all in the same instant, and each loops, pausing a think
time drawn from `think` between steps:

1. the dashboard; the liveness view (no cookie, as a load balancer's probe asks);
2. the timer: its page, start (POST), the running timer, finish (POST) with the finish form's
   one-time key, which saves a session;
3. the session form, and a session saved through it (POST);
4. a recommendation asked for another situation (POST /recommendation/refresh/).

After each save and each request for a recommendation the user polls /recommendation/status/
every `poll_seconds` until the recommendation shown is a new one and up to date (`ready`, an id
other than the one before), and records how long that took from the POST's response: "session
saved → recommendation visible", measured to within one poll. Not visible within
`visible_timeout` is counted apart. A response other than the one the step expects (200 for a
page, a redirect after a POST, which is how a saved form answers) is an error.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
import locust
from locust import HttpUser, constant, task
from locust.env import Environment
from locust.log import setup_logging

from bench.pages_load import plan_main

LIVENESS = "liveness (bare view)"
AFTER_SAVE, AFTER_REFRESH = "session saved", "recommendation asked"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_KEY = re.compile(r'name="submission_key"[^>]*?value="([^"]+)"')
FAILURES_KEPT = 5


def run(plan: dict[str, Any]) -> dict[str, Any]:
    accounts = plan["accounts"]
    numbers = itertools.count()
    rng = random.Random(plan["seed"])
    think_low, think_high = plan["think"]
    times: dict[str, list[float]] = {}
    failures: dict[str, list[str]] = {}
    visible: dict[str, list[float]] = {AFTER_SAVE: [], AFTER_REFRESH: []}
    not_visible = dict.fromkeys(visible, 0)

    class Learner(HttpUser):
        host = plan["host"]
        wait_time = constant(0)

        def on_start(self) -> None:
            self.account = accounts[next(numbers) % len(accounts)]
            self.csrf = ""
            state = self._status()
            self.shown = state.get("id") if state else None

        @task
        def loop(self) -> None:
            self._get("/", "dashboard")
            self._think()
            self._get("/health/live/", LIVENESS, cookie=False)
            self._think()
            self._timer()
            self._think()
            self._session()
            self._think()
            data = {"subject": rng.choice(plan["subjects"]), "task_kind": rng.choice(plan["task_kinds"])}
            if self._post("/recommendation/refresh/", "recommendation refresh", data):
                self._until_visible(AFTER_REFRESH)
            self._think()

        def _timer(self) -> None:
            page = self._get("/study/", "timer page")
            if page is not None and "submission_key" not in page:  # no timer running yet: start one
                self._think()
                start = {
                    "subject": rng.choice(plan["subjects"]),
                    "task_kind": rng.choice(plan["task_kinds"]),
                    "strategy": rng.choice(plan["strategies"]),
                    "confidence": rng.randint(30, 95),
                }
                if not self._post("/study/", "timer start", start):
                    return
                self._think()
                page = self._get("/study/", "timer running")
            key = _KEY.search(page or "")
            if key is None:
                return
            self._think()
            finish = {
                "submission_key": key.group(1),
                "minutes": rng.randint(10, 60),
                "difficulty": rng.randint(1, 5),
                "focus": rng.randint(2, 5),
                "score": rng.randint(20, 100),
                "next_time": "Test myself before rereading.",
            }
            if self._post("/study/finish/", "timer finish", finish):
                self._until_visible(AFTER_SAVE)

        def _session(self) -> None:
            key = _KEY.search(self._get("/sessions/new/", "session form") or "")
            if key is None:
                return
            self._think()
            minutes = rng.randint(10, 90)
            started = datetime.now(UTC) - timedelta(minutes=minutes + rng.randint(5, 600))
            session = {
                "submission_key": key.group(1),
                "subject": rng.choice(plan["subjects"]),
                "task_kind": rng.choice(plan["task_kinds"]),
                "strategy": rng.choice(plan["strategies"]),
                "started_at": f"{started:%Y-%m-%dT%H:%M}",  # the demo learners' zone is UTC
                "minutes": minutes,
                "difficulty": rng.randint(1, 5),
                "confidence": rng.randint(30, 95),
                "score": rng.randint(20, 100),
                "focus": rng.randint(2, 5),
            }
            if self._post("/sessions/new/", "session save", session):
                self._until_visible(AFTER_SAVE)

        def _until_visible(self, metric: str) -> None:
            before, saved = self.shown, time.perf_counter()
            deadline = saved + plan["visible_timeout"]
            while time.perf_counter() < deadline:
                gevent.sleep(plan["poll_seconds"])
                state = self._status()
                if state and state.get("ready") and state.get("id") != before:
                    visible[metric].append((time.perf_counter() - saved) * 1000.0)
                    self.shown = state["id"]
                    return
            not_visible[metric] += 1
            state = self._status()
            self.shown = state.get("id") if state else self.shown

        def _status(self) -> dict[str, Any] | None:
            body = self._get("/recommendation/status/", "recommendation status")
            return dict(json.loads(body)) if body else None

        def _think(self) -> None:
            gevent.sleep(rng.uniform(think_low, think_high))

        def _get(self, path: str, label: str, *, cookie: bool = True) -> str | None:
            return self._send("GET", path, label, expect=200, cookie=cookie)

        def _post(self, path: str, label: str, data: dict[str, Any]) -> bool:
            data = {"csrfmiddlewaretoken": self.csrf, **data}
            return self._send("POST", path, label, expect=302, data=data) is not None

        def _send(
            self, method: str, path: str, label: str, *, expect: int, cookie: bool = True, data: Any = None
        ) -> str | None:
            # Nothing a response sets is kept: the session and CSRF cookies go by hand, every time.
            self.client.cookies.clear()
            headers = {"Cookie": self.account["cookie"]} if cookie else {}
            with self.client.request(
                method,
                path,
                name=label,
                headers=headers,
                data=data,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != expect:
                    response.failure(f"{response.status_code}, expected {expect}")
                    return None
                text = response.text
            if token := _CSRF.search(text):
                self.csrf = token.group(1)
            return text

    def on_request(name: str, response_time: float, exception: Exception | None, **kwargs: Any) -> None:
        times.setdefault(name, []).append(float(response_time))
        found = failures.setdefault(name, [])
        if exception is not None:
            found.append(str(exception).strip())

    setup_logging("WARNING")
    env = Environment(user_classes=[Learner])
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    tic = time.perf_counter()
    runner.start(plan["users"], spawn_rate=plan["users"] / plan["ramp_seconds"])
    gevent.spawn_later(plan["seconds"], runner.quit)
    runner.greenlet.join()
    return {
        "seconds": time.perf_counter() - tic,
        "users": plan["users"],
        "think": plan["think"],
        "ramp_seconds": plan["ramp_seconds"],
        "poll_seconds": plan["poll_seconds"],
        "visible_timeout": plan["visible_timeout"],
        "locust": locust.__version__,
        "times_ms": times,
        "n_failures": {name: len(found) for name, found in failures.items()},
        "failures": {
            name: found[:FAILURES_KEPT] + ([f"... {len(found)} in all"] if len(found) > FAILURES_KEPT else [])
            for name, found in failures.items()
        },
        "visible_ms": visible,
        "not_visible": not_visible,
    }


def main() -> None:
    plan_main(run, "Metacoach load bench: simulated learners")


if __name__ == "__main__":
    main()
