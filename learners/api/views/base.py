"""What every API view shares: the caller as a learner, and lists paged alike."""

from __future__ import annotations

from rest_framework import generics
from rest_framework.request import Request

from learners.models import Learner
from learners.services.sessions import learner_ensure


def request_learner(request: Request) -> Learner:
    """The caller's learner profile, whether a token or the browser's session signed them in."""
    return learner_ensure(user=request.user)


class ListView(generics.ListAPIView):
    """A list in pages (settings.REST_FRAMEWORK's pagination class): `get_queryset` asks a selector."""
