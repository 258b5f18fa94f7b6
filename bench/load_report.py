"""The load bench's figures as text and as targets, from the results of bench/load.py.

Pure functions of the results dictionary, so `make bench`'s table (bench/report.py) and the load
bench's own run print the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Modules, not their names: pages_report and report import each other through this one.
from bench import pages_report, report

# Targets (issue 22)
DASHBOARD_RATIO_MAX = 1.5  # the dashboard's p95 against the bare view's, in the same run
VISIBLE_P95_MAX_MS = 1000.0  # session saved -> recommendation visible, p95
BASELINE = "liveness (bare view)"
DASHBOARD = "dashboard"
AFTER_SAVE = "session saved"


@dataclass(frozen=True)
class PageTimes:
    page: str
    requests: int
    failed: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    per_second: float


def _times(label: str, found: list[float], *, failed: int, seconds: float) -> PageTimes:
    return PageTimes(
        page=label,
        requests=len(found),
        failed=failed,
        p50_ms=pages_report.percentile(found, 50),
        p95_ms=pages_report.percentile(found, 95),
        max_ms=max(found) if found else math.nan,
        per_second=len(found) / seconds if seconds > 0 else math.nan,
    )


def page_times(load: dict[str, Any]) -> list[PageTimes]:
    """One row per page, the bare view first, and a last row for every request together."""
    times: dict[str, list[float]] = load["times_ms"]
    failed: dict[str, int] = load.get("n_failures", {})
    order = sorted(times, key=lambda page: (page != BASELINE, page != DASHBOARD))
    rows = [_times(p, times[p], failed=failed.get(p, 0), seconds=load["seconds"]) for p in order]
    every = [t for found in times.values() for t in found]
    rows.append(_times("all requests", every, failed=sum(failed.values()), seconds=load["seconds"]))
    return rows


def page_table(rows: list[PageTimes]) -> str:
    header = ["page", "requests", "p50 ms", "p95 ms", "max ms", "req/s", "errors"]
    body = [
        [
            r.page,
            str(r.requests),
            pages_report.ms_text(r.p50_ms),
            pages_report.ms_text(r.p95_ms),
            pages_report.ms_text(r.max_ms),
            f"{r.per_second:.1f}",
            str(r.failed),
        ]
        for r in rows
    ]
    return report._grid(header, body)


def visible_table(load: dict[str, Any]) -> str:
    header = ["recommendation visible after", "n", "p50 ms", "p95 ms", "max ms", "not visible"]
    body = []
    for metric, found in load["visible_ms"].items():
        late = int(load["not_visible"].get(metric, 0))
        top = max(found) if found else math.nan
        p50, p95 = pages_report.percentile(found, 50), pages_report.percentile(found, 95)
        body.append(
            [
                metric,
                str(len(found)),
                pages_report.ms_text(p50),
                pages_report.ms_text(p95),
                pages_report.ms_text(top),
                str(late),
            ]
        )
    return report._grid(header, body)


def _medians(load: dict[str, Any]) -> str:
    """The p50s' ratio beside the target's p95s: where waiting for a busy machine fills the tail
    of every page alike, the medians still tell what the dashboard itself costs."""
    rows = {r.page: r for r in page_times(load)}
    base, dashboard = rows.get(BASELINE), rows.get(DASHBOARD)
    if base is None or dashboard is None:
        return "dashboard p50 / bare view p50: not measured"
    value = pages_report.ratio(dashboard.p50_ms, base.p50_ms)
    return f"dashboard p50 / bare view p50: {value:.1f} (no target; the target compares the p95s)"


def text(results: dict[str, Any]) -> list[str]:
    out = ["== Load: gunicorn, PostgreSQL and Redis on loopback, production settings, demo data =="]
    if "skipped" in results:
        return [*out, f"load: {results['skipped']}"]
    setup = results["setup"]
    out.append(f"stack: {setup['stack']}; {setup['machine']}")
    load = results.get("load") or {}
    if "times_ms" not in load:
        return [*out, f"load: {load.get('skipped', 'not measured')}"]
    low, high = load["think"]
    out += [
        f"{load['users']} simulated learners for {load['seconds']:.0f} s "
        f"(locust {load['locust']}, headless), started over {load.get('ramp_seconds', 0):g} s, "
        f"a think time of {low:g}-{high:g} s between steps",
        page_table(page_times(load)),
        _medians(load),
        f"recommendation visible: from the POST's response to the first /recommendation/status/ that shows "
        f"a new, up-to-date recommendation, polled every {load['poll_seconds'] * 1000:.0f} ms "
        f"(not visible: none within {load['visible_timeout']:g} s)",
        visible_table(load),
    ]
    out += [f"  {page} errors: {', '.join(found)}" for page, found in load["failures"].items() if found]
    return out


def checks(results: dict[str, Any] | None) -> list[report.Check]:
    if not results or "error" in results or "skipped" in results:
        why = (results or {}).get("error") or (results or {}).get("skipped") or "not run"
        return [report.Check("load", why, "", None)]
    load = results.get("load") or {}
    if "times_ms" not in load:
        return [report.Check("load", load.get("skipped", "not measured"), "", None)]
    rows = {r.page: r for r in page_times(load)}
    errors = rows["all requests"].failed + sum(load["not_visible"].values())
    out = [report.Check("load: errors (and recommendations never visible)", str(errors), "0", errors == 0)]
    base, dashboard = rows.get(BASELINE), rows.get(DASHBOARD)
    name = f"load: dashboard p95 / {BASELINE} p95"
    target = f"<= {DASHBOARD_RATIO_MAX:g}"
    if base is None or dashboard is None:
        out.append(report.Check(name, "not measured", target, None))
    else:
        value = pages_report.ratio(dashboard.p95_ms, base.p95_ms)
        measured = f"{value:.2f} ({dashboard.p95_ms:.0f} / {base.p95_ms:.0f} ms)"
        out.append(
            report.Check(name, measured, target, pages_report.verdict(value, at_most=DASHBOARD_RATIO_MAX))
        )
    found = load["visible_ms"].get(AFTER_SAVE, [])
    p95 = pages_report.percentile(found, 95)
    measured = f"{pages_report.ms_text(p95)} ({len(found)} saves)"
    out.append(
        report.Check(
            "load: session saved -> recommendation visible, p95 ms",
            measured,
            f"<= {VISIBLE_P95_MAX_MS:g}",
            pages_report.verdict(p95, at_most=VISIBLE_P95_MAX_MS),
        )
    )
    return out
