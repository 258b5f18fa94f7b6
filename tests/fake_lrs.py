"""A small learning record store for tests: POST /statements on 127.0.0.1, in a thread.

It keeps statements by id as xAPI 1.0.3 asks of a store: a batch holding an id it already has is
refused whole with 409 Conflict and changes nothing. It can answer 503 to the first requests, to
prove that the sender retries.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeLrs:
    url: str = ""
    fail_first: int = 0
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (status answered, headers by lower-case name, statement ids) of every request, in order.
    requests: list[tuple[int, dict[str, str], list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, headers: dict[str, str], statements: list[dict[str, Any]]) -> int:
        ids = [s["id"] for s in statements]
        with self.lock:
            if len(self.requests) < self.fail_first:
                status = 503
            elif any(i in self.stored for i in ids):
                status = 409
            else:
                self.stored.update({s["id"]: s for s in statements})
                status = 200
            self.requests.append((status, headers, ids))
        return status


@contextmanager
def fake_lrs(*, fail_first: int = 0) -> Iterator[FakeLrs]:
    lrs = FakeLrs(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path.rstrip("/") != "/xapi/statements":
                self.send_response(404)
                self.end_headers()
                return
            statements = json.loads(body)
            status = lrs.receive({k.lower(): v for k, v in self.headers.items()}, statements)
            payload = json.dumps([s["id"] for s in statements]).encode() if status == 200 else b""
            self.send_response(status)
            self.send_header("X-Experience-API-Version", "1.0.3")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    lrs.url = f"http://127.0.0.1:{server.server_address[1]}/xapi"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lrs
    finally:
        server.shutdown()
        server.server_close()
