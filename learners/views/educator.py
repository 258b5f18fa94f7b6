"""The educator panel. Every cohort, member and export goes through learners.permissions first."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from learners import charts
from learners.educator_forms import (
    CohortForm,
    CohortPolicyForm,
    CoTeacherForm,
    JoinCodeForm,
    MemberSearchForm,
)
from learners.http import CSV, AuthenticatedHttpRequest, file_download
from learners.models import Cohort
from learners.permissions import (
    cohort_for_educator,
    cohort_for_owner,
    educator_required,
    membership_for_educator,
)
from learners.selectors import cohorts as selectors
from learners.selectors.dashboard import dashboard_data
from learners.selectors.export import COHORT_TABLES
from learners.services import cohorts as services
from learners.services.export import csv_stream

MEMBERS_PER_PAGE = 25


@educator_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = services.cohort_create(owner=request.user, name=form.cleaned_data["name"])
        messages.success(request, _("Cohort created. Share its join code with your learners."))
        return redirect("educator-cohort", cohort_id=cohort.pk)
    show_archived = request.GET.get("archived") == "1"
    cohorts = selectors.cohort_list_for_educator(user=request.user, include_archived=show_archived)
    return render(
        request, "educator/home.html", {"form": form, "cohorts": cohorts, "show_archived": show_archived}
    )


@educator_required
@require_GET
def cohort_detail(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
    # The overview and its charts are kept until a member's data changes: the template caches
    # them under this key and builds the charts only when it has no copy.
    key = selectors.cohort_overview_key(cohort=cohort)
    overview = selectors.cohort_overview_cached(cohort=cohort, key=key)
    search = MemberSearchForm(request.GET)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    sort = search.cleaned_data.get("sort", "") if search.is_valid() else ""
    page_number = request.GET.get("page", "")
    # Built only when the template has no copy of this page of the table for the day.
    page = SimpleLazyObject(
        lambda: Paginator(
            selectors.member_table(cohort=cohort, search=query, sort=sort or "name"), MEMBERS_PER_PAGE
        ).get_page(page_number)
    )
    context = {
        "cohort": cohort,
        "overview": overview,
        "overview_key": key,
        "overview_seconds": selectors.OVERVIEW_SECONDS,
        "charts": SimpleLazyObject(lambda: _overview_charts(overview)),
        "page": page,
        "members_key": selectors.member_table_key(
            overview_key=key, search=query, sort=sort, page=page_number
        ),
        "query": query,
        "sort": sort or "name",
        "is_owner": cohort.owner_id == request.user.pk,
        "join_url": request.build_absolute_uri(reverse("join-code", args=[cohort.join_code]))
        if cohort.join_code
        else "",
        "export_kinds": list(COHORT_TABLES),
    }
    return render(request, "educator/cohort.html", context)


def _overview_charts(overview: selectors.CohortOverview) -> list[charts.Chart]:
    return [
        charts.cohort_active_chart(weeks=overview.weeks, active=overview.active_learners),
        charts.cohort_minutes_chart(weeks=overview.weeks, minutes=overview.minutes_per_learner),
        charts.cohort_strategy_mix_chart(
            weeks=overview.weeks, mix=overview.strategy_mix, utility=overview.strategy_utility
        ),
        charts.cohort_score_chart(estimates=list(overview.score_by_strategy)),
        charts.cohort_bias_chart(biases=overview.biases),
        charts.cohort_follow_chart(follow=overview.follow_through, after=list(overview.score_after)),
        charts.cohort_after_chart(after=list(overview.score_after)),
    ]


@educator_required
def cohort_settings(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    form = CohortForm(request.POST or None, instance=cohort)
    if request.method == "POST" and form.is_valid():
        services.cohort_rename(cohort=cohort, name=form.cleaned_data["name"])
        messages.success(request, _("Cohort renamed."))
        return redirect("educator-cohort-settings", cohort_id=cohort.pk)
    return _settings_page(request, cohort, form=form)


@educator_required
@require_POST
def cohort_policy(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    form = CohortPolicyForm(request.POST, instance=cohort)
    if not form.is_valid():
        return _settings_page(request, cohort, policy_form=form)
    services.cohort_policy_set(
        cohort=cohort, rule=form.cleaned_data["policy_rule"], max_cost=form.cleaned_data["policy_max_cost"]
    )
    messages.success(request, _("Recommendation rule saved; members get it with their next recommendation."))
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


def _settings_page(
    request: AuthenticatedHttpRequest,
    cohort: Cohort,
    *,
    form: CohortForm | None = None,
    policy_form: CohortPolicyForm | None = None,
) -> HttpResponse:
    context = {
        "cohort": cohort,
        "form": form or CohortForm(instance=cohort),
        "policy_form": policy_form or CohortPolicyForm(instance=cohort),
        "co_teacher_form": CoTeacherForm(),
        "join_code_form": JoinCodeForm(),
        "co_teachers": cohort.co_teachers.order_by("username"),
    }
    invalid = (form is not None and form.errors) or (policy_form is not None and policy_form.errors)
    return render(request, "educator/cohort_settings.html", context, status=400 if invalid else 200)


@educator_required
@require_POST
def cohort_archive(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    archive = request.POST.get("archived") == "1"
    services.cohort_set_archived(cohort=cohort, archived=archive)
    messages.success(request, _("Cohort archived.") if archive else _("Cohort restored."))
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


@educator_required
@require_POST
def co_teacher_add(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    form = CoTeacherForm(request.POST)
    if form.is_valid():
        try:
            user = services.cohort_add_co_teacher(cohort=cohort, username=form.cleaned_data["username"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s now co-teaches this cohort.") % {"name": user.username})
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


@educator_required
@require_POST
def co_teacher_remove(request: AuthenticatedHttpRequest, cohort_id: int, user_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    services.cohort_remove_co_teacher(cohort=cohort, user_id=user_id)
    messages.success(request, _("Co-teacher removed."))
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


@educator_required
@require_POST
def join_code_renew(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    form = JoinCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        try:
            services.join_code_renew(cohort=cohort, expires_at=form.expires_at())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("New join code made; the old one no longer works."))
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


@educator_required
@require_POST
def join_code_revoke(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_for_owner(user=request.user, cohort_id=cohort_id)
    services.join_code_revoke(cohort=cohort)
    messages.success(request, _("Join code revoked; nobody can join until you make a new one."))
    return redirect("educator-cohort-settings", cohort_id=cohort.pk)


@educator_required
@require_GET
def member_detail(request: AuthenticatedHttpRequest, cohort_id: int, learner_id: int) -> HttpResponse:
    cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
    membership = membership_for_educator(cohort=cohort, learner_id=learner_id)
    data = dashboard_data(learner=membership.learner)
    context = {
        "cohort": cohort,
        "membership": membership,
        "member": membership.learner,
        "charts": charts.dashboard_charts(data, charts.EDUCATOR),
        "reflections": selectors.member_reflections(membership=membership),
    }
    return render(request, "educator/member.html", context)


@educator_required
@require_GET
def cohort_export(request: AuthenticatedHttpRequest, cohort_id: int, kind: str) -> StreamingHttpResponse:
    cohort = cohort_for_educator(user=request.user, cohort_id=cohort_id)
    select = COHORT_TABLES.get(kind)
    if select is None:
        raise Http404
    return file_download(
        csv_stream(select(cohort=cohort)), filename=f"cohort-{cohort.pk}-{kind}.csv", content_type=CSV
    )
