"""Importing sessions from Anki or a Metacoach CSV: upload, watch the worker read it, check, confirm."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from learners.http import LearnerHttpRequest, learner_required
from learners.import_forms import ImportUploadForm
from learners.models import ImportJob
from learners.selectors.imports import import_job_for_learner, import_jobs_recent, import_preview
from learners.services.imports import import_job_cancel, import_job_confirm, import_job_create


@learner_required
@require_http_methods(["GET", "POST"])
def import_page(request: LearnerHttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_create(
            learner=request.learner,
            kind=form.kind(),
            filename=upload.name or "",
            data=upload.read(),
            language=get_language(),
        )
        return redirect("import-job", job_id=job.pk)
    context = {"form": form, "jobs": import_jobs_recent(learner=request.learner)}
    return render(request, "account/import.html", context, status=400 if form.errors else 200)


@learner_required
@require_GET
def import_job_page(request: LearnerHttpRequest, job_id: int) -> HttpResponse:
    job = import_job_for_learner(learner=request.learner, job_id=job_id)
    preview = import_preview(job=job) if job.state == ImportJob.State.READY else None
    labels = {"unreachable": _("Progress cannot be fetched right now; retrying.")}
    return render(request, "account/import_job.html", {"job": job, "preview": preview, "labels": labels})


@learner_required
@require_GET
def import_job_status(request: LearnerHttpRequest, job_id: int) -> JsonResponse:
    job = import_job_for_learner(learner=request.learner, job_id=job_id)
    data = {
        "state": job.state,
        "state_label": job.get_state_display(),
        "progress": job.progress,
        "active": job.active,
    }
    return JsonResponse(data, headers={"Cache-Control": "no-store"})


@learner_required
@require_POST
def import_job_confirm_view(request: LearnerHttpRequest, job_id: int) -> HttpResponse:
    job = import_job_for_learner(learner=request.learner, job_id=job_id)
    if not import_job_confirm(job=job):
        messages.info(request, _("This import was already confirmed."))
    return redirect("import-job", job_id=job.pk)


@learner_required
@require_POST
def import_job_cancel_view(request: LearnerHttpRequest, job_id: int) -> HttpResponse:
    job = import_job_for_learner(learner=request.learner, job_id=job_id)
    if import_job_cancel(job=job):
        messages.success(request, _("The import was cancelled; nothing was saved."))
    else:
        messages.warning(request, _("This import is being saved and can no longer be cancelled."))
    return redirect("import")
