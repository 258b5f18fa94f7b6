"""Session notes follow the learner's sharing choice on every educator page and export.

alice shares her reflections (and so her notes) with dana's cohort; bob keeps his private there
but shares them with another cohort, which must not leak them into dana's.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from learners.models import Cohort, CohortMembership, Learner, Reflection
from learners.selectors.export import COHORT_TABLES
from tests.factories import CohortFactory, StudySessionFactory, UserFactory, educator

pytestmark = pytest.mark.django_db

ALICE_NOTE = "ALICE SHARED NOTE about flashcards"
BOB_NOTE = "PRIVATE NOTE: I was anxious about my parents today"


@pytest.fixture
def dana_client() -> Client:
    client = Client()
    client.force_login(educator("dana"))
    return client


@pytest.fixture
def cohort(alice: Learner, bob: Learner, dana_client: Client) -> Cohort:
    cohort = CohortFactory(owner=User.objects.get(username="dana"), name="Biology 101")
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    CohortMembership.objects.create(cohort=cohort, learner=bob, share_reflections=False)
    CohortMembership.objects.create(cohort=CohortFactory(name="Sharing"), learner=bob, share_reflections=True)
    for learner, note in ((alice, ALICE_NOTE), (bob, BOB_NOTE)):
        session = StudySessionFactory(learner=learner, subject=f"{learner.user.username} subject", notes=note)
        Reflection.objects.create(session=session, what_worked=f"{learner.user.username} reflection")
    return cohort


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_cohort_sessions_csv_has_notes_only_of_members_who_share(dana_client: Client, cohort: Cohort) -> None:
    rows = csv_rows(body(dana_client.get(reverse("educator-export", args=[cohort.pk, "sessions"]))))
    notes = {r["learner"]: r["notes"] for r in rows}
    assert notes == {"alice": ALICE_NOTE, "bob": ""}


@pytest.mark.parametrize("kind", list(COHORT_TABLES))
def test_no_cohort_export_holds_a_private_note(dana_client: Client, cohort: Cohort, kind: str) -> None:
    content = body(dana_client.get(reverse("educator-export", args=[cohort.pk, kind])))
    assert BOB_NOTE.encode() not in content


def test_a_learner_who_stops_sharing_takes_the_notes_out_of_the_export(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    CohortMembership.objects.filter(cohort=cohort, learner=alice).update(share_reflections=False)
    content = body(dana_client.get(reverse("educator-export", args=[cohort.pk, "sessions"])))
    assert ALICE_NOTE.encode() not in content


def test_admin_export_follows_each_cohorts_choice(cohort: Cohort) -> None:
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    sharing = Cohort.objects.get(name="Sharing")
    response = staff.post(
        reverse("admin:learners_cohort_changelist"),
        {"action": "export_sessions", "_selected_action": [cohort.pk, sharing.pk]},
    )
    notes = {(r["cohort"], r["learner"]): r["notes"] for r in csv_rows(body(response))}
    assert notes == {
        ("Biology 101", "alice"): ALICE_NOTE,
        ("Biology 101", "bob"): "",
        ("Sharing", "bob"): BOB_NOTE,
    }


def test_no_educator_page_shows_a_private_note(
    dana_client: Client, cohort: Cohort, alice: Learner, bob: Learner
) -> None:
    urls = [
        reverse("educator-home"),
        reverse("educator-cohort", args=[cohort.pk]),
        reverse("educator-cohort-settings", args=[cohort.pk]),
        reverse("educator-member", args=[cohort.pk, alice.pk]),
        reverse("educator-member", args=[cohort.pk, bob.pk]),
        reverse("educator-engine"),
    ]
    for url in urls:
        assert BOB_NOTE.encode() not in body(dana_client.get(url)), url


def test_the_learner_keeps_their_own_notes_in_every_export(bob: Learner, cohort: Cohort) -> None:
    client = Client()
    client.force_login(bob.user)
    sessions = csv_rows(body(client.get(reverse("account-export-csv", args=["sessions"]))))
    assert [r["notes"] for r in sessions] == [BOB_NOTE]
    exported = json.loads(body(client.get(reverse("account-export-json"))))
    assert [s["notes"] for s in exported["sessions"]] == [BOB_NOTE]


def test_join_page_says_exactly_what_is_shared(alice_client: Client) -> None:
    page = alice_client.get(reverse("join")).content.decode()
    for shared in ("subject", "strategy", "minutes", "self-test score", "recommendations"):
        assert shared in page
    assert "Your session notes and the text of your reflections stay private unless you tick the box" in page
    assert "Let the educators read my session notes and the text of my reflections" in page


def test_settings_say_whether_notes_are_shared(alice_client: Client, cohort: Cohort) -> None:
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert "your session notes and the text of your reflections." in page
    assert "Stop sharing notes and reflections" in page
