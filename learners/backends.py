"""Logging in with an e-mail address where a username is asked for."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    """ModelBackend's checks (password, `is_active`, permissions), the user found by e-mail.

    Listed after ModelBackend, it sees only what did not match a username. An address shared by
    two accounts (possible only for accounts older than the uniqueness check) logs in neither.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None or "@" not in username:
            return None
        users = list(get_user_model()._default_manager.filter(email__iexact=username.strip())[:2])
        if len(users) != 1:
            # Hash anyway, as ModelBackend does, so the time taken does not tell whether it exists.
            get_user_model()().set_password(password)
            return None
        user = users[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
