"""xAPI: the statements as downloads (a learner's own, a cohort's for its educators) and the pages
that document our extension IRIs, which resolve here."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from learners.http import JSON, AuthenticatedHttpRequest, LearnerHttpRequest, file_download, learner_required
from learners.permissions import cohort_for_educator, educator_required
from learners.selectors.xapi import base_url, cohort_statements, learner_statements
from learners.services.xapi import statements_json_stream
from learners.xapi import vocabulary


@learner_required
@require_GET
def export_learner(request: LearnerHttpRequest) -> StreamingHttpResponse:
    stream = statements_json_stream(learner_statements(learner=request.learner))
    day = timezone.localdate().isoformat()
    return file_download(stream, filename=f"metacoach-xapi-{day}.json", content_type=JSON)


@educator_required
@require_GET
def export_cohort(request: AuthenticatedHttpRequest, cohort_id: int) -> StreamingHttpResponse:
    cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
    stream = statements_json_stream(cohort_statements(cohort=cohort))
    return file_download(stream, filename=f"cohort-{cohort.pk}-xapi.json", content_type=JSON)


def _page(request: HttpRequest, extensions: list[vocabulary.Extension]) -> HttpResponse:
    base = base_url()
    context = {
        "base_url": base,
        "extensions": [(vocabulary.extension_iri(base, e.name), e) for e in extensions],
        "verbs": [vocabulary.COMPLETED, vocabulary.COMMENTED, vocabulary.VOIDED],
        "version": vocabulary.XAPI_VERSION,
        "single": len(extensions) == 1,
    }
    return render(request, "xapi/vocabulary.html", context)


@require_GET
def vocabulary_page(request: HttpRequest) -> HttpResponse:
    return _page(request, list(vocabulary.EXTENSIONS.values()))


@require_GET
def extension_page(request: HttpRequest, name: str) -> HttpResponse:
    """What an extension IRI of ours means: the IRI itself resolves to this page."""
    extension = vocabulary.EXTENSIONS.get(name)
    if extension is None:
        raise Http404
    return _page(request, [extension])
