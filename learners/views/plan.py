"""The study plan: accept a spaced plan for a subject, move or skip a planned session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from learners.http import LearnerHttpRequest, learner_required
from learners.models import Recommendation
from learners.plan_forms import PlanAcceptForm, PlanMoveForm
from learners.selectors.plan import planned_get
from learners.selectors.recommendations import recommendation_get
from learners.selectors.sessions import learner_today
from learners.services.plan import plan_accept, plan_move, plan_skip


def _errors(request: LearnerHttpRequest, errors: Mapping[str, Iterable[object]]) -> None:
    messages.error(request, " ".join(str(e) for field_errors in errors.values() for e in field_errors))


def _recommendation(request: LearnerHttpRequest, raw: int | None) -> Recommendation | None:
    if raw is None:
        return None
    try:
        return recommendation_get(learner=request.learner, recommendation_id=raw)
    except Http404:
        return None


@learner_required
@require_POST
def plan_accept_view(request: LearnerHttpRequest) -> HttpResponse:
    form = PlanAcceptForm(request.POST)
    if not form.is_valid():
        _errors(request, form.errors)
        return redirect("goals")
    data = form.cleaned_data
    try:
        planned = plan_accept(
            learner=request.learner,
            subject=data["subject"],
            strategy=data["strategy"],
            recommendation=_recommendation(request, data["recommendation"]),
        )
    except ValidationError as exc:
        _errors(request, exc.message_dict)
        return redirect("goals")
    text = ngettext(
        "%(subject)s is planned: %(count)d session, on %(first)s.",
        "%(subject)s is planned: %(count)d sessions, the first on %(first)s.",
        len(planned),
    )
    first = date_format(planned[0].planned_for, "DATE_FORMAT")
    messages.success(request, text % {"subject": data["subject"], "count": len(planned), "first": first})
    return redirect("home")


@learner_required
@require_POST
def plan_move_view(request: LearnerHttpRequest, planned_id: int) -> HttpResponse:
    planned = planned_get(learner=request.learner, planned_id=planned_id)
    form = PlanMoveForm(request.POST, today=learner_today(learner=request.learner))
    if not form.is_valid():
        _errors(request, form.errors)
        return redirect("home")
    try:
        plan_move(planned=planned, planned_for=form.cleaned_data["planned_for"])
    except ValidationError as exc:
        _errors(request, exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages})
        return redirect("home")
    day = date_format(planned.planned_for, "DATE_FORMAT")
    messages.success(
        request, _("%(subject)s is moved to %(date)s.") % {"subject": planned.subject, "date": day}
    )
    return redirect("home")


@learner_required
@require_POST
def plan_skip_view(request: LearnerHttpRequest, planned_id: int) -> HttpResponse:
    planned = planned_get(learner=request.learner, planned_id=planned_id)
    if plan_skip(planned=planned):
        messages.info(request, _("Skipped. The rest of the plan stays as it is."))
    return redirect("home")
