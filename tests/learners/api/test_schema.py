"""The API against its own OpenAPI schema (schemathesis): generated requests to every operation,
signed in once by a read-write token and once by the browser's session with its CSRF token, get
no server error and only documented statuses, content types and bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from learners.models import CohortMembership, Learner, Reflection
from learners.services.recommendations import recommendation_refresh
from tests.factories import CohortFactory, StudySessionFactory, educator
from tests.learners.api.conftest import token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Cases per operation and generation mode: the token's run explores; the session's proves that every
# operation works through the session and its CSRF check. Derandomized, so a run fails on a change
# of the code, never on a new seed. The file takes about a minute on a busy 2-core machine.
EXAMPLES = 10
SESSION_EXAMPLES = 5


def api_schema() -> Any:
    """The schema as /api/v1/schema/ serves it, built without a request (no database needed)."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(spec, cls=DjangoJSONEncoder)))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    return schema


@pytest.fixture
def app(db: None) -> Iterator[WSGIHandler]:
    # As Django's test client does: a request's end must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owned(alice: Learner) -> dict[str, int | str]:
    """Ids of alice's objects, and of a cohort of hers (she teaches too) that she is in: generated
    ids mostly name nothing (404), so about half the cases are pointed at these."""
    session = StudySessionFactory(learner=alice, notes="n")
    Reflection.objects.create(session=session, plan="p")
    recommendation = recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    educator("alice")  # the same user, now in the Educators group
    cohort = CohortFactory(owner=alice.user)
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    return {
        "session_id": session.pk,
        "recommendation_id": recommendation.pk,
        "cohort_id": cohort.pk,
        "learner_id": alice.pk,
        "slug": "practice-testing",
    }


def point_at_real_objects(case: Any, owned: dict[str, int | str]) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        if name in owned and hash(str(value)) % 2 == 0:
            case.path_parameters[name] = owned[name]


schema = api_schema()
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=HEALTH, derandomize=True)
def test_the_api_keeps_its_schema_for_a_read_write_token(
    case: Any, app: WSGIHandler, alice: Learner, owned: dict[str, Any]
) -> None:
    point_at_real_objects(case, owned)
    headers = {"Authorization": f"Bearer {token_for(alice.user)}"}
    case.call_and_validate(headers=headers, checks=CHECKS, app=app)


@pytest.fixture
def browser_session(alice: Learner) -> dict[str, str]:
    client = Client()
    client.force_login(alice.user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": _get_new_csrf_string()}


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=SESSION_EXAMPLES, deadline=None, suppress_health_check=HEALTH, derandomize=True)
def test_the_api_keeps_its_schema_for_the_browsers_session(
    case: Any, app: WSGIHandler, owned: dict[str, Any], browser_session: dict[str, str]
) -> None:
    point_at_real_objects(case, owned)
    headers = {"X-CSRFToken": browser_session["csrftoken"]}
    case.call_and_validate(headers=headers, cookies=browser_session, checks=CHECKS, app=app)


def test_the_schema_validates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
