"""Page weight: what opening a page transfers over the network.

Each page opens in a fresh browser context (an empty cache) holding only its persona's session
cookie, through a counting relay (bench/pages_proxy.py) in front of the server. The visit is over
once the page is at Playwright's `networkidle` and the relay has been quiet for `QUIET_S`: a
service worker that the page installs fetches what it caches right after the load, and that is
part of the first visit's cost. Bytes are the responses as sent over the socket, status line
and headers included, bodies compressed as the server sent them; the same figure as DevTools'
`encodedDataLength`, and no blind spot for a worker's own requests. The dashboard is then opened
again in the same context, as a returning visitor's next visit.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.pages_proxy import CountingProxy, Exchange, counting_proxy

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LOAD_TIMEOUT_MS = 60_000
QUIET_S = 1.5
SETTLE_MAX_S = 20.0


@dataclass(frozen=True)
class PageVisit:
    """One page as the bench opens it: the persona whose session it uses, or None."""

    label: str
    path: str
    persona: str | None


@dataclass(frozen=True)
class Weight:
    label: str
    path: str
    bytes: int
    requests: int  # that reached the server
    page_requests: int  # that the page made, answered by the network, the cache or a service worker
    errors: list[str]  # "status method path" of 4xx/5xx answers, and the page's failed requests
    largest: list[dict[str, Any]]  # the heaviest responses: path, bytes
    exchanges: list[dict[str, Any]]  # every request that reached the server: method, path, status, bytes

    @classmethod
    def of(cls, visit: PageVisit, exchanges: list[Exchange], page_requests: int, failed: list[str]) -> Weight:
        heaviest = sorted(exchanges, key=lambda e: -e.bytes)[:3]
        return cls(
            label=visit.label,
            path=visit.path,
            bytes=sum(e.bytes for e in exchanges),
            requests=len(exchanges),
            page_requests=page_requests,
            errors=[f"{e.status} {e.method} {e.path}" for e in exchanges if e.status >= 400] + failed,
            largest=[{"path": e.path, "bytes": e.bytes} for e in heaviest],
            exchanges=[asdict(e) for e in exchanges],
        )


def chromium_path() -> str | None:
    return shutil.which("chromium")


def _open(page: Any, proxy: CountingProxy, visit: PageVisit) -> Weight:
    proxy.take()  # nothing of an earlier visit
    asked: list[Any] = []
    failed: list[str] = []

    def on_request(request: Any) -> None:
        asked.append(request)

    def on_failed(request: Any) -> None:
        failed.append(f"failed {request.method} {request.url} ({request.failure})")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.goto(f"http://127.0.0.1:{proxy.port}{visit.path}", wait_until="networkidle", timeout=LOAD_TIMEOUT_MS)
    deadline = time.monotonic() + SETTLE_MAX_S
    while proxy.quiet_for() < QUIET_S and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.remove_listener("request", on_request)
    page.remove_listener("requestfailed", on_failed)
    return Weight.of(visit, proxy.take(), len(asked), failed)


def measure(
    server_port: int, visits: list[PageVisit], sessions: dict[str, str], *, chromium: str
) -> list[dict[str, Any]]:
    """Every visit's first load in its own fresh context; the first visit's (the dashboard's)
    second load after it."""
    from playwright.sync_api import sync_playwright

    out: list[dict[str, Any]] = []
    with counting_proxy(server_port) as proxy, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for i, visit in enumerate(visits):
                context = browser.new_context()
                if visit.persona is not None:
                    url = f"http://127.0.0.1:{proxy.port}/"
                    context.add_cookies([{"name": "sessionid", "value": sessions[visit.persona], "url": url}])
                page = context.new_page()
                out.append(asdict(_open(page, proxy, visit)) | {"load": "first"})
                if i == 0:
                    # Away and back: a navigation to the page's own URL would count as a reload.
                    page.goto("about:blank")
                    out.append(asdict(_open(page, proxy, visit)) | {"load": "second"})
                context.close()
        finally:
            browser.close()
    return out
