"""Where a request ends when it cannot go on, and where a login lands."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from learners.permissions import is_educator


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its token expired, or from elsewhere: the app's own page, not Django's."""
    return render(request, "403_csrf.html", status=403)


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """After login without a `next`: educators to their panel, everyone else to their dashboard."""
    return redirect("educator-home" if is_educator(request.user) else "home")
