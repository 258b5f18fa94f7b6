"""Writes on personal access tokens for the REST API: made, used and revoked.

A token is `mc_` and 32 random bytes, URL-safe. Only its sha256 is stored: a copy of the database
opens no account. Its first characters are kept too, so the learner can tell tokens apart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from learners.models import ApiToken
from learners.selectors.api_tokens import TOKEN_PREFIX, token_hash

TOKEN_BYTES = 32
PREFIX_SHOWN = 10  # "mc_" and 7 characters of the secret
# Last use is written at most this often per token: a busy script costs one UPDATE a minute.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenMade:
    token: ApiToken
    # The whole token, to show once; it cannot be read back later.
    secret: str


def api_token_create(*, user: User, name: str, scope: str) -> TokenMade:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user=user, name=name.strip(), scope=scope, prefix=secret[:PREFIX_SHOWN], key_hash=token_hash(secret)
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
    return TokenMade(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """The token stops working at once; it stays listed as revoked, so its use can be traced."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that the token was used now, unless that was already recorded within a minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
