"""Lighthouse (npm, pinned in package.json) on the product pages, driving Debian's Chromium.

Lighthouse's defaults otherwise: mobile emulation and simulated throttling (a mid-range phone on
a slow 4G link), so performance scores are comparable with any other Lighthouse run. The page is
on loopback and serves every file itself; the Chromium flags keep the browser from calling
anywhere else, and the report's own request list is checked for any request that left 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.pages_weight import CHROMIUM_ARGS, PageVisit

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}
RUN_TIMEOUT = 180.0
# Lighthouse sometimes fails to record a page load's trace ("Runtime error encountered ...
# Please run Lighthouse again", e.g. NO_NAVSTART): such a run is tried once more.
RUNTIME_ERROR = "Runtime error encountered"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass(frozen=True)
class FailingAudit:
    category: str
    id: str
    title: str
    weight: float
    elements: list[str]  # the offending nodes (selector and HTML snippet) or items


def unavailable() -> str | None:
    """Why Lighthouse cannot run here, or None."""
    if shutil.which("node") is None:
        return "skipped: node/npm not installed"
    if not LIGHTHOUSE.exists():
        return "skipped: lighthouse not installed (npm ci installs it from package.json)"
    return None


def _item_text(item: dict[str, Any]) -> str:
    node = item.get("node")
    if isinstance(node, dict):
        selector, snippet = node.get("selector", ""), node.get("snippet", "")
        return f"{selector} {snippet}".strip()
    for key in ("description", "source", "url", "scriptUrl", "label", "value"):
        value = item.get(key)
        if isinstance(value, str) and value:
            location = item.get("sourceLocation") or {}
            where = location.get("url") if isinstance(location, dict) else None
            return f"{value} ({where})" if where and where != value else value
    return json.dumps(item, sort_keys=True)[:200]


def failing_audits(
    report: dict[str, Any], categories: tuple[str, ...] = ("accessibility", "best-practices")
) -> list[FailingAudit]:
    """Scored audits of the categories that did not pass, with the elements Lighthouse names."""
    out = []
    for category in categories:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if audit.get("score") is None or audit["score"] >= 1:
                continue
            items = (audit.get("details") or {}).get("items") or []
            elements = [_item_text(i) for i in items if isinstance(i, dict)]
            out.append(
                FailingAudit(category, ref["id"], audit["title"], float(ref.get("weight", 0)), elements)
            )
    return out


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Scores (0-100), the main timings, failing audits, and requests that left loopback."""
    scores = {
        c: None if report["categories"][c]["score"] is None else round(100 * report["categories"][c]["score"])
        for c in CATEGORIES
    }
    metrics = {
        short: report["audits"][name].get("numericValue")
        for name, short in METRICS.items()
        if name in report["audits"]
    }
    requests = ((report["audits"].get("network-requests") or {}).get("details") or {}).get("items") or []
    external = sorted(
        {
            r["url"]
            for r in requests
            if urlsplit(r["url"]).scheme in {"http", "https"} and urlsplit(r["url"]).hostname not in LOOPBACK
        }
    )
    return {
        "scores": scores,
        "metrics": metrics,
        "failing": [asdict(a) for a in failing_audits(report)],
        "external_requests": external,
        "runtime_error": (report.get("runtimeError") or {}).get("message"),
        "version": report.get("lighthouseVersion"),
    }


def _run_once(url: str, headers: Path, *, chromium: str, stem: Path) -> dict[str, Any]:
    """One Lighthouse run; its summary, or {"error": ...}. Reports at <stem>.report.json/html."""
    report_path = stem.with_name(stem.name + ".report.json")
    report_path.unlink(missing_ok=True)  # never read an older run's report
    command = [
        str(LIGHTHOUSE),
        url,
        f"--chrome-path={chromium}",
        "--chrome-flags=" + " ".join(["--headless=new", *CHROMIUM_ARGS]),
        f"--extra-headers={headers}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--output=json",
        "--output=html",
        f"--output-path={stem}",
        "--quiet",
    ]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"lighthouse did not finish within {RUN_TIMEOUT:g} s"}
    if done.returncode != 0 or not report_path.exists():
        error = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"error": f"lighthouse failed: {error}"}
    return summary(json.loads(report_path.read_text()))


def _run_retried(url: str, headers: Path, *, chromium: str, stem: Path) -> dict[str, Any]:
    """`_run_once`, and once more when Lighthouse's own run failed (not a timeout); the result
    keeps the first failure under "retried"."""
    first = _run_once(url, headers, chromium=chromium, stem=stem)
    if RUNTIME_ERROR not in first.get("error", ""):
        return first
    return _run_once(url, headers, chromium=chromium, stem=stem) | {"retried": first["error"]}


def median_run(found: list[dict[str, Any]]) -> int | None:
    """Index of the run with the median performance score (the lower middle of an even count),
    or None when no run gave one."""
    scored = [(r["scores"]["performance"], i) for i, r in enumerate(found) if "error" not in r]
    scored = [(score, i) for score, i in scored if score is not None]
    if not scored:
        return None
    return sorted(scored)[(len(scored) - 1) // 2][1]


def run(
    base_url: str,
    visits: list[PageVisit],
    sessions: dict[str, str],
    *,
    chromium: str,
    out: Path,
    runs: int = 1,
) -> dict[str, Any]:
    """Lighthouse `runs` times on every visit, keeping the run of median performance (its
    performance score moves from run to run on a busy machine); its reports are kept as
    <out>/<label>.report.json and .report.html."""
    out.mkdir(parents=True, exist_ok=True)
    pages: dict[str, Any] = {}
    for visit in visits:
        slug = visit.label.replace(" ", "-")
        headers = out / f".{slug}.headers.json"
        cookie = {"Cookie": f"sessionid={sessions[visit.persona]}"} if visit.persona else {}
        headers.write_text(json.dumps(cookie))
        try:
            # No dot in the stem: Lighthouse replaces what follows one with ".report.json".
            stems = [out / f"{slug}-run{i}" for i in range(runs)]
            found = [
                _run_retried(base_url + visit.path, headers, chromium=chromium, stem=stem) for stem in stems
            ]
        finally:
            headers.unlink(missing_ok=True)  # a live session cookie
        kept = median_run(found)
        for i, stem in enumerate(stems):
            for kind in ("json", "html"):
                path = stem.with_name(f"{stem.name}.report.{kind}")
                if i == kept and path.exists():
                    path.replace(out / f"{slug}.report.{kind}")
                else:
                    path.unlink(missing_ok=True)
        if kept is None:
            pages[visit.label] = found[-1] if found else {"error": "not run"}
            continue
        performance = [r["scores"]["performance"] for r in found if "error" not in r]
        pages[visit.label] = found[kept] | {
            "report": str(out / f"{slug}.report.json"),
            "performance_runs": performance,
        }
    return {
        "pages": pages,
        "runs": runs,
        "form_factor": "mobile (Lighthouse default, simulated throttling)",
        "out": str(out),
    }
