"""Educators read their cohorts through the API as on the panel: notes and reflections only of
members who share them with that cohort."""

from __future__ import annotations

import pytest

from learners.models import Cohort, CohortMembership, Learner, Reflection
from tests.factories import CohortFactory, StudySessionFactory
from tests.learners.api.conftest import Api

pytestmark = pytest.mark.django_db

PRIVATE_NOTE = "PRIVATE NOTE about my week"


@pytest.fixture
def members(alice: Learner, bob: Learner, cohort: Cohort) -> Cohort:
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    CohortMembership.objects.create(cohort=cohort, learner=bob, share_reflections=False)
    # bob shares with another cohort: that must not open his notes to dana's.
    CohortMembership.objects.create(cohort=CohortFactory(), learner=bob, share_reflections=True)
    for learner, note in ((alice, "alice's shared note"), (bob, PRIVATE_NOTE)):
        session = StudySessionFactory(learner=learner, notes=note)
        Reflection.objects.create(session=session, plan=f"{learner.user.username}'s plan")
    return cohort


def test_the_member_list_has_the_panels_columns(dana_api: Api, members: Cohort) -> None:
    rows = dana_api.get(f"/api/v1/cohorts/{members.pk}/members/").json()["results"]
    assert [(row["username"], row["n_sessions"], row["share_reflections"]) for row in rows] == [
        ("alice", 1, True),
        ("bob", 1, False),
    ]


def test_a_sharing_members_sessions_carry_notes_and_reflections(
    dana_api: Api, members: Cohort, alice: Learner
) -> None:
    row = dana_api.get(f"/api/v1/cohorts/{members.pk}/members/{alice.pk}/sessions/").json()["results"][0]
    assert row["notes"] == "alice's shared note"
    assert row["reflection"]["plan"] == "alice's plan"


def test_a_private_members_notes_and_reflections_stay_private(
    dana_api: Api, members: Cohort, bob: Learner
) -> None:
    base = f"/api/v1/cohorts/{members.pk}/members/{bob.pk}"
    sessions = dana_api.get(f"{base}/sessions/")
    assert sessions.json()["results"][0]["notes"] is None
    assert sessions.json()["results"][0]["reflection"] is None
    assert PRIVATE_NOTE not in sessions.content.decode()
    assert dana_api.get(f"{base}/reflections/").json()["results"] == []


def test_a_member_who_stops_sharing_takes_the_reflections_back(
    dana_api: Api, members: Cohort, alice: Learner
) -> None:
    CohortMembership.objects.filter(cohort=members, learner=alice).update(share_reflections=False)
    body = dana_api.get(f"/api/v1/cohorts/{members.pk}/members/{alice.pk}/reflections/").json()
    assert body["results"] == []
