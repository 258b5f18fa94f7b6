"""A learner's own settings: cohorts they belong to, joining one, exporting and deleting their data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from learners.educator_forms import AccountDeleteForm, JoinForm, SharingForm
from learners.models import Learner
from learners.permissions import membership_for_learner
from learners.selectors.cohorts import learner_memberships
from learners.selectors.export import LEARNER_TABLES
from learners.services import cohorts as services
from learners.services.account import account_delete
from learners.services.export import csv_stream, learner_json_stream
from learners.services.sessions import learner_ensure


def _learner(request: HttpRequest) -> Learner:
    return learner_ensure(user=request.user)  # type: ignore[arg-type]


def _attachment(response: StreamingHttpResponse, name: str) -> StreamingHttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    context = {
        "memberships": learner_memberships(learner=learner),
        "join_form": JoinForm(),
        "export_kinds": list(LEARNER_TABLES),
    }
    return render(request, "account/settings.html", context)


@login_required
def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Joining a cohort: the learner sees who will see their data before saying yes."""
    form = JoinForm(request.POST or None, initial={"code": code})
    cohort, problem = None, ""
    lookup = request.POST.get("code", "") if request.method == "POST" else code
    if lookup:
        try:
            cohort = services.cohort_by_code(code=lookup)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    if request.method == "POST" and form.is_valid():
        if cohort is None:
            form.add_error("code", problem)
        else:
            membership = services.cohort_join(
                learner=_learner(request),
                code=form.cleaned_data["code"],
                share_reflections=form.cleaned_data["share_reflections"],
            )
            messages.success(request, _("You joined %(cohort)s.") % {"cohort": membership.cohort.name})
            return redirect("account-settings")
        problem = ""  # shown on the field instead
    return render(request, "account/join.html", {"form": form, "cohort": cohort, "problem": problem})


@login_required
@require_POST
def membership_sharing(request: HttpRequest, cohort_id: int) -> HttpResponse:
    membership = membership_for_learner(user=request.user, cohort_id=cohort_id)  # type: ignore[arg-type]
    form = SharingForm(request.POST)
    if form.is_valid():
        services.membership_set_sharing(
            membership=membership, share_reflections=form.cleaned_data["share_reflections"]
        )
        if form.cleaned_data["share_reflections"]:
            text = _("Your educators in %(cohort)s can now read your reflections.")
        else:
            text = _("Your reflections are no longer shared with %(cohort)s.")
        messages.success(request, text % {"cohort": membership.cohort.name})
    return redirect("account-settings")


@login_required
@require_POST
def membership_leave(request: HttpRequest, cohort_id: int) -> HttpResponse:
    membership = membership_for_learner(user=request.user, cohort_id=cohort_id)  # type: ignore[arg-type]
    name = membership.cohort.name
    services.cohort_leave(membership=membership)
    messages.success(request, _("You left %(cohort)s.") % {"cohort": name})
    return redirect("account-settings")


@login_required
@require_GET
def export_csv(request: HttpRequest, kind: str) -> StreamingHttpResponse:
    select = LEARNER_TABLES.get(kind)
    if select is None:
        raise Http404
    stream = csv_stream(select(learner=_learner(request)))
    day = timezone.localdate().isoformat()
    return _attachment(
        StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8"), f"metacoach-{kind}-{day}.csv"
    )


@login_required
@require_GET
def export_json(request: HttpRequest) -> StreamingHttpResponse:
    stream = learner_json_stream(learner=_learner(request))
    day = timezone.localdate().isoformat()
    return _attachment(
        StreamingHttpResponse(stream, content_type="application/json"), f"metacoach-{day}.json"
    )


@login_required
def delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        account_delete(user=user)  # type: ignore[arg-type]
        messages.success(request, _("Your account and all your data are deleted."))
        return redirect("login")
    return render(request, "account/delete.html", {"form": form})
