"""Personal access tokens for the REST API, made and revoked on the settings page only: a token
cannot make or revoke tokens (these are pages behind the browser's session, not API views)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learners.api_token_forms import ApiTokenForm
from learners.http import LearnerHttpRequest, learner_required
from learners.selectors.api_tokens import NEW_TOKEN_SESSION_KEY, api_token_get
from learners.services.api_tokens import api_token_create, api_token_revoke


def _back() -> HttpResponse:
    return redirect(f"{reverse('account-settings')}#api-tokens-title")


@learner_required
@require_POST
def api_token_create_view(request: LearnerHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back()
    made = api_token_create(
        user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
    )
    # Shown once, on the next settings page, then gone from the session: only its hash is kept.
    request.session[NEW_TOKEN_SESSION_KEY] = made.secret
    return _back()


@learner_required
@require_POST
def api_token_revoke_view(request: LearnerHttpRequest, token_id: int) -> HttpResponse:
    token = api_token_revoke(token=api_token_get(user=request.user, token_id=token_id))
    messages.success(
        request, _("The token “%(name)s” is revoked; it no longer works.") % {"name": token.name}
    )
    return _back()
