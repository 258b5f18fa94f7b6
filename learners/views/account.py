"""A learner's own settings: cohorts they belong to, joining one, exporting and deleting their data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from learners.api_token_forms import ApiTokenForm
from learners.educator_forms import AccountDeleteForm, JoinForm, SharingForm
from learners.forms import TimezoneForm
from learners.http import (
    CSV,
    JSON,
    AuthenticatedHttpRequest,
    LearnerHttpRequest,
    file_download,
    learner_required,
)
from learners.permissions import membership_for_learner
from learners.plan_forms import ReminderForm
from learners.selectors.api_tokens import NEW_TOKEN_SESSION_KEY, api_token_settings
from learners.selectors.cohorts import learner_memberships
from learners.selectors.export import LEARNER_TABLES
from learners.selectors.imports import import_jobs_recent
from learners.selectors.xapi import xapi_section
from learners.services import cohorts as services
from learners.services.account import account_delete, learner_set_timezone
from learners.services.calendar import calendar_token_renew, calendar_token_revoke
from learners.services.export import csv_stream, learner_json_stream
from learners.services.reminders import reminder_settings_save
from learners.throttle import (
    client_address,
    join_code_blocked,
    join_code_blocked_message,
    join_code_failure_record,
)


@learner_required
@require_GET
def settings_page(request: LearnerHttpRequest) -> HttpResponse:
    learner = request.learner
    tokens = api_token_settings(user=request.user, new_secret=request.session.pop(NEW_TOKEN_SESSION_KEY, ""))
    context = {
        "memberships": learner_memberships(learner=learner),
        "join_form": JoinForm(),
        "export_kinds": list(LEARNER_TABLES),
        "import_jobs": import_jobs_recent(learner=learner),
        "email_confirmed": learner.email_verified_at is not None,
        "timezone_form": TimezoneForm(initial={"timezone": learner.timezone}, current=learner.timezone),
        "reminder_form": ReminderForm(
            initial={"reminder_enabled": learner.reminder_enabled, "reminder_time": learner.reminder_time}
        ),
        "calendar_url": request.build_absolute_uri(reverse("calendar-feed", args=[learner.calendar_token]))
        if learner.calendar_token
        else "",
        "xapi": xapi_section(learner=learner),
        "api_tokens": tokens,
        "api_token_form": ApiTokenForm(),
    }
    response = render(request, "account/settings.html", context)
    if tokens.new_secret:
        add_never_cache_headers(response)  # a new token's secret must not stay in a cache
    return response


@learner_required
@require_POST
def reminder_update(request: LearnerHttpRequest) -> HttpResponse:
    form = ReminderForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(f"{reverse('account-settings')}#reminder-title")
    learner = reminder_settings_save(
        learner=request.learner,
        enabled=form.cleaned_data["reminder_enabled"],
        at=form.cleaned_data["reminder_time"],
    )
    if learner.reminder_enabled:
        at = time_format(learner.reminder_time, "TIME_FORMAT")
        messages.success(request, _("You will get a reminder each day at %(time)s.") % {"time": at})
    else:
        messages.success(request, _("Daily reminders are off."))
    return redirect(f"{reverse('account-settings')}#reminder-title")


@learner_required
@require_POST
def calendar_renew(request: LearnerHttpRequest) -> HttpResponse:
    had_one = bool(request.learner.calendar_token)
    calendar_token_renew(learner=request.learner)
    if had_one:
        messages.success(request, _("Your calendar has a new address; the old one no longer works."))
    else:
        messages.success(request, _("Your calendar feed is ready. Add its address to your calendar app."))
    return redirect(f"{reverse('account-settings')}#calendar-title")


@learner_required
@require_POST
def calendar_revoke(request: LearnerHttpRequest) -> HttpResponse:
    calendar_token_revoke(learner=request.learner)
    messages.success(request, _("Your calendar feed is turned off; its address no longer works."))
    return redirect(f"{reverse('account-settings')}#calendar-title")


@learner_required
@require_POST
def timezone_update(request: LearnerHttpRequest) -> HttpResponse:
    form = TimezoneForm(request.POST, current=request.learner.timezone)
    if form.is_valid():
        learner_set_timezone(learner=request.learner, name=form.cleaned_data["timezone"])
        messages.success(request, _("Your time zone is now %(zone)s.") % {"zone": request.learner.timezone})
    else:
        messages.error(request, " ".join(str(e) for e in form.errors["timezone"]))
    return redirect("account-settings")


@learner_required
def join(request: LearnerHttpRequest, code: str = "") -> HttpResponse:
    """Joining a cohort: the learner sees who will see their data before saying yes."""
    form = JoinForm(request.POST or None, initial={"code": code})
    cohort, problem = None, ""
    lookup = request.POST.get("code", "") if request.method == "POST" else code
    user_id, address = request.user.pk, client_address(request)
    if lookup and join_code_blocked(user_id=user_id, address=address):
        context = {"form": form, "cohort": None, "problem": join_code_blocked_message()}
        return render(request, "account/join.html", context, status=429)
    if lookup:
        try:
            cohort = services.cohort_by_code(code=lookup)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
            join_code_failure_record(user_id=user_id, address=address)
    if request.method == "POST" and form.is_valid():
        if cohort is None:
            form.add_error("code", problem)
        else:
            membership = services.cohort_join(
                learner=request.learner,
                code=form.cleaned_data["code"],
                share_reflections=form.cleaned_data["share_reflections"],
            )
            messages.success(request, _("You joined %(cohort)s.") % {"cohort": membership.cohort.name})
            return redirect("account-settings")
        problem = ""  # shown on the field instead
    return render(request, "account/join.html", {"form": form, "cohort": cohort, "problem": problem})


@login_required
@require_POST
def membership_sharing(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    membership = membership_for_learner(user=request.user, cohort_id=cohort_id)
    form = SharingForm(request.POST)
    if form.is_valid():
        services.membership_set_sharing(
            membership=membership, share_reflections=form.cleaned_data["share_reflections"]
        )
        if form.cleaned_data["share_reflections"]:
            text = _("Your educators in %(cohort)s can now read your session notes and reflections.")
        else:
            text = _("Your session notes and reflections are no longer shared with %(cohort)s.")
        messages.success(request, text % {"cohort": membership.cohort.name})
    return redirect("account-settings")


@login_required
@require_POST
def membership_leave(request: AuthenticatedHttpRequest, cohort_id: int) -> HttpResponse:
    membership = membership_for_learner(user=request.user, cohort_id=cohort_id)
    name = membership.cohort.name
    services.cohort_leave(membership=membership)
    messages.success(request, _("You left %(cohort)s.") % {"cohort": name})
    return redirect("account-settings")


@learner_required
@require_GET
def export_csv(request: LearnerHttpRequest, kind: str) -> StreamingHttpResponse:
    select = LEARNER_TABLES.get(kind)
    if select is None:
        raise Http404
    stream = csv_stream(select(learner=request.learner))
    day = timezone.localdate().isoformat()
    return file_download(stream, filename=f"metacoach-{kind}-{day}.csv", content_type=CSV)


@learner_required
@require_GET
def export_json(request: LearnerHttpRequest) -> StreamingHttpResponse:
    stream = learner_json_stream(learner=request.learner)
    day = timezone.localdate().isoformat()
    return file_download(stream, filename=f"metacoach-{day}.json", content_type=JSON)


@login_required
def delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        account_delete(user=user)
        messages.success(request, _("Your account and all your data are deleted."))
        return redirect("login")
    return render(request, "account/delete.html", {"form": form})
