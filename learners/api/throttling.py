"""One request budget per token (each script its own), per person for the browser's session, and
per address for anonymous calls. The rate is settings.REST_FRAMEWORK's DEFAULT_THROTTLE_RATES["api"]."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from learners.models import ApiToken
from learners.throttle import client_ip


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        # Read at each request, not once at import as DRF does, so a changed setting takes effect.
        rate: str | None = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"address:{client_ip(request) or 'unknown'}"
        return f"throttle:{self.scope}:{ident}"
