"""The private calendar feed, fetched by calendar apps without a login: the secret address is the key."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from learners.calendar import calendar_ics
from learners.selectors.calendar import calendar_events, calendar_learner


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    learner = calendar_learner(token=token)  # 404, the same for a revoked or a made-up token
    with translation.override(learner.language or settings.LANGUAGE_CODE):
        body = calendar_ics(events=calendar_events(learner=learner), name=_("Metacoach study plan"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="metacoach.ics"'
    # A person's plan: kept by no shared cache, and out of search engines should the address leak.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
