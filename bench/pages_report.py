"""The product pages' figures as text and as targets, from the results of bench/pages.py.

Pure functions of the results dictionary, so the bench's table (bench/report.py) and the pages'
own run print the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from bench import report

# Targets
WEIGHT_MAX_MB = 1.2  # the dashboard's first load, MB = 1,000,000 bytes
P95_RATIO_MAX = 3.0  # a page's p95 against the login page's, in the same run
LIGHTHOUSE_MIN = {"performance": 90, "accessibility": 95, "best-practices": 95}
PAGES_SECONDS_MAX = 240.0
BASELINE = "login page"
UNDER_LOAD = ("dashboard", "cohort overview", "engine page")
MB = 1_000_000
ELEMENTS_SHOWN = 4


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated linearly between order statistics (numpy's
    default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float:
    """value / baseline; NaN when either is missing or the baseline is not positive."""
    if math.isnan(value) or math.isnan(baseline) or baseline <= 0:
        return math.nan
    return value / baseline


@dataclass(frozen=True)
class Latency:
    page: str
    requests: int
    failed: int
    p50_ms: float
    p95_ms: float
    per_second: float
    p95_ratio: float  # against the login page's p95


def latencies(load: dict[str, Any]) -> list[Latency]:
    """One row per page of a load run (bench/pages_load.py's output), the login page first."""
    times: dict[str, list[float]] = load["times_ms"]
    base = percentile(times.get(BASELINE, []), 95)
    order = [BASELINE, *[p for p in times if p != BASELINE]] if BASELINE in times else list(times)
    rows = []
    for page in order:
        found = times[page]
        p95 = percentile(found, 95)
        rows.append(
            Latency(
                page=page,
                requests=len(found),
                failed=int(load.get("n_failures", {}).get(page, 0)),
                p50_ms=percentile(found, 50),
                p95_ms=p95,
                per_second=len(found) / load["seconds"] if load["seconds"] > 0 else math.nan,
                p95_ratio=ratio(p95, base),
            )
        )
    return rows


def ms_text(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def latency_table(rows: list[Latency]) -> str:
    header = ["page", "requests", "p50 ms", "p95 ms", "req/s", "p95 / login p95", "failed"]
    body = [
        [
            r.page,
            str(r.requests),
            ms_text(r.p50_ms),
            ms_text(r.p95_ms),
            "-" if math.isnan(r.per_second) else f"{r.per_second:.1f}",
            "-" if math.isnan(r.p95_ratio) else f"{r.p95_ratio:.2f}",
            str(r.failed),
        ]
        for r in rows
    ]
    return report._grid(header, body)


def _mb(size: int) -> str:
    return f"{size / MB:.3f}"


def weight_table(weights: list[dict[str, Any]]) -> str:
    header = ["page", "load", "MB", "requests", "page requests", "heaviest response"]
    body = []
    for w in weights:
        top = w["largest"][0] if w["largest"] else None
        name = f"{PurePosixPath(urlsplit(top['path']).path).name or '/'} {_mb(top['bytes'])}" if top else ""
        body.append(
            [w["label"], w["load"], _mb(w["bytes"]), str(w["requests"]), str(w["page_requests"]), name]
        )
    return report._grid(header, body)


def _scores_table(pages: dict[str, Any]) -> str:
    header = ["page", "performance", "accessibility", "best practices", "FCP s", "LCP s", "TBT ms", "CLS"]
    body = []
    for label, page in pages.items():
        if "error" in page:
            body.append([label, page["error"], "", "", "", "", "", ""])
            continue
        scores, m = page["scores"], page["metrics"]

        def sec(key: str, m: dict[str, Any] = m) -> str:
            return "-" if m.get(key) is None else f"{m[key] / 1000:.1f}"

        runs = page.get("performance_runs") or []
        spread = f" ({min(runs)}-{max(runs)})" if len(runs) > 1 else ""
        body.append(
            [
                label + (" (run again)" if page.get("retried") else ""),
                f"{scores['performance']}{spread}",
                *[str(scores[c]) for c in LIGHTHOUSE_MIN if c != "performance"],
                sec("FCP"),
                sec("LCP"),
                "-" if m.get("TBT") is None else f"{m['TBT']:.0f}",
                "-" if m.get("CLS") is None else f"{m['CLS']:.3f}",
            ]
        )
    return report._grid(header, body)


def failing_lines(pages: dict[str, Any]) -> list[str]:
    """The accessibility and best-practice audits that failed, page by page, with their elements;
    those that weigh nothing in the score on one line at the end."""
    out: list[str] = []
    unscored: dict[str, list[str]] = {}
    for label, page in pages.items():
        for audit in page.get("failing", []):
            if not audit["weight"]:
                unscored.setdefault(f"{audit['id']} ({audit['title']})", []).append(label)
                continue
            shown = audit["elements"][:ELEMENTS_SHOWN]
            more = len(audit["elements"]) - len(shown)
            out.append(f"  {label}: [{audit['category']}] {audit['id']}: {audit['title']}")
            out += [f"      {e[:160]}" for e in shown]
            if more > 0:
                out.append(f"      ... and {more} more (in the JSON report)")
    out += [f"  not scored: {audit}: {', '.join(labels)}" for audit, labels in unscored.items()]
    return out


def text(pages: dict[str, Any]) -> list[str]:
    setup = pages["setup"]
    out = [
        "== Product pages: the server as `make run` starts it (runserver, local settings), demo data ==",
        f"engine run: {setup['worker']}; {setup.get('machine', '')}",
    ]
    if weights := pages.get("weight"):
        if "skipped" in weights:
            out.append(f"page weight: {weights['skipped']}")
        else:
            out += [
                "page weight: first load in a fresh browser context (empty cache); the dashboard as demo,",
                "  the others as teacher. MB: responses as sent on the socket, compressed, with headers",
                "  (10^6 bytes), a service worker's own fetches included. requests: that reached the server;",
                "  page requests: that the page made, however answered. Second load: the dashboard again,",
                "  with the first load's cache.",
                weight_table(weights["pages"]),
            ]
            out += [f"  {w['label']} ({w['load']} load): {e}" for w in weights["pages"] for e in w["errors"]]
    if load := pages.get("load"):
        if "skipped" in load:
            out.append(f"server time: {load['skipped']}")
        else:
            out += [
                f"server time: {load['users']} concurrent clients for {load['seconds']:.0f} s, every page in "
                f"the same run, loopback only (locust {load['locust']}, headless)",
                latency_table(latencies(load)),
            ]
            out += [
                f"  {page} failed: {', '.join(found)}" for page, found in load["failures"].items() if found
            ]
    if lighthouse := pages.get("lighthouse"):
        if "skipped" in lighthouse:
            out.append(f"Lighthouse: {lighthouse['skipped']}")
        else:
            versions = {p.get("version") for p in lighthouse["pages"].values()} - {None}
            runs = lighthouse.get("runs", 1)
            kept = "one run per page" if runs == 1 else f"the median of {runs} runs per page (range)"
            out += [
                f"Lighthouse {', '.join(sorted(versions))}, {lighthouse['form_factor']}, {kept}; "
                f"reports in {lighthouse['out']}",
                _scores_table(lighthouse["pages"]),
            ]
            external = sorted(
                {u for p in lighthouse["pages"].values() for u in p.get("external_requests", [])}
            )
            out.append(
                f"requests that left loopback: {len(external)}"
                + (f" ({', '.join(external)})" if external else "")
            )
            if failing := failing_lines(lighthouse["pages"]):
                out += ["failing accessibility and best-practice audits:", *failing]
    return out


# Targets -----------------------------------------------------------------------------------------
def verdict(
    value: float | None, *, at_most: float | None = None, at_least: float | None = None
) -> bool | None:
    """Whether a figure meets its bound; None when it could not be measured."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if at_most is not None and value > at_most:
        return False
    return not (at_least is not None and value < at_least)


def checks(pages: dict[str, Any] | None) -> list[report.Check]:
    if not pages or "error" in pages:
        why = (pages or {}).get("error", "not run")
        return [report.Check("product pages", why, "", None)]
    return [*_weight_checks(pages), *_load_checks(pages), *_lighthouse_checks(pages), *_time_checks(pages)]


def _weight_checks(pages: dict[str, Any]) -> list[report.Check]:
    weights = pages.get("weight") or {}
    name = "dashboard first load, MB over the network"
    first = [
        w for w in weights.get("pages", []) if w["label"].startswith("dashboard") and w["load"] == "first"
    ]
    if not first:
        return [report.Check(name, weights.get("skipped", "not measured"), f"<= {WEIGHT_MAX_MB:g}", None)]
    size = first[0]["bytes"] / MB
    measured = f"{size:.3f} ({first[0]['requests']} requests)"
    return [report.Check(name, measured, f"<= {WEIGHT_MAX_MB:g}", verdict(size, at_most=WEIGHT_MAX_MB))]


def _load_checks(pages: dict[str, Any]) -> list[report.Check]:
    load = pages.get("load") or {}
    target = f"<= {P95_RATIO_MAX:g}"
    if "times_ms" not in load:
        return [
            report.Check("server time p95 / login p95", load.get("skipped", "not measured"), target, None)
        ]
    rows = {r.page: r for r in latencies(load)}
    base = rows.get(BASELINE)
    out = []
    for page in UNDER_LOAD:
        name = f"server time p95 / login p95: {page}"
        row = rows.get(page)
        if row is None or base is None:
            out.append(report.Check(name, "not measured", target, None))
        elif row.failed or base.failed:
            out.append(report.Check(name, f"{row.failed + base.failed} failed responses", target, None))
        else:
            measured = f"{row.p95_ratio:.2f} ({row.p95_ms:.0f} / {base.p95_ms:.0f} ms)"
            out.append(report.Check(name, measured, target, verdict(row.p95_ratio, at_most=P95_RATIO_MAX)))
    return out


def _lighthouse_checks(pages: dict[str, Any]) -> list[report.Check]:
    lighthouse = pages.get("lighthouse") or {}
    found = lighthouse.get("pages", {})
    out = []
    for category, least in LIGHTHOUSE_MIN.items():
        name = f"Lighthouse {category} ({', '.join(found) or 'no page'})"
        if not found:
            out.append(
                report.Check(name, lighthouse.get("skipped", "not measured"), f">= {least} each", None)
            )
            continue
        scores = [None if "error" in p else p["scores"][category] for p in found.values()]
        shown = " ".join("-" if s is None else str(s) for s in scores)
        met = None if None in scores else all(s is not None and s >= least for s in scores)
        out.append(report.Check(name, shown, f">= {least} each", met))
    return out


def _time_checks(pages: dict[str, Any]) -> list[report.Check]:
    seconds = pages.get("seconds")
    if seconds is None:
        return []
    limit = f"<= {PAGES_SECONDS_MAX:g}"
    return [
        report.Check(
            "pages bench wall time (s)", f"{seconds:.0f}", limit, verdict(seconds, at_most=PAGES_SECONDS_MAX)
        )
    ]
