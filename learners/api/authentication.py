"""Personal access tokens in the `Authorization` header: `Bearer <token>` or `Token <token>`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from learners.models import ApiToken
from learners.selectors.api_tokens import api_token_by_secret
from learners.services.api_tokens import api_token_touch

KEYWORDS = ("bearer", "token")


class TokenAuthentication(authentication.BaseAuthentication):
    """`request.auth` is the ApiToken; revoked, unknown or malformed tokens answer 401."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None  # another scheme, or none: the session may still authenticate
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Bearer <token>”."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from exc
        token = api_token_by_secret(secret=secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests with no credentials at all.
        return 'Bearer realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal access token made in Settings, API tokens: `Authorization: Bearer <token>` "
                "(or `Token <token>`). A read token may only read; a read-write token may also write."
            ),
        }
