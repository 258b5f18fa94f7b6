"""The health endpoint for load balancers: 200 when the database and the broker answer, else 503."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
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
