"""The metacognition self-report: the questionnaire and the profile it produces."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from learners.charts import profile_chart
from learners.forms import SelfReportForm
from learners.http import LearnerHttpRequest, learner_required
from learners.selectors.dashboard import selfreport_due, selfreport_recent
from learners.selfreport import DIMENSION_HELP, DIMENSIONS
from learners.services.selfreport import selfreport_submit


@learner_required
def selfreport(request: LearnerHttpRequest) -> HttpResponse:
    learner = request.learner
    form = SelfReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        selfreport_submit(learner=learner, answers=form.answers())
        messages.success(
            request, _("Thank you. Your profile is updated and your coach will take it into account.")
        )
        return redirect("self-report")
    reports = selfreport_recent(learner=learner)
    latest = reports[0] if reports else None
    previous = reports[1] if len(reports) > 1 else None
    chart = profile_chart(
        scores=latest.scores if latest else {},
        previous=previous.scores if previous else None,
        labels={k: str(v) for k, v in DIMENSIONS.items()},
    )
    dimensions = [
        {"name": DIMENSIONS[k], "help": DIMENSION_HELP[k], "score": latest.scores.get(k) if latest else None}
        for k in DIMENSIONS
    ]
    due = selfreport_due(latest=latest)
    context = {
        "form": form,
        "unanswered": [field for field in form if field.errors],
        "latest": latest,
        "chart": chart,
        "dimensions": dimensions,
        "due": due,
        # With a profile on file the questionnaire folds away unless it is time, or a retake failed.
        "questionnaire_open": latest is None or due or form.is_bound,
    }
    return render(request, "learners/selfreport.html", context)
