"""Limits on guessing: the login lockout's page, and join codes counted per learner and address.

Logins are counted by django-axes (settings: AXES_*). Join codes are counted here in Django's
cache: a wrong code adds one to the learner's counter and to their address's, each kept for
JOIN_CODE_WINDOW; at the limit, joining is refused until the window has passed.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

JOIN_CODE_WINDOW = 3600  # seconds
# A learner's own mistakes, and a school network's, where a class shares one address.
JOIN_CODE_LIMIT_PER_LEARNER = 10
JOIN_CODE_LIMIT_PER_ADDRESS = 30


def _keys(*, user_id: int, address: str) -> list[tuple[str, int]]:
    return [
        (f"join-code-failures:user:{user_id}", JOIN_CODE_LIMIT_PER_LEARNER),
        (f"join-code-failures:address:{address}", JOIN_CODE_LIMIT_PER_ADDRESS),
    ]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind settings.PROXY_COUNT proxies that each
    append the address they were reached from to X-Forwarded-For, the entry the first of them
    wrote, counted from the right. Entries further left come from the client and prove nothing."""
    count = settings.PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def client_address(request: HttpRequest) -> str:
    return get_client_ip_address(request) or "unknown"


def join_code_blocked(*, user_id: int, address: str) -> bool:
    counts = cache.get_many([key for key, _ in _keys(user_id=user_id, address=address)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(user_id=user_id, address=address))


def join_code_failure_record(*, user_id: int, address: str) -> None:
    for key, _limit in _keys(user_id=user_id, address=address):
        # add() starts the window on the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, timeout=JOIN_CODE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=JOIN_CODE_WINDOW)


def join_code_blocked_message() -> str:
    return _("Too many wrong join codes. Wait an hour and try again, or ask your educator for a join link.")


def login_locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' lockout response: the app's own login page, saying why, with 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    message = _(
        "Too many failed attempts to log in as this user from your address. Wait %(minutes)s minutes "
        "and try again, reset your password, or ask an administrator to unlock the account."
    ) % {"minutes": minutes}
    context = {"form": form, "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
