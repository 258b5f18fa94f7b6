"""The scale bench's measurements inside the product, one process each (bench/scale.py runs them).

    python -m bench.scale_phases retrain
    python -m bench.scale_phases dashboard --learner ID [--requests 50]
    python -m bench.scale_phases refresh --first ID --count N [--warm K]

Each runs under the environment bench/scale.py gives it (the scratch database and Redis) and
prints one line `RESULT <json>`. A process of its own per phase, so the retrain's peak RSS
(`getrusage`'s ru_maxrss) is the retrain's alone, as a fresh `--max-tasks-per-child 1` engine
worker's would be.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import django

POLL_SECONDS = 0.1
REFRESH_TIMEOUT = 900.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def retrain() -> dict[str, Any]:
    """An engine run executed as the engine worker's task does (`engine_run_execute`), in this
    process; the dataset build is timed on its own by wrapping `session_log_build`."""
    from coach.models import EngineRun
    from learners import dataset
    from learners.services.engine_runs import engine_run_execute

    build: dict[str, float] = {}
    original: Callable[..., Any] = dataset.session_log_build

    def timed(**kwargs: Any) -> Any:
        tic = time.perf_counter()
        log = original(**kwargs)
        build.update(seconds=time.perf_counter() - tic, peak_rss_mb=_peak_rss_mb())
        return log

    dataset.session_log_build = timed  # type: ignore[assignment]
    run = EngineRun.objects.create(requested_by=None)
    tic = time.perf_counter()
    done = engine_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - tic
    assert done is not None
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "build_seconds": build.get("seconds"),
        "build_peak_rss_mb": build.get("peak_rss_mb"),
        "status": done.status,
        "error": done.error,
        "n_learners": done.n_learners,
        "n_sessions": done.n_sessions,
    }


def dashboard(*, learner_id: int, requests: int) -> dict[str, Any]:
    """The dashboard of one learner through Django's test client, in this process: built from
    nothing (the whole cache emptied before each request, the other learners' means with it);
    built after a change of the learner's (their version renewed, as saving a session does,
    while the install's means stay kept for their ten minutes); and as kept in the cache."""
    from django.core.cache import cache
    from django.test import Client

    from learners.models import Learner, StudySession
    from learners.services.recommendations import recommendation_refresh
    from learners.versions import learner_changed

    learner = Learner.objects.select_related("user").get(pk=learner_id)
    recommendation_refresh(learner_id=learner.pk)  # the card shows a recommendation, as it would
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(learner.user)

    def timed_get() -> float:
        tic = time.perf_counter()
        response = client.get("/")
        elapsed = (time.perf_counter() - tic) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"the dashboard answered {response.status_code}")
        return elapsed

    cold = []
    for _ in range(requests):
        cache.clear()
        cold.append(timed_get())
    changed = []
    for _ in range(requests):
        learner_changed(learner.pk)
        changed.append(timed_get())
    warm = [timed_get() for _ in range(requests)]
    sessions = StudySession.objects.filter(learner=learner).count()
    return {"sessions": sessions, "cold_ms": cold, "changed_ms": changed, "warm_ms": warm}


def refresh(*, first: int, count: int, warm: int) -> dict[str, Any]:
    """Queue `warm` refreshes and wait for them (the workers load the snapshot), then `count`
    refreshes of distinct learners (ids from `first + warm`), timed from the first queued to the
    last written."""
    from learners.models import Recommendation
    from learners.tasks import recommendation_refresh_task

    def queue_and_wait(ids: list[int]) -> float:
        tic = time.perf_counter()
        for pk in ids:
            recommendation_refresh_task.delay(pk)
        while Recommendation.objects.filter(learner_id__in=ids).count() < len(ids):
            if time.perf_counter() - tic > REFRESH_TIMEOUT:
                raise RuntimeError(f"refreshes not all written within {REFRESH_TIMEOUT:g} s")
            time.sleep(POLL_SECONDS)
        return time.perf_counter() - tic

    warm_seconds = queue_and_wait(list(range(first, first + warm)))
    seconds = queue_and_wait(list(range(first + warm, first + warm + count)))
    return {"count": count, "seconds": seconds, "per_second": count / seconds, "warm_seconds": warm_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="phase", required=True)
    sub.add_parser("retrain")
    page = sub.add_parser("dashboard")
    page.add_argument("--learner", type=int, required=True)
    page.add_argument("--requests", type=int, default=50)
    queue = sub.add_parser("refresh")
    queue.add_argument("--first", type=int, required=True)
    queue.add_argument("--count", type=int, required=True)
    queue.add_argument("--warm", type=int, default=4)
    args = parser.parse_args(argv)
    django.setup()
    if args.phase == "retrain":
        result = retrain()
    elif args.phase == "dashboard":
        result = dashboard(learner_id=args.learner, requests=args.requests)
    else:
        result = refresh(first=args.first, count=args.count, warm=args.warm)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
