"""The OpenAPI schema (drf-spectacular): every operation documents the error format for each
status it may answer with, besides its own success responses."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from learners.api.errors import ErrorSerializer

ERRORS = {
    "400": "The request failed validation; `fields` says what to change.",
    "401": "No credentials, or a token that is unknown or revoked.",
    "403": "A read token on a write, a missing CSRF token with the browser's session, or a page only "
    "educators may read.",
    "404": "No such object among those the caller may see.",
    "405": "The method is not allowed here.",
    "406": "The Accept header asks for something other than JSON.",
    "415": "The body is not JSON.",
    "429": "Too many requests: wait the seconds in Retry-After.",
    "500": "Something went wrong on the server.",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, description in ERRORS.items():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    ErrorSerializer, status, direction=direction
                ) | {"description": description}
        return responses
