"""The metacognition self-report: scoring, the profile the engine reads, the monthly prompt."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

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
    assert [t["name"] for t in chart.figure.data] == ["Previous", "Now"]


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
    assert len(queries) == 5


class Elements(HTMLParser):
    """Each element with an id: its tag and attributes, as a test reads a page's structure."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.by_id: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.by_id[str(values["id"])] = (tag, values)

    def attrs(self, element_id: str) -> dict[str, str | None]:
        return self.by_id[element_id][1]


def test_a_partial_self_report_marks_each_unanswered_statement(alice_client: Client) -> None:
    answers = all_answers(3)
    del answers["mon_drift"], answers["dbg_back"]
    page = alice_client.post(reverse("self-report"), answers).content.decode()
    elements = Elements(page)
    for key in ("mon_drift", "dbg_back"):
        group = elements.attrs(f"statement-{key}")
        assert group["aria-invalid"] == "true"
        assert group["aria-describedby"] == f"id_{key}_error"
        assert f"id_{key}_error" in elements.by_id
    answered = elements.attrs("statement-plan_goal")
    assert "aria-invalid" not in answered and "aria-describedby" not in answered
    assert page.count("Choose the answer that is most like you.") == 2
    assert "Please answer every statement." not in page


def test_the_summary_counts_the_unanswered_statements_and_links_to_the_first(alice_client: Client) -> None:
    answers = all_answers(3)
    del answers["mon_drift"], answers["dbg_back"]
    page = alice_client.post(reverse("self-report"), answers).content.decode()
    assert "2 statements have no answer yet." in page
    link = Elements(page).attrs("first-unanswered")
    assert link["href"] == "#id_mon_drift_0"
    assert 'id="id_mon_drift_0"' in page
    del answers["eval_skip"]
    answers["mon_drift"] = answers["dbg_back"] = 3
    assert (
        "One statement has no answer yet."
        in alice_client.post(reverse("self-report"), answers).content.decode()
    )


def test_a_partial_self_report_keeps_the_answers_given(alice_client: Client) -> None:
    answers = all_answers(2)
    del answers["info_own"]
    page = alice_client.post(reverse("self-report"), answers).content.decode()
    checked = {
        (values["name"], values["value"])
        for _, values in Elements(page).by_id.values()
        if values.get("type") == "radio" and "checked" in values
    }
    assert checked == {(key, "2") for key in answers}


def test_after_saving_the_page_shows_the_profile_and_a_next_step(alice_client: Client) -> None:
    response = alice_client.post(reverse("self-report"), all_answers(4), follow=True)
    page = response.content.decode()
    elements = Elements(page)
    assert "Your profile" in page and 'id="chart-profile"' in page
    assert elements.attrs("next-step-study")["href"] == reverse("study")
    assert f'href="{reverse("session-new")}"' in page
    # The questionnaire stays reachable, folded behind "Answer again".
    tag, questionnaire = elements.by_id["questionnaire"]
    assert (tag, "open" in questionnaire) == ("details", False)
    assert "Answer again" in page


def test_a_first_visit_shows_the_questionnaire_and_no_next_step(alice_client: Client) -> None:
    elements = Elements(alice_client.get(reverse("self-report")).content.decode())
    assert elements.by_id["questionnaire"][0] == "section"
    assert "next-step" not in elements.by_id


def test_a_failed_retake_and_a_due_retake_open_the_questionnaire(
    alice: Learner, alice_client: Client
) -> None:
    alice_client.post(reverse("self-report"), all_answers(4))
    answers = all_answers(2)
    del answers["plan_goal"]
    failed = Elements(alice_client.post(reverse("self-report"), answers).content.decode())
    assert "open" in failed.attrs("questionnaire")
    SelfReport.objects.filter(learner=alice).update(created_at=timezone.now() - timedelta(days=31))
    due = Elements(alice_client.get(reverse("self-report")).content.decode())
    assert "open" in due.attrs("questionnaire")


def test_the_questionnaire_posts_to_an_address_without_a_fragment(alice_client: Client) -> None:
    # A form with no action posts to the address with its #fragment (after "Go to the first one"),
    # and the redirect after saving would keep it: Chromium would open the folded questionnaire.
    page = alice_client.get(reverse("self-report")).content.decode()
    assert f'<form method="post" action="{reverse("self-report")}" novalidate>' in page
