"""Callers of the API: alice and bob by token (read-write unless said), dana as an educator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from learners.models import ApiToken, Learner
from learners.services.api_tokens import api_token_create


class Api:
    """A test client that sends a token and JSON."""

    def __init__(self, secret: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def request(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        call = getattr(self.client, method)
        if method in ("get", "head") or (data is None and method == "delete"):
            return call(path, data, headers={**self.headers, **extra.pop("headers", {})}, **extra)
        return call(
            path, data, content_type="application/json", headers={**self.headers, **extra.pop("headers", {})}
        )

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("get", path, data, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("post", path, data if data is not None else {}, **extra)

    def put(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("put", path, data if data is not None else {}, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("patch", path, data if data is not None else {}, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.request("delete", path, None, **extra)


def token_for(user: User, scope: str = ApiToken.Scope.WRITE) -> str:
    return api_token_create(user=user, name=f"{user.username} {scope}", scope=scope).secret


@pytest.fixture
def make_api() -> Callable[..., Api]:
    return Api


@pytest.fixture
def alice_api(alice: Learner) -> Api:
    return Api(token_for(alice.user))


@pytest.fixture
def alice_read_api(alice: Learner) -> Api:
    return Api(token_for(alice.user, ApiToken.Scope.READ))


@pytest.fixture
def bob_api(bob: Learner) -> Api:
    return Api(token_for(bob.user))


@pytest.fixture
def dana_api(dana: User) -> Api:
    return Api(token_for(dana))


@pytest.fixture
def charlie_api(charlie: User) -> Api:
    return Api(token_for(charlie))


@pytest.fixture
def anonymous_api(db: None) -> Api:
    return Api()
