"""A learner's goals per subject: minutes a week and an exam date."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learners.forms import GoalForm
from learners.http import LearnerHttpRequest, learner_required
from learners.selectors.goals import goal_progress
from learners.selectors.sessions import learner_subjects
from learners.services.goals import goal_delete, goal_save


@learner_required
def goals(request: LearnerHttpRequest) -> HttpResponse:
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            goal = goal_save(learner=request.learner, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your goal for %(subject)s is saved.") % {"subject": goal.subject})
            return redirect("goals")
    context = {
        "form": form,
        "goals": goal_progress(learner=request.learner),
        "subject_suggestions": learner_subjects(learner=request.learner),
    }
    return render(request, "account/goals.html", context)


@learner_required
@require_POST
def goal_remove(request: LearnerHttpRequest, goal_id: int) -> HttpResponse:
    if goal_delete(learner=request.learner, goal_id=goal_id):
        messages.success(request, _("The goal is removed."))
    return redirect("goals")
