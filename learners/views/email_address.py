"""Confirming and changing an e-mail address, and asking for a password reset link."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from learners.forms import EmailChangeForm, PasswordResetRequestForm
from learners.http import LearnerHttpRequest, learner_required
from learners.services.email_address import (
    email_change,
    email_verification_request,
    email_verify,
    password_reset_request,
)


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the mail; it needs no login, since the mail may be opened on another device."""
    try:
        learner = email_verify(token=token)
    except ValidationError as exc:
        return render(request, "account/email_verify.html", {"problem": " ".join(exc.messages)}, status=400)
    return render(request, "account/email_verify.html", {"email": learner.user.email})


@learner_required
@require_POST
def resend(request: LearnerHttpRequest) -> HttpResponse:
    if request.user.email and request.learner.email_verified_at is None:
        email_verification_request(user_id=request.user.pk, base_url=_base_url(request), language=_language())
        messages.success(request, _("We sent a new link to %(email)s.") % {"email": request.user.email})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return redirect(back or "account-settings")


@learner_required
def change(request: LearnerHttpRequest) -> HttpResponse:
    form = EmailChangeForm(
        request.POST or None, user_id=request.user.pk, initial={"email": request.user.email}
    )
    if request.method == "POST" and form.is_valid():
        if email_change(
            learner=request.learner,
            email=form.cleaned_data["email"],
            base_url=_base_url(request),
            language=_language(),
        ):
            text = _("Your e-mail address is now %(email)s. Open the link we sent there to confirm it.")
            messages.success(request, text % {"email": request.user.email})
        return redirect("account-settings")
    return render(request, "account/email_change.html", {"form": form})


def password_reset(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not an account has the address, so addresses cannot be probed."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(
            email=form.cleaned_data["email"], base_url=_base_url(request), language=_language()
        )
        return redirect("password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _language() -> str:
    return translation.get_language() or "en"
