"""Health endpoints for load balancers and process supervisors.

`health` is readiness: 200 when the database and the broker answer, else 503, so a load balancer
sends no traffic to an instance that cannot serve it. `liveness` only says the process answers:
it touches neither, so a probe that restarts what fails it restarts a stuck process, not every
process of the app whenever the database is down.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from learners.selectors.health import health_check


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    state = health_check()
    age = state.snapshot_age_seconds
    body = {
        "ok": state.ok,
        "database": state.database,
        "broker": state.broker,
        "snapshot_age_seconds": None if age is None else round(age),
    }
    return JsonResponse(body, status=200 if state.ok else 503)


@never_cache
@require_safe
def liveness(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
