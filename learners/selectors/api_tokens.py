"""Reads of personal access tokens: a person's own list, and the token a request presents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404

from learners.models import ApiToken

# What learners.services.api_tokens makes: a prefix that says whose token it is, then the secret.
TOKEN_PREFIX = "mc_"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Where a new token's secret waits, in the server-side session, to be shown once.
NEW_TOKEN_SESSION_KEY = "api_token_new"


@dataclass(frozen=True)
class ApiTokenSettings:
    """The settings page's token section: the tokens that work, and a new one's secret to show once."""

    tokens: list[ApiToken]
    new_secret: str


def api_token_settings(*, user: User, new_secret: str = "") -> ApiTokenSettings:
    tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
    return ApiTokenSettings(tokens=tokens, new_secret=new_secret)


def api_token_get(*, user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens; anyone else's answers 404."""
    return get_object_or_404(ApiToken, pk=token_id, user=user)


def api_token_by_secret(*, secret: str) -> ApiToken | None:
    """The token with this secret, revoked or not, with its user; None for a made-up one."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=token_hash(secret)).first()
