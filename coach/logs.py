"""Structured events: one per request and one per task run, with ids, timings and nothing personal.

Production writes every log record as one JSON line (`JsonFormatter`, LOGGING in
coach/settings/production.py). An event's fields are an allow-list: only what the code names in
`extra={"event": ...}` goes out, never the attributes Django or Celery attach to a record (Django's
`request`, whose text holds the query string, and so a learner's search words).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_LOGGER = logging.getLogger("metacoach.request")
TASK_LOGGER = logging.getLogger("metacoach.task")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's request id is kept when it looks like one; anything else is replaced, not logged.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's event fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "event", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def milliseconds_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


class RequestEventMiddleware:
    """Logs one event per request, after the response: route, status, duration, ids; first in
    MIDDLEWARE so the duration covers the rest."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        REQUEST_LOGGER.info(
            "%s %s %s",
            request.method,
            _route(request),
            response.status_code,
            extra={"event": _request_event(request, response, request_id, milliseconds_since(start))},
        )
        return response


def _route(request: HttpRequest) -> str | None:
    # The URL pattern, not the path: ids sit in `ids`, and an unknown path says nothing of its own.
    match = request.resolver_match
    return f"/{match.route}" if match is not None else None


def _request_event(
    request: HttpRequest, response: HttpResponse, request_id: str, duration_ms: float
) -> dict[str, Any]:
    match = request.resolver_match
    user = getattr(request, "user", None)
    return {
        "event": "request",
        "request_id": request_id,
        "method": request.method,
        "route": _route(request),
        "view": match.view_name if match is not None else None,
        "ids": {k: v for k, v in match.kwargs.items() if isinstance(v, int)} if match is not None else {},
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user_id": user.pk if user is not None and user.is_authenticated else None,
    }
