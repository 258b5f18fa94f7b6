"""Typed requests for views: who is asking, known to the type checker.

Also the one way a view sends a file download.

`learner_required` logs anonymous visitors in, then gives the view the signed-in person's
learner profile as `request.learner`; educators' views take an `AuthenticatedHttpRequest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from learners.models import Learner
from learners.services.sessions import learner_ensure

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class LearnerHttpRequest(AuthenticatedHttpRequest):
    learner: Learner


def learner_required(
    view: Callable[Concatenate[LearnerHttpRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
        typed = cast(LearnerHttpRequest, request)
        typed.learner = learner_ensure(user=typed.user)
        return view(typed, *args, **kwargs)

    return login_required(wrapped)


CSV = "text/csv; charset=utf-8"
JSON = "application/json"


def file_download(stream: Iterable[str], *, filename: str, content_type: str) -> StreamingHttpResponse:
    """A streamed file the browser saves; never cached, as it holds a person's data."""
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
