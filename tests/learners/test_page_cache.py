"""Dashboard and cohort page parts are kept between requests, and let go as soon as their data changes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coach.models import Strategy
from learners import versions
from learners.models import Cohort, CohortMembership, Learner, Reflection, StudySession
from learners.services.account import account_delete
from learners.services.goals import subject_rename
from tests.factories import LearnerFactory, StudySessionFactory
from tests.worker import database_url

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def sessions_logged(client: Client) -> int:
    """The dashboard's "sessions logged" figure."""
    html = client.get(reverse("home")).content.decode()
    marker = "</span> session"
    before = html[: html.index(marker)]
    return int(before[before.rindex(">") + 1 :])


def test_a_new_session_shows_on_a_dashboard_kept_from_before(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(3, learner=alice, score=60)
    assert sessions_logged(alice_client) == 3
    with CaptureQueriesContext(connection) as kept:
        assert sessions_logged(alice_client) == 3
    StudySessionFactory(learner=alice, score=70)
    with CaptureQueriesContext(connection) as built:
        assert sessions_logged(alice_client) == 4
    assert len(kept) < len(built)  # the second view was served from the kept copy


def test_an_edited_or_deleted_session_shows_at_once(alice: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=alice, subject="Chemistry", score=60)
    StudySessionFactory(learner=alice, subject="Chemistry", score=60)
    assert "Chemistry" in alice_client.get(reverse("home")).content.decode()
    session.subject = "Physics"
    session.save()
    assert "Physics" in alice_client.get(reverse("home")).content.decode()
    session.delete()
    assert sessions_logged(alice_client) == 1


def test_a_reflection_saved_alone_renews_the_learners_pages(alice: Learner) -> None:
    session = StudySessionFactory(learner=alice)
    before = versions.learner_version(alice.pk)
    Reflection.objects.create(session=session, what_worked="flashcards")
    assert versions.learner_version(alice.pk) != before


def test_a_renamed_subject_shows_at_once_though_renamed_in_bulk(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(2, learner=alice, subject="Maths", score=60)
    assert "Maths" in alice_client.get(reverse("home")).content.decode()
    subject_rename(learner=alice, old="Maths", new="Algebra")
    html = alice_client.get(reverse("home")).content.decode()
    assert "Algebra" in html and ">Maths<" not in html


def test_the_dashboard_is_kept_per_language(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(2, learner=alice, score=60)
    assert "Your progress" in alice_client.get(reverse("home")).content.decode()
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    assert "你的进展" in alice_client.get(reverse("home")).content.decode()


def test_a_refresh_stamp_leaves_the_dashboard_kept(alice: Learner) -> None:
    before = versions.learner_version(alice.pk)
    alice.dismissed_nudges = ["overconfidence"]
    alice.save(update_fields=["dismissed_nudges"])
    assert versions.learner_version(alice.pk) == before


def test_a_members_new_session_shows_on_the_cohort_page(
    cohort: Cohort, dana_client: Client, alice: Learner
) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    StudySessionFactory(learner=alice, score=60)
    url = reverse("educator-cohort", args=[cohort.pk])

    def sessions_cell() -> str:
        html = dana_client.get(url).content.decode()
        return html.split('data-label="Sessions">', 1)[1].split("<", 1)[0]

    assert sessions_cell() == "1"
    assert sessions_cell() == "1"  # kept
    StudySessionFactory(learner=alice, score=70)
    assert sessions_cell() == "2"


def test_joining_leaving_and_renaming_show_on_the_cohort_page(
    cohort: Cohort, dana_client: Client, alice: Learner, bob: Learner
) -> None:
    url = reverse("educator-cohort", args=[cohort.pk])
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    assert re.search(r"\b1 member\b(?!s)", dana_client.get(url).content.decode())
    membership = CohortMembership.objects.create(cohort=cohort, learner=bob)
    assert "2 members" in dana_client.get(url).content.decode()
    membership.delete()
    assert re.search(r"\b1 member\b(?!s)", dana_client.get(url).content.decode())
    alice.user.username = "alice-renamed"
    alice.user.save()
    assert "alice-renamed" in dana_client.get(url).content.decode()


def test_deleting_an_account_costs_no_query_per_session(cohort: Cohort) -> None:
    def delete_cost(n: int) -> int:
        learner = LearnerFactory()
        CohortMembership.objects.create(cohort=cohort, learner=learner)
        for session in StudySessionFactory.create_batch(n, learner=learner):
            Reflection.objects.create(session=session, what_worked="x")
        with CaptureQueriesContext(connection) as queries:
            account_delete(user=learner.user)
        assert not StudySession.objects.filter(learner_id=learner.pk).exists()
        return len(queries)

    assert delete_cost(2) == delete_cost(30)


@pytest.mark.django_db(transaction=True)
def test_a_change_written_by_another_process_reaches_this_one(alice: Learner, alice_client: Client) -> None:
    """As when the worker writes: the versions live in the cache every process shares."""
    StudySessionFactory(learner=alice, score=60)
    assert sessions_logged(alice_client) == 1
    script = (
        "import django; django.setup()\n"
        "from learners.models import Learner\n"
        "from tests.factories import StudySessionFactory\n"
        f"StudySessionFactory(learner=Learner.objects.get(pk={alice.pk}), score=80)\n"
    )
    # The other process opens this run's test database and cache, as the worker does.
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "coach.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    assert sessions_logged(alice_client) == 2


def test_a_renamed_strategy_shows_on_a_kept_dashboard(alice: Learner, alice_client: Client) -> None:
    StudySessionFactory.create_batch(
        2, learner=alice, score=60, strategy=Strategy.objects.get(slug="rereading")
    )
    assert "Rereading" in alice_client.get(reverse("home")).content.decode()
    strategy = Strategy.objects.get(slug="rereading")
    strategy.name = "Re-reading the notes"
    strategy.save()
    assert "Re-reading the notes" in alice_client.get(reverse("home")).content.decode()
