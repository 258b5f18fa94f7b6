"""The product pages bench's pure parts: percentiles, ratios, tables, verdicts, Lighthouse parsing
and the counting relay's framing. Nothing here is timed; `make bench-pages` measures."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import pages_lighthouse, pages_report, report
from bench.pages_proxy import _ResponseFramer, counting_proxy


@pytest.mark.parametrize("q", [0, 5, 50, 90, 95, 99, 100])
def test_percentile_interpolates_as_numpy_does(q: float) -> None:
    values = list(np.random.default_rng(3).exponential(100.0, size=37))
    assert pages_report.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_one_value_is_that_value_and_of_none_is_nan() -> None:
    assert pages_report.percentile([12.0], 95) == 12.0
    assert np.isnan(pages_report.percentile([], 50))


@pytest.mark.parametrize(("value", "base"), [(3.0, 0.0), (float("nan"), 1.0), (1.0, float("nan"))])
def test_ratio_is_nan_without_a_positive_baseline(value: float, base: float) -> None:
    assert np.isnan(pages_report.ratio(value, base))


def _load(**times: list[float]) -> dict[str, Any]:
    return {
        "seconds": 10.0,
        "users": 10,
        "locust": "x",
        "times_ms": {k.replace("_", " "): v for k, v in times.items()},
        "n_failures": {},
        "failures": {},
    }


def test_latencies_put_the_login_page_first_and_divide_by_its_p95() -> None:
    load = _load(dashboard=[100.0] * 20, login_page=[10.0] * 20 + [50.0])
    rows = pages_report.latencies(load)
    assert [r.page for r in rows] == ["login page", "dashboard"]
    login, dashboard = rows
    assert login.p95_ratio == pytest.approx(1.0)
    assert dashboard.p95_ratio == pytest.approx(100.0 / login.p95_ms)
    assert dashboard.requests == 20 and dashboard.per_second == pytest.approx(2.0)


def test_latency_table_has_one_aligned_line_per_page() -> None:
    lines = pages_report.latency_table(
        pages_report.latencies(_load(login_page=[5.0], dashboard=[9.0]))
    ).splitlines()
    assert lines[0].split()[:2] == ["page", "requests"]
    assert [line.split()[0] for line in lines[1:]] == ["login", "dashboard"]
    assert len({len(line) for line in lines}) == 1  # right-aligned numbers end in one column


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        (1.2, {"at_most": 1.2}, True),
        (1.21, {"at_most": 1.2}, False),
        (95, {"at_least": 95}, True),
        (94, {"at_least": 95}, False),
        (None, {"at_most": 1.0}, None),
        (float("nan"), {"at_least": 1.0}, None),
    ],
)
def test_verdict_meets_bounds_inclusively_and_unmeasured_is_none(
    value: float | None, bounds: dict[str, float], expected: bool | None
) -> None:
    assert pages_report.verdict(value, **bounds) is expected


def _weight(size: int) -> dict[str, Any]:
    return {
        "label": "dashboard",
        "load": "first",
        "bytes": size,
        "requests": 8,
        "page_requests": 8,
        "largest": [],
        "errors": [],
    }


def _lighthouse(**scores: dict[str, int]) -> dict[str, Any]:
    return {
        "pages": {
            label: {"scores": s, "metrics": {}, "failing": [], "version": "12"} for label, s in scores.items()
        },
        "form_factor": "mobile",
        "out": "var/bench/lighthouse",
    }


def _marks(pages: dict[str, Any]) -> dict[str, str]:
    return {c.name.split(":")[-1].split("(")[0].strip(): c.mark for c in pages_report.checks(pages)}


def test_targets_read_weight_ratio_and_scores() -> None:
    good = {"performance": 90, "accessibility": 95, "best-practices": 100}
    pages = {
        "setup": {"worker": "done"},
        "weight": {"pages": [_weight(1_200_000)]},
        "load": _load(
            login_page=[10.0] * 10, dashboard=[31.0] * 10, cohort_overview=[30.0] * 10, engine_page=[5.0] * 10
        ),
        "lighthouse": _lighthouse(dashboard=good, timer=good | {"performance": 89}),
        "seconds": 200.0,
    }
    marks = _marks(pages)
    assert marks["dashboard first load, MB over the network"] == "met"
    assert marks["dashboard"] == "MISSED" and marks["cohort overview"] == "met"
    assert marks["Lighthouse performance"] == "MISSED" and marks["Lighthouse accessibility"] == "met"
    assert marks["pages bench wall time"] == "met"
    pages["weight"] = {"pages": [_weight(1_200_001)]}
    assert _marks(pages)["dashboard first load, MB over the network"] == "MISSED"


def test_failed_responses_or_skipped_parts_are_not_measured_rather_than_met() -> None:
    load = _load(login_page=[10.0], dashboard=[1.0], cohort_overview=[1.0], engine_page=[1.0])
    load["n_failures"] = {"dashboard": 1}
    pages = {
        "setup": {"worker": "skipped"},
        "weight": {"skipped": "no chromium"},
        "load": load,
        "lighthouse": {"skipped": "skipped: node/npm not installed"},
    }
    by_name = {c.name: c for c in pages_report.checks(pages)}
    assert by_name["server time p95 / login p95: dashboard"].met is None
    assert by_name["server time p95 / login p95: engine page"].met is True
    assert by_name["dashboard first load, MB over the network"].met is None
    assert all(c.met is None for name, c in by_name.items() if name.startswith("Lighthouse"))
    text = "\n".join(pages_report.text(pages))
    assert "Lighthouse: skipped: node/npm not installed" in text and "page weight: no chromium" in text


def test_bench_table_shows_the_pages_section_or_why_it_did_not_run() -> None:
    skipped = report.format_table({"quick": True, "seconds": {}, "pages": {"error": "skipped (--quick)"}})
    assert "== pages: not run (skipped (--quick)) ==" in skipped
    assert any(line.split()[:3] == ["n/a", "product", "pages"] for line in skipped.splitlines())
    pages = {"setup": {"worker": "done"}, "weight": {"pages": [_weight(450_000)]}, "seconds": 100.0}
    shown = report.format_table({"quick": False, "seconds": {}, "pages": pages})
    assert "== Product pages" in shown and "0.450" in shown


def _report(audits: dict[str, dict[str, Any]], refs: dict[str, list[tuple[str, float]]]) -> dict[str, Any]:
    categories = {
        c: {"score": 0.9, "auditRefs": [{"id": i, "weight": w} for i, w in refs.get(c, [])]}
        for c in pages_lighthouse.CATEGORIES
    }
    return {"categories": categories, "audits": audits, "lighthouseVersion": "12.8.2"}


def test_failing_audits_name_their_elements_and_skip_passes_and_manual_checks() -> None:
    node = {"node": {"selector": "main > p.muted", "snippet": '<p class="muted">'}}
    audits: dict[str, dict[str, Any]] = {
        "color-contrast": {"score": 0, "title": "Contrast", "details": {"items": [node]}},
        "image-alt": {"score": 1, "title": "Alt text", "details": {"items": []}},
        "focus-traps": {"score": None, "title": "Manual", "details": {}},
        "errors-in-console": {
            "score": 0,
            "title": "Console errors",
            "details": {"items": [{"description": "404 (Not Found)", "sourceLocation": {"url": "/x.js"}}]},
        },
        "valid-source-maps": {
            "score": 0,
            "title": "Source maps",
            "details": {"items": [{"scriptUrl": "/p.js"}]},
        },
    }
    refs = {
        "accessibility": [("color-contrast", 7.0), ("image-alt", 10.0), ("focus-traps", 0.0)],
        "best-practices": [("errors-in-console", 1.0), ("valid-source-maps", 0.0)],
    }
    found = {a.id: a for a in pages_lighthouse.failing_audits(_report(audits, refs))}
    assert set(found) == {"color-contrast", "errors-in-console", "valid-source-maps"}
    assert found["color-contrast"].elements == ['main > p.muted <p class="muted">']
    assert found["errors-in-console"].elements == ["404 (Not Found) (/x.js)"]
    lines = pages_report.failing_lines({"dashboard": pages_lighthouse.summary(_report(audits, refs))})
    assert any("[accessibility] color-contrast" in line for line in lines)
    assert lines[-1].startswith("  not scored: valid-source-maps")


def test_summary_reports_requests_that_left_loopback() -> None:
    items = [
        {"url": "http://127.0.0.1:8000/"},
        {"url": "https://cdn.example.org/x.js"},
        {"url": "data:image/png,"},
    ]
    audits: dict[str, dict[str, Any]] = {"network-requests": {"score": None, "details": {"items": items}}}
    summary = pages_lighthouse.summary(_report(audits, {}))
    assert summary["external_requests"] == ["https://cdn.example.org/x.js"]
    assert summary["scores"] == {"performance": 90, "accessibility": 90, "best-practices": 90}


def test_framer_splits_responses_by_length_across_chunks_and_at_close() -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    not_modified = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
    to_close = b"HTTP/1.1 500 Error\r\n\r\nrest of it"
    framer = _ResponseFramer()
    stream = first + not_modified + to_close
    done = framer.feed(stream[:20]) + framer.feed(stream[20:41]) + framer.feed(stream[41:])
    assert done == [(200, len(first)), (304, len(not_modified))]
    assert framer.close() == [(500, len(to_close))]


@pytest.fixture
def upstream() -> Iterator[int]:
    class Hello(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = b"x" * (1000 if self.path == "/big" else 10)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_proxy_counts_each_response_as_sent(upstream: int) -> None:
    with counting_proxy(upstream) as proxy:
        for path in ("/big", "/small"):
            with urllib.request.urlopen(f"http://127.0.0.1:{proxy.port}{path}", timeout=10) as response:
                assert len(response.read()) == (1000 if path == "/big" else 10)
        exchanges = proxy.take()
    assert [(e.method, e.path, e.status) for e in exchanges] == [("GET", "/big", 200), ("GET", "/small", 200)]
    big, small = exchanges
    # The heads differ only in their Content-Length; each counts beside its body.
    assert big.bytes - small.bytes == 990 + len("1000") - len("10") and small.bytes > 10
    assert proxy.take() == []


def test_the_run_kept_is_the_median_by_performance_and_failed_runs_are_left_out() -> None:
    def scored(performance: int | None) -> dict[str, Any]:
        return {"scores": {"performance": performance}}

    assert pages_lighthouse.median_run([scored(70), scored(90), scored(60)]) == 0
    assert pages_lighthouse.median_run([scored(80), {"error": "x"}, scored(60), scored(None)]) == 2
    assert pages_lighthouse.median_run([{"error": "x"}]) is None


def test_a_run_lighthouse_could_not_record_is_tried_once_more(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {"error": "lighthouse failed: Runtime error encountered: Something went wrong (NO_NAVSTART)"}
    outcomes = iter([failed, {"scores": {"performance": 91}}])
    monkeypatch.setattr(pages_lighthouse, "_run_once", lambda *args, **kwargs: next(outcomes))
    run = pages_lighthouse._run_retried("http://127.0.0.1:1/", Path("h.json"), chromium="c", stem=Path("s"))
    assert run == {"scores": {"performance": 91}, "retried": failed["error"]}
    # Not twice, and not a run that failed otherwise.
    outcomes = iter([failed, failed, {"scores": {}}])
    assert "error" in pages_lighthouse._run_retried("u", Path("h"), chromium="c", stem=Path("s"))
    outcomes = iter([{"error": "lighthouse did not finish within 180 s"}, {"scores": {}}])
    assert "error" in pages_lighthouse._run_retried("u", Path("h"), chromium="c", stem=Path("s"))
