"""One error format for every API error, whatever raised it:

    {"error": {"status": 404, "code": "not_found", "message": "Not found.", "fields": {}}}

`fields` names what was wrong with each field of a request that failed validation ("minutes",
"reflection.plan"; "non_field_errors" for the request as a whole), and is empty otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler, set_rollback

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(
        help_text="What went wrong, for programs: invalid, not_authenticated, authentication_failed, "
        "permission_denied, not_found, method_not_allowed, throttled, server_error, …"
    )
    message = serializers.CharField(help_text="What went wrong, for people, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The problems with each field of the request, when it failed validation.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_body(*, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details as one level: {"reflection": {"plan": [m]}} -> {"reflection.plan": [m]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = NON_FIELD if key in (NON_FIELD, "__all__") else str(key)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    messages = [str(item) for item in items if not isinstance(item, dict | list)]
    flat = {prefix or NON_FIELD: messages} if messages else {}
    for index, item in enumerate(items):
        if isinstance(item, dict | list):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    return flat


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler (status, headers such as WWW-Authenticate and Retry-After), then our format;
    an exception nobody expected is logged and answered 500 in the same format."""
    if isinstance(exc, DjangoValidationError):
        # A service's full_clean() found what the serializer let through.
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in the API", exc_info=exc)
        set_rollback()
        message = _("Something went wrong on our side. Please try again later.")
        return Response(error_body(status=500, code="server_error", message=message), status=500)
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            status=response.status_code,
            code="invalid",
            message=_("The request has errors: see the fields."),
            fields=_flatten(exc.detail),
        )
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = error_body(status=response.status_code, code=str(code), message=str(detail))
    response.data = body
    return response


class NotFoundView(APIView):
    """Any other address under the API: a 404 in the API's format, not the site's HTML page."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []
    schema = None

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound()
