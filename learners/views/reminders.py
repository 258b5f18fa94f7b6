"""The reminder e-mail's one-click unsubscribe: the signed token is the key, no login needed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from learners.services.reminders import reminder_unsubscribe


# GET for the link in the mail; POST for mail apps' own button (RFC 8058), which carries no CSRF
# token. Either only turns reminders off, which the signature already authorises.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        reminder_unsubscribe(token=token)
    except ValidationError as exc:
        return render(
            request, "account/reminder_unsubscribe.html", {"problem": " ".join(exc.messages)}, status=400
        )
    return render(request, "account/reminder_unsubscribe.html", {})
