"""Who may open which educator page: every URL against every persona.

dana owns the cohort alice belongs to, erin co-teaches it, charlie teaches another cohort,
alice is a learner and the anonymous visitor is nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from coach.models import EngineRun
from learners.models import Cohort, CohortMembership, Learner
from tests.factories import CohortFactory, StudySessionFactory, educator

pytestmark = pytest.mark.django_db


@dataclass
class World:
    cohort: Cohort
    member: Learner
    outsider: Learner
    co_teacher: User
    run: EngineRun


@pytest.fixture
def world(alice: Learner, bob: Learner, charlie: User) -> World:
    dana = educator("dana")
    erin = educator("erin")
    cohort = CohortFactory(owner=dana, name="Biology 101")
    cohort.co_teachers.add(erin)
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    StudySessionFactory(learner=alice)
    run = EngineRun.objects.create(status=EngineRun.Status.SUCCEEDED, active=False, progress=100)
    return World(cohort=cohort, member=alice, outsider=bob, co_teacher=erin, run=run)


def client_for(persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(User.objects.get(username=persona))
    return client


def cohort_urls(world: World) -> dict[str, str]:
    c = world.cohort.pk
    return {
        "overview": reverse("educator-cohort", args=[c]),
        "member": reverse("educator-member", args=[c, world.member.pk]),
        "export-sessions": reverse("educator-export", args=[c, "sessions"]),
        "export-reflections": reverse("educator-export", args=[c, "reflections"]),
        "export-recommendations": reverse("educator-export", args=[c, "recommendations"]),
    }


def owner_urls(world: World) -> dict[str, tuple[str, dict[str, str]]]:
    """State changes only the owner may make: URL and a valid POST body."""
    c = world.cohort.pk
    return {
        "rename": (reverse("educator-cohort-settings", args=[c]), {"name": "Renamed"}),
        "archive": (reverse("educator-cohort-archive", args=[c]), {"archived": "1"}),
        "co-teacher-add": (reverse("educator-co-teacher-add", args=[c]), {"username": "charlie"}),
        "co-teacher-remove": (
            reverse("educator-co-teacher-remove", args=[c, world.co_teacher.pk]),
            {},
        ),
        "join-code-renew": (reverse("educator-join-code-renew", args=[c]), {"expires_in_days": ""}),
        "join-code-revoke": (reverse("educator-join-code-revoke", args=[c]), {}),
        "policy": (
            reverse("educator-cohort-policy", args=[c]),
            {"policy_rule": "greedy", "policy_max_cost": "5"},
        ),
    }


COHORT_PAGES = ["overview", "member", "export-sessions", "export-reflections", "export-recommendations"]
OWNER_ACTIONS = [
    "rename",
    "archive",
    "co-teacher-add",
    "co-teacher-remove",
    "join-code-renew",
    "join-code-revoke",
    "policy",
]


# Not named `page`: that name belongs to pytest-playwright and would turn these into browser tests.
@pytest.mark.parametrize("view", COHORT_PAGES)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("dana", 200), ("erin", 200), ("charlie", 404), ("alice", 403)],
)
def test_cohort_pages_open_to_owner_and_co_teacher_only(
    world: World, view: str, persona: str, status: int
) -> None:
    assert client_for(persona).get(cohort_urls(world)[view]).status_code == status


@pytest.mark.parametrize("view", COHORT_PAGES)
def test_anonymous_visitor_is_sent_to_log_in_from_cohort_pages(world: World, view: str) -> None:
    response = client_for("anonymous").get(cohort_urls(world)[view])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("action", OWNER_ACTIONS)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("dana", 302), ("erin", 403), ("charlie", 404), ("alice", 403)],
)
def test_only_the_owner_changes_a_cohort(world: World, action: str, persona: str, status: int) -> None:
    url, data = owner_urls(world)[action]
    before = Cohort.objects.values().get(pk=world.cohort.pk), set(world.cohort.co_teachers.all())
    response = client_for(persona).post(url, data)
    assert response.status_code == status
    after = Cohort.objects.values().get(pk=world.cohort.pk), set(world.cohort.co_teachers.all())
    assert (before != after) == (persona == "dana")


@pytest.mark.parametrize("action", OWNER_ACTIONS)
def test_anonymous_visitor_cannot_change_a_cohort(world: World, action: str) -> None:
    url, data = owner_urls(world)[action]
    before = Cohort.objects.values().get(pk=world.cohort.pk)
    response = client_for("anonymous").post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Cohort.objects.values().get(pk=world.cohort.pk) == before


@pytest.mark.parametrize("action", OWNER_ACTIONS)
def test_cohort_changes_need_the_csrf_token(world: World, action: str) -> None:
    url, data = owner_urls(world)[action]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.cohort.owner)
    before = Cohort.objects.values().get(pk=world.cohort.pk), set(world.cohort.co_teachers.all())
    assert client.post(url, data).status_code == 403
    assert (Cohort.objects.values().get(pk=world.cohort.pk), set(world.cohort.co_teachers.all())) == before


@pytest.mark.parametrize("action", ["archive", "co-teacher-remove", "join-code-revoke"])
def test_cohort_changes_refuse_get(world: World, action: str) -> None:
    url, _data = owner_urls(world)[action]
    assert client_for("dana").get(url).status_code == 405


def test_create_cohort_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.cohort.owner)
    assert client.post(reverse("educator-home"), {"name": "Sneaky"}).status_code == 403
    assert not Cohort.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("dana", 200), ("erin", 200), ("charlie", 200), ("alice", 403), ("anonymous", 302)],
)
@pytest.mark.parametrize("view", ["educator-home", "educator-engine"])
def test_panel_and_engine_pages_are_for_educators(world: World, view: str, persona: str, status: int) -> None:
    assert client_for(persona).get(reverse(view)).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"), [("dana", 200), ("charlie", 200), ("alice", 403), ("anonymous", 302)]
)
def test_engine_run_status_is_for_educators(world: World, persona: str, status: int) -> None:
    url = reverse("educator-engine-run-status", args=[world.run.pk])
    assert client_for(persona).get(url).status_code == status


@pytest.mark.parametrize(("persona", "status"), [("alice", 403), ("anonymous", 302)])
def test_non_educators_cannot_start_a_retrain(world: World, persona: str, status: int) -> None:
    assert client_for(persona).post(reverse("educator-engine-retrain")).status_code == status
    assert not EngineRun.objects.filter(active=True).exists()


def test_retrain_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.cohort.owner)
    assert client.post(reverse("educator-engine-retrain")).status_code == 403
    assert not EngineRun.objects.filter(active=True).exists()


def test_educator_list_shows_only_own_and_co_taught_cohorts(world: World) -> None:
    CohortFactory(owner=educator("frank"), name="Frank's chemistry")
    names = {c.name for c in client_for("erin").get(reverse("educator-home")).context["cohorts"]}
    assert names == {"Biology 101"}
    charlie_names = {c.name for c in client_for("charlie").get(reverse("educator-home")).context["cohorts"]}
    assert "Biology 101" not in charlie_names


def test_owner_cannot_open_a_learner_outside_the_cohort(world: World) -> None:
    url = reverse("educator-member", args=[world.cohort.pk, world.outsider.pk])
    assert client_for("dana").get(url).status_code == 404


def test_member_of_one_cohort_cannot_be_reached_through_another_cohorts_id(
    world: World, charlie: User
) -> None:
    charlies_cohort = Cohort.objects.get(owner=charlie)
    url = reverse("educator-member", args=[charlies_cohort.pk, world.member.pk])
    assert client_for("charlie").get(url).status_code == 404


def test_unknown_cohort_id_answers_404_like_someone_elses(world: World) -> None:
    assert client_for("dana").get(reverse("educator-cohort", args=[999_999])).status_code == 404


def test_unknown_export_kind_answers_404(world: World) -> None:
    url = reverse("educator-export", args=[world.cohort.pk, "passwords"])
    assert client_for("dana").get(url).status_code == 404


def test_educator_removed_from_the_group_loses_access(world: World) -> None:
    world.co_teacher.groups.clear()
    assert client_for("erin").get(cohort_urls(world)["overview"]).status_code == 403


def test_learner_of_the_cohort_cannot_open_its_overview(world: World) -> None:
    assert client_for("alice").get(cohort_urls(world)["overview"]).status_code == 403
