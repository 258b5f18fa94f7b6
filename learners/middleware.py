"""Per-request settings from the learner's account: time zone (times stored in UTC) and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class LearnerTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = None
        if request.user.is_authenticated:
            learner = getattr(request.user, "learner", None)
            name = learner.timezone if learner else None
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # Never leaks into whatever the thread runs next (another request, a test).
            timezone.deactivate()


class LearnerLanguageMiddleware:
    """Speak the language the learner chose, on every device; after LocaleMiddleware and auth.

    Anonymous visitors keep what LocaleMiddleware chose from the language cookie or the browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            learner = getattr(request.user, "learner", None)
            language = learner.language if learner else ""
            if language and language in dict(settings.LANGUAGES):
                request.LANGUAGE_CODE = language
                # Restored afterwards, so the choice never leaks into whatever the thread serves next.
                with translation.override(language):
                    response = self.get_response(request)
                response.headers.setdefault("Content-Language", language)
                return response
        return self.get_response(request)
