"""Writes on a learner's private calendar feed: the secret in its address, made, renewed or revoked."""

from __future__ import annotations

import secrets

from learners.models import Learner

# 32 random bytes, URL-safe: 43 characters that nobody guesses.
TOKEN_BYTES = 32


def calendar_token_renew(*, learner: Learner) -> str:
    """A new secret address for the feed; the previous one stops working at once."""
    learner.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    learner.save(update_fields=["calendar_token"])
    return learner.calendar_token


def calendar_token_revoke(*, learner: Learner) -> None:
    """No feed at all until a new address is made."""
    learner.calendar_token = None
    learner.save(update_fields=["calendar_token"])
