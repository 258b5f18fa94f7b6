"""The study timer: plain forms that work without JavaScript; the live clock is an enhancement."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learners.forms import TimerFinishForm, TimerStartForm
from learners.http import LearnerHttpRequest, learner_required
from learners.models import Learner, Recommendation, StudyTimer
from learners.selectors import recommendations
from learners.selectors import sessions as session_selectors
from learners.selectors.plan import planned_or_none, planned_prefill
from learners.selectors.study import pomodoro_phase, timer_elapsed_seconds, timer_get, timer_prompts
from learners.services.study import (
    timer_discard,
    timer_finish,
    timer_minutes,
    timer_pause,
    timer_resume,
    timer_start,
)
from learners.views.learner import session_saved_message


def _recommendation(learner: Learner, raw: object) -> Recommendation | None:
    try:
        return recommendations.recommendation_get(learner=learner, recommendation_id=int(str(raw)))
    except (TypeError, ValueError, Http404):
        return None


@learner_required
def study(request: LearnerHttpRequest) -> HttpResponse:
    """Start a session (GET shows the form, POST starts the timer) or show the one running."""
    learner = request.learner
    timer = timer_get(learner=learner)
    if timer is not None:
        return _running(request, timer, TimerFinishForm(clock_minutes=timer_minutes(timer=timer)))
    initial = _start_initial(learner, request.GET.get("recommendation"))
    initial.update(planned_prefill(learner=learner, planned_id=request.GET.get("planned")))
    previous_plan = session_selectors.previous_next_time_plan(
        learner=learner, subject=str(initial["subject"])
    )
    form = TimerStartForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        recommendation = _recommendation(learner, form.cleaned_data["recommendation"])
        planned = planned_or_none(learner=learner, planned_id=form.cleaned_data["planned"])
        timer_start(learner=learner, data=form.to_input(recommendation=recommendation, planned=planned))
        return redirect("study")
    if not previous_plan:
        del form.fields["kept_previous_plan"]
    context = {
        "form": form,
        "previous_plan": previous_plan,
        "subject_suggestions": session_selectors.learner_subjects(learner=learner),
    }
    return render(request, "learners/study_start.html", context)


def _start_initial(learner: Learner, recommendation_id: str | None) -> dict[str, object]:
    """The recommendation pre-selected: the one the learner chose to try, else the latest."""
    recommendation = _recommendation(learner, recommendation_id) if recommendation_id else None
    recommendation = recommendation or recommendations.recommendation_latest(learner=learner)
    last = session_selectors.session_list(learner=learner).first()
    initial: dict[str, object] = {
        "subject": last.subject if last else "",
        "task_kind": last.task_kind if last else "",
        "confidence": last.confidence if last else None,
    }
    if recommendation is not None and recommendation.status != Recommendation.Status.DISMISSED:
        initial["strategy"] = recommendation.strategy_id
        initial["recommendation"] = recommendation.pk
        initial["subject"] = recommendation.subject or initial["subject"]
        initial["task_kind"] = recommendation.task_kind or initial["task_kind"]
    return initial


def _running(request: HttpRequest, timer: StudyTimer, form: TimerFinishForm) -> HttpResponse:
    elapsed = timer_elapsed_seconds(timer=timer)
    context = {
        "timer": timer,
        "form": form,
        "elapsed": elapsed,
        "prompts": timer_prompts(strategy_slug=timer.strategy.slug),
        "phase": pomodoro_phase(elapsed_seconds=elapsed) if timer.pomodoro else None,
        "previous_plan": session_selectors.previous_next_time_plan(
            learner=timer.learner, subject=timer.subject
        )
        if timer.kept_previous_plan is None
        else "",
    }
    return render(request, "learners/study_running.html", context)


def _timer_or_redirect(request: LearnerHttpRequest) -> StudyTimer | None:
    timer = timer_get(learner=request.learner)
    if timer is None:
        messages.info(request, _("That session has already ended."))
    return timer


@learner_required
@require_POST
def study_pause(request: LearnerHttpRequest) -> HttpResponse:
    if timer := _timer_or_redirect(request):
        timer_pause(timer=timer)
    return redirect("study")


@learner_required
@require_POST
def study_resume(request: LearnerHttpRequest) -> HttpResponse:
    if timer := _timer_or_redirect(request):
        timer_resume(timer=timer)
    return redirect("study")


@learner_required
@require_POST
def study_discard(request: LearnerHttpRequest) -> HttpResponse:
    if timer := _timer_or_redirect(request):
        timer_discard(timer=timer)
        messages.info(request, _("The timer was discarded; nothing was logged."))
    return redirect("study")


@learner_required
@require_POST
def study_finish(request: LearnerHttpRequest) -> HttpResponse:
    learner = request.learner
    timer = timer_get(learner=learner)
    form = TimerFinishForm(request.POST, clock_minutes=timer_minutes(timer=timer) if timer else None)
    if not form.is_valid():
        return _running(request, timer, form) if timer else _ended(request)
    finish, reflection = form.to_input()
    saved = timer_finish(
        learner=learner, timer=timer, data=finish, reflection=reflection, submission_key=form.submitted_key()
    )
    if saved is None:
        return _ended(request)
    session_saved_message(request, saved)
    if saved.already_saved:
        return redirect("session-detail", session_id=saved.session.pk)
    return redirect("home")


def _ended(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("That session has already ended."))
    return redirect("home")
