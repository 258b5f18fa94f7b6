"""The metacognition self-report: scoring, the profile the engine reads, the monthly prompt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner, SelfReport
from learners.selectors.dashboard import selfreport_due
from learners.selfreport import DIMENSIONS, ITEMS, selfreport_score
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


def all_answers(value: int = 4) -> dict[str, int]:
    return {item.key: value for item in ITEMS}


def test_questionnaire_covers_five_dimensions_with_about_fifteen_items() -> None:
    assert {item.dimension for item in ITEMS} == set(DIMENSIONS)
    assert 12 <= len(ITEMS) <= 18


def test_reversed_items_count_the_other_way() -> None:
    answers = all_answers(4)
    scores = selfreport_score(answers)
    # evaluating has one reversed item: (4 + 4 + (6 - 4)) / 3
    assert scores["evaluating"] == pytest.approx(3.33, abs=0.01)
    assert scores["planning"] == 4.0


def test_submitting_the_self_report_updates_the_learners_profile(
    alice: Learner, alice_client: Client
) -> None:
    response = alice_client.post(reverse("self-report"), all_answers(5))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.profile["planning"] == 5.0
    assert SelfReport.objects.get(learner=alice).answers["plan_goal"] == 5


def test_an_incomplete_self_report_is_refused(alice: Learner, alice_client: Client) -> None:
    answers = all_answers()
    del answers["dbg_back"]
    response = alice_client.post(reverse("self-report"), answers)
    assert response.status_code == 200
    assert "dbg_back" in response.context["form"].errors
    assert not SelfReport.objects.filter(learner=alice).exists()


def test_the_profile_is_drawn_against_the_previous_one(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("self-report"), all_answers(2))
    alice_client.post(reverse("self-report"), all_answers(4))
    chart = alice_client.get(reverse("self-report")).context["chart"]
    assert [t.name for t in chart.figure.data] == ["Previous", "Now"]


def test_the_dashboard_prompts_for_a_self_report_after_sign_up(alice: Learner, alice_client: Client) -> None:
    assert 'id="self-report-prompt"' in alice_client.get(reverse("home")).content.decode()
    alice_client.post(reverse("self-report"), all_answers())
    assert 'id="self-report-prompt"' not in alice_client.get(reverse("home")).content.decode()


def test_the_self_report_is_due_again_after_a_month(alice: Learner) -> None:
    report = SelfReport.objects.create(learner=alice, answers=all_answers(), scores={})
    assert not selfreport_due(latest=report, now=report.created_at + timedelta(days=29))
    assert selfreport_due(latest=report, now=report.created_at + timedelta(days=30))
    assert selfreport_due(latest=None, now=timezone.now())


@pytest.mark.parametrize("n", [10, 500])
def test_self_report_page_query_count_does_not_grow_with_sessions(
    alice: Learner, alice_client: Client, n: int
) -> None:
    StudySessionFactory.create_batch(n, learner=alice)
    alice_client.post(reverse("self-report"), all_answers())
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(reverse("self-report"))
    assert len(queries) == 6
