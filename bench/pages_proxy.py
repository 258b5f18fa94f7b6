"""A counting relay between the browser and the server: what really went over the wire.

The browser's own accounting misses what a service worker fetches (DevTools reports it in the
worker's target, not the page's) and stalls on answers the worker gives; bytes on the sockets
have no such gaps. The relay passes bytes through unchanged and frames HTTP/1.1 as runserver
speaks it: a response's body is its Content-Length, or runs to the connection's close; no
chunking, no pipelining. Each exchange is the request line's method and path, the status, and the
response's size on the wire (head and body as sent, so compressed where the server compressed).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 65536


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    bytes: int  # the response as sent: status line, headers and body


class _ResponseFramer:
    """Splits a server's byte stream into responses; `feed` returns the ones completed."""

    def __init__(self) -> None:
        self.buffer = b""
        self.head: bytes | None = None
        self.status = 0
        self.remaining: int | None = None  # None: the body runs to the close
        self.size = 0

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        done: list[tuple[int, int]] = []
        self.buffer += data
        while self.buffer:
            if self.head is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                self.head, self.buffer = self.buffer[: end + 4], self.buffer[end + 4 :]
                self._start(self.head)
                if self.remaining == 0:
                    done.append(self._finish())
                continue
            if self.remaining is None:
                self.size += len(self.buffer)
                self.buffer = b""
                break
            taken = min(self.remaining, len(self.buffer))
            self.size += taken
            self.remaining -= taken
            self.buffer = self.buffer[taken:]
            if self.remaining == 0:
                done.append(self._finish())
        return done

    def close(self) -> list[tuple[int, int]]:
        return [self._finish()] if self.head is not None else []

    def _start(self, head: bytes) -> None:
        text = head.decode("latin-1")
        self.status = int(text.split("\r\n", 1)[0].split()[1])
        length = _content_length(text) if "content-length:" in text.lower() else None
        # 1xx, 204 and 304 carry no body whatever their headers say.
        no_body = self.status < 200 or self.status in (204, 304)
        self.remaining = 0 if no_body else length
        self.size = len(head)

    def _finish(self) -> tuple[int, int]:
        out = (self.status, self.size)
        self.head, self.remaining, self.size = None, 0, 0
        return out


class CountingProxy:
    """Listens on 127.0.0.1:<port> and relays every connection to `upstream_port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self.open = 0  # requests sent upstream and not yet answered
        self.last = time.monotonic()
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self) -> list[Exchange]:
        """The exchanges completed since the last call."""
        with self.lock:
            out, self.exchanges = self.exchanges, []
        return out

    def quiet_for(self) -> float:
        """Seconds since the last byte, or 0 while a request waits for its answer."""
        with self.lock:
            return 0.0 if self.open > 0 else time.monotonic() - self.last

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        requests: list[tuple[str, str]] = []
        with client, socket.create_connection(self.upstream) as server:
            upstream = threading.Thread(target=self._requests, args=(client, server, requests), daemon=True)
            upstream.start()
            framer = _ResponseFramer()
            answered = 0
            while data := _recv(server):
                # Noted before it is passed on, so a client that has its answer finds it counted.
                answered = self._record(framer.feed(data), requests, answered)
                with contextlib.suppress(OSError):
                    client.sendall(data)
            self._record(framer.close(), requests, answered)
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
            upstream.join(timeout=5)

    def _requests(
        self, client: socket.socket, server: socket.socket, requests: list[tuple[str, str]]
    ) -> None:
        """Client to server: passes the bytes on and notes each request line."""
        buffer, body = b"", 0  # body: bytes of the current request's body still to come
        while data := _recv(client):
            buffer += data
            while buffer:
                if body:
                    taken = min(body, len(buffer))
                    body, buffer = body - taken, buffer[taken:]
                    continue
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head, buffer = buffer[:end].decode("latin-1"), buffer[end + 4 :]
                method, path = ([*head.split("\r\n")[0].split(" "), "", ""])[:2]
                body = _content_length(head)
                with self.lock:
                    requests.append((method, path))
                    self.open += 1
                    self.last = time.monotonic()
            with contextlib.suppress(OSError):
                server.sendall(data)
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_WR)

    def _record(self, done: list[tuple[int, int]], requests: list[tuple[str, str]], answered: int) -> int:
        with self.lock:
            self.last = time.monotonic()
            for status, size in done:
                method, path = requests[answered] if answered < len(requests) else ("?", "?")
                self.exchanges.append(Exchange(method, path, status, size))
                self.open = max(0, self.open - 1)
                answered += 1
        return answered


def _content_length(head: str) -> int:
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value.strip())
    return 0


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(CHUNK)
    except OSError:
        return b""


@contextlib.contextmanager
def counting_proxy(upstream_port: int) -> Iterator[CountingProxy]:
    proxy = CountingProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
