"""The engine page: educators see how the engine measures and start a retrain."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coach import selectors as coach_selectors
from learners import charts
from learners.http import AuthenticatedHttpRequest
from learners.permissions import educator_required
from learners.selectors.coaching import ALL_LEARNERS_MIN, MIN_ESS, coaching_rows
from learners.selectors.cohorts import cohort_list_for_educator
from learners.selectors.engine_runs import (
    COMBINED_LEARNERS,
    ENGINE_LEARNERS,
    combination_weights,
    engine_evaluation,
    engine_run_rows,
)
from learners.services.coaching import coaching_value_request
from learners.services.engine_runs import EngineRunAlreadyActive, engine_run_request


@educator_required
@require_GET
def engine_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    # The educator's own cohorts, then all learners: figures computed by the worker, read from
    # the cache, and asked for again where out of date.
    coaching = coaching_rows(cohorts=list(cohort_list_for_educator(user=request.user, include_archived=True)))
    runs = coach_selectors.engine_run_list(limit=50)
    active = next((run for run in runs if run.active), None)
    latest = next((run for run in runs if run.status == "succeeded"), None)
    context = {
        "runs": engine_run_rows(runs=runs),
        "engine_learners": ENGINE_LEARNERS,
        "evaluation": engine_evaluation(metrics=latest.metrics if latest else {}),
        "weights": combination_weights(metrics=latest.metrics if latest else {}),
        "combined_learners": COMBINED_LEARNERS,
        "active": active,
        "latest": latest,
        "chart": charts.engine_rmse_chart(metrics=latest.metrics if latest else {}),
        "progress_labels": {"unreachable": _("Progress cannot be fetched right now; retrying.")},
        "coaching": coaching,
        "coaching_queued": coaching_value_request(rows=coaching),
        "min_ess": MIN_ESS,
        "all_learners_min": ALL_LEARNERS_MIN,
    }
    return render(request, "educator/engine.html", context)


@educator_required
@require_POST
def engine_run_request_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        engine_run_request(requested_by=request.user)
    except EngineRunAlreadyActive:
        messages.warning(request, _("A retrain is already running; its progress is shown below."))
    else:
        messages.success(request, _("Retrain started."))
    return redirect("educator-engine")


@educator_required
@require_GET
def engine_run_status(request: HttpRequest, run_id: int) -> JsonResponse:
    run = coach_selectors.engine_run_get(run_id=run_id)
    # The status in the reader's language, as the runs table words it, so the two always agree.
    data = {
        "status": run.status,
        "status_label": run.get_status_display(),
        "progress": run.progress,
        "error": run.error,
        "active": run.active,
    }
    return JsonResponse(data, headers={"Cache-Control": "no-store"})
