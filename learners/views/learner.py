"""Pages of a learner's own data. Every lookup goes through selectors that check ownership."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from learners.forms import (
    DismissForm,
    KeptPlanForm,
    ReflectionForm,
    SessionFilterForm,
    SituationForm,
    StudySessionForm,
    StudySessionNewForm,
)
from learners.http import LearnerHttpRequest, learner_required
from learners.models import Recommendation, TaskKind
from learners.plan_forms import PlanAcceptForm
from learners.selectors import dashboard, recommendations
from learners.selectors import sessions as selectors
from learners.selectors.plan import plan_due, planned_or_none, planned_prefill
from learners.selectors.sessions import SessionFilters
from learners.selectors.study import timer_get
from learners.services.dashboard import dashboard_panel_context, nudge_dismiss
from learners.services.plan import PLAN_STRATEGY_SLUGS
from learners.services.recommendations import recommendation_request, recommendation_respond
from learners.services.sessions import (
    SessionSaved,
    session_create,
    session_delete,
    session_update,
)

NUDGE = "illusion-of-competence"


def session_saved_message(request: HttpRequest, saved: SessionSaved) -> None:
    if saved.already_saved:
        messages.info(request, _("This session had already been saved; here it is."))
        return
    messages.success(request, _("Session saved."))
    if saved.refresh_queued is False:
        messages.warning(
            request, _("The background engine cannot be reached right now; your recommendation will follow.")
        )


@learner_required
def home(request: LearnerHttpRequest) -> HttpResponse:
    learner = request.learner
    recommendation = recommendations.recommendation_latest(learner=learner)
    if recommendation is None and learner.refresh_requested_at is None:
        recommendation_request(learner_id=learner.pk)
    # The figures, charts and tables below the card are kept until the learner's data changes: the
    # template caches them under this key and builds from the lazy values only when it has no copy.
    key = dashboard.dashboard_key(learner=learner)
    data = dashboard.dashboard_data_cached(learner=learner, key=key)
    reports = dashboard.selfreport_recent(learner=learner)
    subjects = selectors.learner_subjects(learner=learner)
    context = {
        **dashboard_panel_context(learner=learner, data=data),
        "panel_key": key,
        "panel_seconds": dashboard.DASHBOARD_SECONDS,
        "recommendation": recommendation,
        "task_kind_label": TaskKind(recommendation.task_kind).label
        if recommendation and recommendation.task_kind in TaskKind.values
        else "",
        "status": recommendations.recommendation_status(learner=learner, latest=recommendation),
        "situation_form": SituationForm(
            initial={"subject": recommendation.subject, "task_kind": recommendation.task_kind}
            if recommendation
            else None
        ),
        "dismiss_form": DismissForm(),
        "show_nudge": data.overconfident_on_low_utility and NUDGE not in learner.dismissed_nudges,
        "selfreport_due": dashboard.selfreport_due(latest=reports[0] if reports else None),
        "first_selfreport": not reports,
        "timer": timer_get(learner=learner),
        "subject_suggestions": subjects,
        "plan": plan_due(learner=learner),
        "plan_form": _plan_form(recommendation, subjects=subjects),
    }
    return render(request, "learners/home.html", context)


def _plan_form(recommendation: Recommendation | None, *, subjects: list[str]) -> PlanAcceptForm | None:
    """The card's offer of a spaced plan, when the recommended strategy is one a plan serves."""
    if recommendation is None or recommendation.strategy.slug not in PLAN_STRATEGY_SLUGS:
        return None
    if recommendation.status == Recommendation.Status.DISMISSED:
        return None
    subject = recommendation.subject or (subjects[0] if subjects else "")
    return PlanAcceptForm(
        initial={
            "subject": subject,
            "strategy": recommendation.strategy.slug,
            "recommendation": recommendation.pk,
        }
    )


@learner_required
@require_GET
def recommendation_status(request: LearnerHttpRequest) -> JsonResponse:
    learner = request.learner
    latest = recommendations.recommendation_latest(learner=learner)
    status = recommendations.recommendation_status(learner=learner, latest=latest)
    ready = status == recommendations.RecommendationStatus.READY
    return JsonResponse(
        {
            "ready": ready,
            "status": status.value,
            "label": str(status.label),
            "id": latest.pk if latest else None,
        }
    )


@learner_required
@require_POST
def recommendation_refresh_view(request: LearnerHttpRequest) -> HttpResponse:
    """Ask again, optionally for another situation: a subject and a kind of task."""
    form = SituationForm(request.POST)
    situation = form.cleaned_data if form.is_valid() else {"subject": "", "task_kind": ""}
    queued = recommendation_request(
        learner_id=request.learner.pk,
        subject=situation["subject"].strip(),
        task_kind=situation["task_kind"],
    )
    if queued is False:
        messages.warning(
            request, _("The background engine cannot be reached right now; please try again later.")
        )
    return redirect("home")


@learner_required
@require_POST
def recommendation_follow(request: LearnerHttpRequest, recommendation_id: int) -> HttpResponse:
    """*Try it*: the recommendation is followed and the study timer opens with it."""
    learner = request.learner
    recommendation = recommendations.recommendation_get(learner=learner, recommendation_id=recommendation_id)
    recommendation_respond(recommendation=recommendation, status=Recommendation.Status.FOLLOWED)
    return redirect(f"{reverse('study')}?recommendation={recommendation.pk}")


@learner_required
@require_POST
def recommendation_dismiss(request: LearnerHttpRequest, recommendation_id: int) -> HttpResponse:
    learner = request.learner
    recommendation = recommendations.recommendation_get(learner=learner, recommendation_id=recommendation_id)
    form = DismissForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    recommendation_respond(
        recommendation=recommendation, status=Recommendation.Status.DISMISSED, dismissed_reason=reason
    )
    messages.info(request, _("Set aside. The next best strategy for this situation follows."))
    return redirect("home")


@learner_required
@require_POST
def nudge_dismiss_view(request: LearnerHttpRequest) -> HttpResponse:
    nudge_dismiss(learner=request.learner, key=NUDGE)
    return redirect("home")


@learner_required
def session_list(request: LearnerHttpRequest) -> HttpResponse:
    filter_form = SessionFilterForm(request.GET or None)
    sessions = selectors.session_search(learner=request.learner, filters=filter_form.filters())
    page = Paginator(sessions, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filter_form": filter_form,
        "filtered": filter_form.filters() != SessionFilters(),
        "subject_suggestions": selectors.learner_subjects(learner=request.learner),
    }
    return render(request, "learners/session_list.html", context)


@learner_required
def session_new(request: LearnerHttpRequest) -> HttpResponse:
    learner = request.learner
    planned = planned_or_none(learner=learner, planned_id=request.GET.get("planned"))
    prefill = planned_prefill(learner=learner, planned_id=planned.pk if planned else None)
    prefill.pop("recommendation", None)
    form = StudySessionNewForm(request.POST or None, initial=prefill)
    reflection_form = ReflectionForm(request.POST or None)
    next_time = selectors.previous_next_time_plan(learner=learner, subject=str(prefill.get("subject", "")))
    kept_form = KeptPlanForm(request.POST or None) if next_time else None
    # Every form checked, so every field's error shows at once.
    checked = [form.is_valid(), reflection_form.is_valid(), kept_form is None or kept_form.is_valid()]
    if request.method == "POST" and all(checked):
        saved = session_create(
            learner=learner,
            data=form.to_input(),
            reflection=reflection_form.to_input(),
            submission_key=form.submitted_key(),
            kept_previous_plan=kept_form.cleaned_data["kept_previous_plan"] if kept_form else None,
            planned=planned,
        )
        session_saved_message(request, saved)
        return redirect("session-detail", session_id=saved.session.pk)
    context = {
        "form": form,
        "reflection_form": reflection_form,
        "kept_form": kept_form,
        "next_time": next_time,
        "subject_suggestions": selectors.learner_subjects(learner=learner),
    }
    return render(request, "learners/session_form.html", context)


@learner_required
def session_detail(request: LearnerHttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get(learner=request.learner, session_id=session_id)
    return render(request, "learners/session_detail.html", {"session": session})


@learner_required
def session_edit(request: LearnerHttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get(learner=request.learner, session_id=session_id)
    reflection = getattr(session, "reflection", None)
    form = StudySessionForm(request.POST or None, instance=session)
    reflection_form = ReflectionForm(request.POST or None, instance=reflection)
    if request.method == "POST" and all([form.is_valid(), reflection_form.is_valid()]):
        saved = session_update(session=session, data=form.to_input(), reflection=reflection_form.to_input())
        session_saved_message(request, saved)
        return redirect("session-detail", session_id=session.pk)
    return render(
        request,
        "learners/session_form.html",
        {
            "form": form,
            "reflection_form": reflection_form,
            "session": session,
            "subject_suggestions": selectors.learner_subjects(learner=request.learner),
        },
    )


@learner_required
def session_delete_view(request: LearnerHttpRequest, session_id: int) -> HttpResponse:
    session = selectors.session_get(learner=request.learner, session_id=session_id)
    if request.method == "POST":
        session_delete(session=session)
        messages.success(request, _("Session deleted."))
        return redirect("session-list")
    return render(request, "learners/session_confirm_delete.html", {"session": session})
