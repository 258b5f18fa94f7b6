"""The current recommendation, following and dismissing it, asking for a situation; the catalogue."""

from __future__ import annotations

from unittest import mock

import pytest

from learners.models import Learner, Recommendation, SelfReport
from learners.selfreport import ITEMS
from learners.services.recommendations import recommendation_refresh
from tests.learners.api.conftest import Api

pytestmark = pytest.mark.django_db


def current(alice: Learner) -> Recommendation:
    recommendation = recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    return recommendation


def test_a_learner_without_a_recommendation_reads_none_yet(alice_api: Api) -> None:
    body = alice_api.get("/api/v1/recommendation/").json()
    assert body["recommendation"] is None
    assert body["status"] == "new_sessions"


def test_the_current_recommendation_has_its_strategy_reason_and_ranking(
    alice_api: Api, alice: Learner
) -> None:
    recommendation = current(alice)
    body = alice_api.get("/api/v1/recommendation/").json()
    assert body["status"] == "ready"
    assert body["recommendation"]["id"] == recommendation.pk
    assert body["recommendation"]["strategy"] == recommendation.strategy.slug
    assert body["recommendation"]["reason"] == recommendation.reason_text
    assert body["recommendation"]["ranking"][0]["slug"]


def test_the_reason_reads_in_the_language_asked_for(alice_api: Api, alice: Learner) -> None:
    current(alice)
    english = alice_api.get("/api/v1/recommendation/").json()["recommendation"]["reason"]
    chinese = alice_api.get("/api/v1/recommendation/", headers={"Accept-Language": "zh-hans"}).json()
    assert chinese["recommendation"]["reason"] != english


def test_following_a_recommendation_records_it(alice_api: Api, alice: Learner) -> None:
    recommendation = current(alice)
    response = alice_api.post(f"/api/v1/recommendations/{recommendation.pk}/follow/")
    assert response.status_code == 200
    assert response.json()["status"] == "followed"
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.FOLLOWED


def test_dismissing_with_a_reason_asks_for_the_next_best(alice_api: Api, alice: Learner) -> None:
    recommendation = current(alice)
    with mock.patch("learners.services.recommendations.recommendation_request") as request:
        response = alice_api.post(
            f"/api/v1/recommendations/{recommendation.pk}/dismiss/", {"reason": "No time"}
        )
    assert response.status_code == 200
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.dismissed_reason) == ("dismissed", "No time")
    request.assert_called_once()


def test_a_dismiss_reason_over_the_forms_limit_is_refused(alice_api: Api, alice: Learner) -> None:
    recommendation = current(alice)
    response = alice_api.post(f"/api/v1/recommendations/{recommendation.pk}/dismiss/", {"reason": "x" * 201})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]


def test_asking_for_a_situation_queues_a_refresh_and_answers_202(alice_api: Api, alice: Learner) -> None:
    with mock.patch("learners.api.views.learner.recommendation_request", return_value=True) as request:
        response = alice_api.post(
            "/api/v1/recommendation/requests/", {"subject": " Physics ", "task_kind": "solve"}
        )
    assert response.status_code == 202
    assert response.json() == {"queued": True}
    request.assert_called_once_with(learner_id=alice.pk, subject="Physics", task_kind="solve")


def test_asking_while_the_broker_is_down_answers_503(alice_api: Api) -> None:
    with mock.patch("learners.api.views.learner.recommendation_request", return_value=False):
        response = alice_api.post("/api/v1/recommendation/requests/", {})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "engine_unavailable"


def test_an_unknown_kind_of_task_is_refused(alice_api: Api) -> None:
    response = alice_api.post("/api/v1/recommendation/requests/", {"task_kind": "juggle"})
    assert response.status_code == 400


def test_the_catalogue_lists_every_strategy_in_order(alice_api: Api) -> None:
    body = alice_api.get("/api/v1/strategies/").json()
    positions = [row["position"] for row in body["results"]]
    assert body["count"] == len(positions) > 5 and positions == sorted(positions)
    slug = body["results"][0]["slug"]
    assert alice_api.get(f"/api/v1/strategies/{slug}/").json()["slug"] == slug
    assert alice_api.get("/api/v1/strategies/no-such/").status_code == 404


def test_a_self_report_is_scored_and_becomes_the_profile(alice_api: Api, alice: Learner) -> None:
    items = alice_api.get("/api/v1/self-reports/items/").json()
    assert [item["key"] for item in items] == [item.key for item in ITEMS]
    response = alice_api.post("/api/v1/self-reports/", {"answers": {item.key: 4 for item in ITEMS}})
    assert response.status_code == 201, response.json()
    alice.refresh_from_db()
    assert alice.profile == response.json()["scores"]
    assert alice_api.get("/api/v1/self-reports/").json()["results"][0]["id"] == response.json()["id"]


def test_an_incomplete_self_report_is_refused_by_item(alice_api: Api) -> None:
    answers = {item.key: 4 for item in ITEMS[1:]} | {ITEMS[1].key: 9}
    response = alice_api.post("/api/v1/self-reports/", {"answers": answers})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {f"answers.{ITEMS[0].key}", f"answers.{ITEMS[1].key}"}
    assert not SelfReport.objects.exists()
