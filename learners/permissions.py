"""Who may see what. One helper per object type; each answers 404 for anyone without access.

A 404 rather than a 403 means ids in URLs cannot be probed to learn which cohorts or learners exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from learners.models import Cohort, CohortMembership

View = Callable[..., HttpResponseBase]
EDUCATORS = "Educators"  # the Django group that opens the educator panel


def is_educator(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # Asked several times per request (decorator, helpers); the user object lives one request.
    cached = getattr(user, "_is_educator", None)
    if cached is None:
        cached = user.groups.filter(name=EDUCATORS).exists()
        setattr(user, "_is_educator", cached)  # noqa: B010
    return bool(cached)


def educator_required(view: View) -> View:
    """Anonymous visitors log in first; signed-in people outside the Educators group get a 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_educator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def cohorts_for_educator(user: User) -> Any:
    """Cohorts the user owns or co-teaches, as a queryset without duplicates."""
    visible = Cohort.objects.filter(Q(owner=user) | Q(co_teachers=user)).values("pk")
    return Cohort.objects.filter(pk__in=visible).select_related("owner")


def cohort_for_educator(*, user: User, cohort_id: int) -> Cohort:
    """A cohort the educator owns or co-teaches; 404 for every other cohort."""
    if not is_educator(user):
        raise Http404
    return get_object_or_404(cohorts_for_educator(user), pk=cohort_id)


def cohort_for_owner(*, user: User, cohort_id: int) -> Cohort:
    """A cohort only its owner may change; co-teachers see it but get a 403, others a 404."""
    cohort = cohort_for_educator(user=user, cohort_id=cohort_id)
    if cohort.owner_id != user.pk:
        raise PermissionDenied
    return cohort


def membership_for_educator(*, cohort: Cohort, learner_id: int) -> CohortMembership:
    """A member of a cohort the educator may already see; learners outside it answer 404."""
    return get_object_or_404(
        CohortMembership.objects.select_related("learner__user", "cohort"),
        cohort=cohort,
        learner_id=learner_id,
    )


def membership_for_learner(*, user: User, cohort_id: int) -> CohortMembership:
    """The user's own membership of a cohort; 404 when they are not a member."""
    return get_object_or_404(
        CohortMembership.objects.select_related("cohort__owner", "learner"),
        cohort_id=cohort_id,
        learner__user=user,
    )
