"""Who may call what: token scopes, and the educator group for the cohort endpoints.

Objects are looked up through learners.selectors and learners.permissions, which answer 404 for
anything the caller may not see; these classes only refuse whole kinds of requests, with 403.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from learners.models import ApiToken
from learners.permissions import is_educator


class TokenScope(permissions.BasePermission):
    """A read token reads only; a read-write token, like the browser's session, may also write."""

    message = _("This token may only read. Make a read-write token in Settings to change data.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not isinstance(token, ApiToken) or token.scope == ApiToken.Scope.WRITE


class IsEducator(permissions.BasePermission):
    message = _("Only educators can read cohorts.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_educator(request.user)
