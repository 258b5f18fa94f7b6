"""A learner's subjects: goals per subject (minutes a week, an exam date), renaming and merging."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from learners.forms import GoalForm, SubjectRenameForm
from learners.http import LearnerHttpRequest, learner_required
from learners.plan_forms import PlanAcceptForm
from learners.selectors.goals import goal_progress
from learners.selectors.plan import plan_upcoming
from learners.selectors.sessions import learner_subjects
from learners.services.goals import goal_delete, goal_save, subject_rename


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
    subjects = learner_subjects(learner=request.learner)
    context = {
        "form": form,
        "goals": goal_progress(learner=request.learner),
        "subject_suggestions": subjects,
        "rename_form": SubjectRenameForm(subjects=subjects),
        "plan_form": PlanAcceptForm(initial={"subject": subjects[0] if subjects else ""}),
        "planned": plan_upcoming(learner=request.learner),
    }
    return render(request, "account/goals.html", context)


@learner_required
@require_POST
def goal_remove(request: LearnerHttpRequest, goal_id: int) -> HttpResponse:
    if goal_delete(learner=request.learner, goal_id=goal_id):
        messages.success(request, _("The goal is removed."))
    return redirect("goals")


@learner_required
@require_POST
def subject_rename_view(request: LearnerHttpRequest) -> HttpResponse:
    form = SubjectRenameForm(request.POST, subjects=learner_subjects(learner=request.learner))
    if form.is_valid():
        old, new = form.cleaned_data["old"], form.cleaned_data["new"]
        moved = subject_rename(learner=request.learner, old=old, new=new)
        text = ngettext(
            "%(count)d session of %(old)s is now in %(new)s.",
            "%(count)d sessions of %(old)s are now in %(new)s.",
            moved,
        )
        messages.success(request, text % {"count": moved, "old": old, "new": new.strip()})
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("goals")
