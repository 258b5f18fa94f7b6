"""Who may call each endpoint: alice owns the objects; bob, another learner, gets 404 on them;
charlie, an educator of another cohort, gets 404 on dana's cohort, whose co-teacher sees what
dana sees; nobody without credentials, or with a revoked token, gets in (401); a read token
cannot write (403)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from learners.models import (
    ApiToken,
    Cohort,
    CohortMembership,
    Learner,
    Recommendation,
    Reflection,
    StudySession,
)
from learners.selfreport import ITEMS
from learners.services.api_tokens import api_token_create, api_token_revoke
from learners.services.recommendations import recommendation_refresh
from tests.factories import StudySessionFactory, educator
from tests.learners.api.conftest import Api, token_for
from tests.learners.api.test_sessions_api import session_body

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class World:
    session: StudySession
    recommendation: Recommendation
    cohort: Cohort
    member: Learner


@pytest.fixture
def world(alice: Learner, cohort: Cohort) -> World:
    session = StudySessionFactory(learner=alice)
    Reflection.objects.create(session=session, plan="alice's plan")
    recommendation = recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    return World(session=session, recommendation=recommendation, cohort=cohort, member=alice)


# (method, path, body): every operation of the API, with the ids of alice's objects and dana's cohort.
def learner_operations(w: World) -> list[tuple[str, str, object]]:
    s, r = w.session.pk, w.recommendation.pk
    return [
        ("get", "/api/v1/sessions/", None),
        ("post", "/api/v1/sessions/", session_body()),
        ("get", f"/api/v1/sessions/{s}/", None),
        ("put", f"/api/v1/sessions/{s}/", session_body()),
        ("patch", f"/api/v1/sessions/{s}/", {"score": 90}),
        ("get", f"/api/v1/sessions/{s}/reflection/", None),
        ("put", f"/api/v1/sessions/{s}/reflection/", {"plan": "new"}),
        ("get", "/api/v1/reflections/", None),
        ("get", "/api/v1/self-reports/", None),
        ("post", "/api/v1/self-reports/", {"answers": {item.key: 3 for item in ITEMS}}),
        ("get", "/api/v1/self-reports/items/", None),
        ("get", "/api/v1/recommendation/", None),
        ("post", "/api/v1/recommendation/requests/", {"subject": "Biology"}),
        ("post", f"/api/v1/recommendations/{r}/follow/", {}),
        ("post", f"/api/v1/recommendations/{r}/dismiss/", {"reason": "later"}),
        ("get", "/api/v1/strategies/", None),
        ("get", "/api/v1/strategies/practice-testing/", None),
        ("delete", f"/api/v1/sessions/{s}/reflection/", None),
        ("delete", f"/api/v1/sessions/{s}/", None),
    ]


def educator_operations(w: World) -> list[str]:
    c, m = w.cohort.pk, w.member.pk
    return [
        "/api/v1/cohorts/",
        f"/api/v1/cohorts/{c}/",
        f"/api/v1/cohorts/{c}/members/",
        f"/api/v1/cohorts/{c}/members/{m}/sessions/",
        f"/api/v1/cohorts/{c}/members/{m}/reflections/",
    ]


def call(api: Api, method: str, path: str, body: object) -> int:
    if method == "delete":
        return int(api.delete(path).status_code)
    return int(getattr(api, method)(path, body).status_code)


def test_the_owner_may_call_every_learner_operation(world: World, alice_api: Api) -> None:
    for method, path, body in learner_operations(world):
        assert call(alice_api, method, path, body) in (200, 201, 202, 204), (method, path)


def test_another_learner_gets_404_on_the_first_ones_objects(world: World, bob_api: Api) -> None:
    for method, path, body in learner_operations(world):
        if str(world.session.pk) in path.split("/") or str(world.recommendation.pk) in path.split("/"):
            assert call(bob_api, method, path, body) == 404, (method, path)
    assert bob_api.get("/api/v1/sessions/").json()["count"] == 0
    assert bob_api.get("/api/v1/reflections/").json()["count"] == 0
    assert bob_api.get("/api/v1/recommendation/").json()["recommendation"] is None


def test_nobody_without_credentials_gets_in(world: World, anonymous_api: Api) -> None:
    for method, path, body in learner_operations(world):
        assert call(anonymous_api, method, path, body) == 401, (method, path)
    for path in educator_operations(world):
        assert anonymous_api.get(path).status_code == 401, path


def test_a_revoked_token_gets_401_everywhere(world: World, alice: Learner) -> None:
    made = api_token_create(user=alice.user, name="old", scope=ApiToken.Scope.WRITE)
    api_token_revoke(token=made.token)
    for method, path, body in learner_operations(world):
        assert call(Api(made.secret), method, path, body) == 401, (method, path)


def test_a_read_token_reads_everything_and_writes_nothing(world: World, alice_read_api: Api) -> None:
    for method, path, body in learner_operations(world):
        expected = {200} if method == "get" else {403}
        assert call(alice_read_api, method, path, body) in expected, (method, path)
    assert StudySession.objects.filter(pk=world.session.pk).exists()


def test_the_cohorts_owner_reads_every_educator_operation(world: World, dana_api: Api) -> None:
    for path in educator_operations(world):
        assert dana_api.get(path).status_code == 200, path


def test_a_co_teacher_reads_what_the_owner_reads(world: World) -> None:
    co_teacher = educator("erin")
    world.cohort.co_teachers.add(co_teacher)
    dana, erin = Api(token_for(User.objects.get(username="dana"))), Api(token_for(co_teacher))
    for path in educator_operations(world):
        assert erin.get(path).json() == dana.get(path).json(), path


def test_an_educator_of_another_cohort_gets_404(world: World, charlie_api: Api) -> None:
    for path in educator_operations(world)[1:]:
        assert charlie_api.get(path).status_code == 404, path
    listed = [row["id"] for row in charlie_api.get("/api/v1/cohorts/").json()["results"]]
    assert world.cohort.pk not in listed


def test_a_learner_is_refused_the_educator_operations(world: World, alice_api: Api) -> None:
    for path in educator_operations(world):
        assert alice_api.get(path).status_code == 403, path


def test_a_learner_outside_the_cohort_is_not_found_in_it(world: World, dana_api: Api, bob: Learner) -> None:
    base = f"/api/v1/cohorts/{world.cohort.pk}/members/{bob.pk}"
    assert dana_api.get(f"{base}/sessions/").status_code == 404
    assert dana_api.get(f"{base}/reflections/").status_code == 404
