"""The load bench's pure parts: its rows, tables and verdicts, and the commands it starts.
Nothing here starts the stack; `make bench-load` measures."""

from __future__ import annotations

from typing import Any

import pytest

from bench import load_report, load_stack, report


def _results(
    *, visible: list[float] | None = None, not_visible: int = 0, n_failures: int = 0, **times: list[float]
) -> dict[str, Any]:
    load = {
        "seconds": 10.0,
        "users": 5,
        "think": [1.0, 3.0],
        "poll_seconds": 0.05,
        "visible_timeout": 30.0,
        "locust": "x",
        "times_ms": {k.replace("_", " "): v for k, v in times.items()},
        "n_failures": {"dashboard": n_failures},
        "failures": {"dashboard": ["500, expected 200"] * n_failures},
        "visible_ms": {"session saved": visible or [], "recommendation asked": [100.0]},
        "not_visible": {"session saved": not_visible, "recommendation asked": 0},
    }
    return {"setup": {"stack": "gunicorn", "machine": "idle"}, "load": load, "seconds": 60.0}


def _bare(values: list[float]) -> dict[str, list[float]]:
    return {"liveness (bare view)": values}


def _marks(results: dict[str, Any]) -> dict[str, str]:
    return {c.name: c.mark for c in load_report.checks(results)}


def test_rows_put_the_bare_view_then_the_dashboard_first_and_end_with_every_request() -> None:
    results = _results(session_save=[30.0] * 10, dashboard=[20.0] * 10, **_bare([2.0] * 10))
    rows = load_report.page_times(results["load"])
    assert [r.page for r in rows] == ["liveness (bare view)", "dashboard", "session save", "all requests"]
    every = rows[-1]
    assert every.requests == 30 and every.per_second == pytest.approx(3.0) and every.max_ms == 30.0


def test_table_has_one_aligned_line_per_page() -> None:
    results = _results(dashboard=[20.0], **_bare([2.0]))
    lines = load_report.page_table(load_report.page_times(results["load"])).splitlines()
    assert lines[0].split()[:2] == ["page", "requests"]
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1


def test_targets_met_without_errors_a_cheap_dashboard_and_quick_recommendations() -> None:
    results = _results(dashboard=[3.0] * 20, visible=[200.0] * 20, **_bare([2.0] * 20))
    assert set(_marks(results).values()) == {"met"}


def test_targets_missed_by_a_dashboard_slower_than_its_bound_and_late_recommendations() -> None:
    results = _results(dashboard=[3.1] * 20, visible=[1001.0] * 20, **_bare([2.0] * 20))
    marks = _marks(results)
    assert marks["load: dashboard p95 / liveness (bare view) p95"] == "MISSED"
    assert marks["load: session saved -> recommendation visible, p95 ms"] == "MISSED"


@pytest.mark.parametrize(("n_failures", "not_visible"), [(1, 0), (0, 1)])
def test_an_error_or_a_recommendation_never_visible_misses_the_zero_errors_target(
    n_failures: int, not_visible: int
) -> None:
    results = _results(
        dashboard=[3.0], visible=[10.0], n_failures=n_failures, not_visible=not_visible, **_bare([2.0])
    )
    assert _marks(results)["load: errors (and recommendations never visible)"] == "MISSED"


def test_a_skipped_load_is_not_measured_rather_than_missed() -> None:
    results = {"skipped": "skipped: Redis at 127.0.0.1:6379 does not answer (refused)"}
    (check,) = load_report.checks(results)
    assert check.met is None and "Redis" in check.measured
    assert load_report.text(results)[-1].startswith("load: skipped")


def test_the_bench_table_carries_the_load_targets() -> None:
    results = {"load": _results(dashboard=[3.0], visible=[10.0], **_bare([2.0]))}
    names = [c.name for c in report.checks(results)]
    assert "load: dashboard p95 / liveness (bare view) p95" in names


def test_workers_name_their_queue_and_only_the_engine_worker_replaces_its_child() -> None:
    refresh = load_stack.worker_command("celery,low", concurrency=2, hostname="celery@%h")
    engine = load_stack.worker_command("engine", concurrency=1, hostname="engine@%h")
    assert refresh[refresh.index("--queues") + 1] == "celery,low" and "--max-tasks-per-child" not in refresh
    assert engine[engine.index("--queues") + 1] == "engine" and "--max-tasks-per-child" in engine


def test_an_unreachable_service_is_a_reason_to_skip() -> None:
    why = load_stack.unavailable(postgres_url="postgres://postgres@127.0.0.1:1/postgres", redis_url="")
    assert why is not None and why.startswith("skipped: PostgreSQL at 127.0.0.1:1")
