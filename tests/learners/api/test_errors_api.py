"""One error format for every error, a request budget per token, and lists whose query count
does not grow with their rows."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from learners.models import Cohort, CohortMembership, Learner, Reflection, SelfReport
from learners.selfreport import ITEMS
from tests.factories import LearnerFactory, StudySessionFactory
from tests.learners.api.conftest import Api, token_for

pytestmark = pytest.mark.django_db


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["message"] and isinstance(error["fields"], dict)


def test_an_unknown_address_under_the_api_answers_404_in_its_format(alice_api: Api) -> None:
    assert_error(alice_api.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(alice_api.get("/api/v1/sessions"), 404, "not_found")


def test_a_method_not_allowed_answers_405(alice_api: Api) -> None:
    assert_error(alice_api.delete("/api/v1/strategies/"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_answers_415_or_400(alice_api: Api) -> None:
    response = alice_api.client.post(
        "/api/v1/sessions/",
        "subject=x",
        content_type="application/x-www-form-urlencoded",
        headers=alice_api.headers,
    )
    assert_error(response, 415, "unsupported_media_type")
    broken = alice_api.client.post(
        "/api/v1/sessions/", "{", content_type="application/json", headers=alice_api.headers
    )
    assert_error(broken, 400, "parse_error")


def test_an_unexpected_failure_answers_500_in_the_format(alice_api: Api) -> None:
    with mock.patch("learners.api.views.learner.strategy_list", side_effect=RuntimeError("boom")):
        response = alice_api.get("/api/v1/strategies/")
    assert_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()


def test_each_token_has_its_own_request_budget(alice: Learner) -> None:
    first, second = Api(token_for(alice.user)), Api(token_for(alice.user))
    rates = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/minute"}}
    with override_settings(REST_FRAMEWORK=rates):
        assert first.get("/api/v1/strategies/").status_code == 200
        assert first.get("/api/v1/strategies/").status_code == 200
        refused = first.get("/api/v1/strategies/")
        assert_error(refused, 429, "throttled")
        assert int(refused["Retry-After"]) > 0
        assert second.get("/api/v1/strategies/").status_code == 200


def test_the_session_list_costs_the_same_queries_for_more_rows(alice_api: Api, alice: Learner) -> None:
    StudySessionFactory(learner=alice)
    before = count_queries(alice_api, "/api/v1/sessions/")
    for session in StudySessionFactory.create_batch(12, learner=alice):
        Reflection.objects.create(session=session, plan="p")
    assert count_queries(alice_api, "/api/v1/sessions/") == before


def count_queries(api: Api, path: str) -> int:
    """The queries of a second call: the first also records the token's last use."""
    api.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
        assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize("path", ["/api/v1/reflections/", "/api/v1/self-reports/", "/api/v1/strategies/"])
def test_a_learners_lists_cost_the_same_queries_for_more_rows(
    alice_api: Api, alice: Learner, path: str
) -> None:
    def add(n: int) -> None:
        for session in StudySessionFactory.create_batch(n, learner=alice):
            Reflection.objects.create(session=session, plan="p")
        for _ in range(n):
            SelfReport.objects.create(learner=alice, answers={i.key: 3 for i in ITEMS}, scores={})

    add(1)
    before = count_queries(alice_api, path)
    add(10)
    assert count_queries(alice_api, path) == before


def test_the_educators_lists_cost_the_same_queries_for_more_rows(
    dana_api: Api, cohort: Cohort, alice: Learner
) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    paths = [
        "/api/v1/cohorts/",
        f"/api/v1/cohorts/{cohort.pk}/members/",
        f"/api/v1/cohorts/{cohort.pk}/members/{alice.pk}/sessions/",
        f"/api/v1/cohorts/{cohort.pk}/members/{alice.pk}/reflections/",
    ]
    for session in StudySessionFactory.create_batch(2, learner=alice):
        Reflection.objects.create(session=session, plan="p")
    before = [count_queries(dana_api, path) for path in paths]
    for _ in range(8):
        member = LearnerFactory()
        CohortMembership.objects.create(cohort=cohort, learner=member)
        Reflection.objects.create(session=StudySessionFactory(learner=alice), plan="p")
    Cohort.objects.create(name="Another", owner=User.objects.get(username="dana"))
    assert [count_queries(dana_api, path) for path in paths] == before


def test_an_address_with_a_line_break_is_not_found_in_the_apis_format(alice_api: Api) -> None:
    assert_error(alice_api.post("/api/v1/recommendations/a%0Ab/follow/"), 404, "not_found")
    assert_error(alice_api.get("/api/v1/sessions/12345678901234567890123/"), 404, "not_found")
