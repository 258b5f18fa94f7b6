"""Exports: a cohort's CSV holds exactly its members' data; a learner's export holds all of theirs."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, Learner, Recommendation, Reflection, SelfReport
from learners.services.export import csv_stream
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory, UserFactory, educator

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana_client() -> Client:
    dana = educator("dana")
    client = Client()
    client.force_login(dana)
    return client


@pytest.fixture
def cohort() -> Cohort:
    return CohortFactory(owner=User.objects.get(username="dana"), name="Biology 101")


def rows(response: StreamingHttpResponse) -> list[dict[str, str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(body)))


def recommendation(learner: Learner, basis: str = "x") -> Recommendation:
    return Recommendation.objects.create(
        learner=learner,
        strategy=Strategy.objects.get(slug="practice-testing"),
        expected_score=70,
        score_std=8,
        reason="",
        ranking=[],
        source=Recommendation.Source.EVIDENCE,
        basis=basis,
    )


@pytest.fixture
def data(dana_client: Client, cohort: Cohort, alice: Learner, bob: Learner) -> None:
    """alice shares reflections, carol does not, bob is in another cohort only."""
    carol = LearnerFactory(user=UserFactory(username="carol"))
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    CohortMembership.objects.create(cohort=cohort, learner=carol, share_reflections=False)
    CohortMembership.objects.create(cohort=CohortFactory(), learner=bob, share_reflections=True)
    for learner in (alice, bob, carol):
        session = StudySessionFactory(learner=learner, subject=f"{learner.user.username} subject")
        Reflection.objects.create(session=session, what_worked=f"{learner.user.username} reflection")
        recommendation(learner)


def export(client: Client, cohort: Cohort, kind: str) -> list[dict[str, str]]:
    response = client.get(reverse("educator-export", args=[cohort.pk, kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return rows(response)  # type: ignore[arg-type]


def test_cohort_sessions_export_holds_exactly_its_members_sessions(
    dana_client: Client, cohort: Cohort, data: None
) -> None:
    exported = export(dana_client, cohort, "sessions")
    assert sorted(r["learner"] for r in exported) == ["alice", "carol"]
    assert {r["subject"] for r in exported} == {"alice subject", "carol subject"}


def test_cohort_reflections_export_holds_only_shared_reflections(
    dana_client: Client, cohort: Cohort, data: None
) -> None:
    exported = export(dana_client, cohort, "reflections")
    assert [(r["learner"], r["what_worked"]) for r in exported] == [("alice", "alice reflection")]


def test_cohort_recommendations_export_holds_only_members(
    dana_client: Client, cohort: Cohort, data: None
) -> None:
    exported = export(dana_client, cohort, "recommendations")
    assert sorted(r["learner"] for r in exported) == ["alice", "carol"]


def test_export_neutralises_spreadsheet_formulas(dana_client: Client, cohort: Cohort, alice: Learner) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    StudySessionFactory(learner=alice, subject='=HYPERLINK("http://evil")')
    (row,) = export(dana_client, cohort, "sessions")
    assert row["subject"].startswith("'=")


def test_learner_sessions_csv_holds_own_sessions_with_reflections(
    alice_client: Client, alice: Learner, bob: Learner
) -> None:
    session = StudySessionFactory(learner=alice, subject="Mine")
    Reflection.objects.create(session=session, next_time="Test myself earlier")
    StudySessionFactory(learner=bob, subject="Not mine")
    exported = rows(alice_client.get(reverse("account-export-csv", args=["sessions"])))  # type: ignore[arg-type]
    assert [(r["subject"], r["reflection_next_time"]) for r in exported] == [("Mine", "Test myself earlier")]


@pytest.mark.parametrize("kind", ["sessions", "recommendations", "self_reports", "cohorts"])
def test_every_learner_csv_downloads(alice_client: Client, alice: Learner, kind: str) -> None:
    response = alice_client.get(reverse("account-export-csv", args=[kind]))
    assert response.status_code == 200
    assert response.streaming


def test_learner_json_holds_all_their_data_and_nobody_elses(
    alice_client: Client, alice: Learner, bob: Learner
) -> None:
    StudySessionFactory(learner=alice, subject="Mine")
    StudySessionFactory(learner=bob, subject="Not mine")
    recommendation(alice)
    SelfReport.objects.create(learner=alice, answers={"p1": 4}, scores={"planning": 4.0})
    CohortMembership.objects.create(cohort=CohortFactory(name="Biology 101"), learner=alice)
    response = alice_client.get(reverse("account-export-json"))
    assert response.streaming
    data = json.loads(b"".join(response.streaming_content))  # type: ignore[arg-type]
    assert data["account"]["username"] == "alice"
    assert [s["subject"] for s in data["sessions"]] == ["Mine"]
    assert len(data["recommendations"]) == 1
    assert data["self_reports"][0]["scores"] == {"planning": 4.0}
    assert data["cohorts"][0]["cohort"] == "Biology 101"


def test_learner_json_of_a_new_learner_is_valid(alice_client: Client) -> None:
    data = json.loads(b"".join(alice_client.get(reverse("account-export-json")).streaming_content))  # type: ignore[attr-defined]
    assert data["sessions"] == [] and data["cohorts"] == []


def test_learner_exports_need_a_login(alice: Learner) -> None:
    assert Client().get(reverse("account-export-json")).status_code == 302
    assert Client().get(reverse("account-export-csv", args=["sessions"])).status_code == 302


def test_csv_figures_are_rounded_as_people_read_them(alice_client: Client, alice: Learner) -> None:
    Recommendation.objects.filter(pk=recommendation(alice).pk).update(
        expected_score=52.35447299364432, score_std=8.04999123
    )
    SelfReport.objects.create(learner=alice, answers={"p1": 4}, scores={"evaluating": 3.3333333333})
    (row,) = rows(alice_client.get(reverse("account-export-csv", args=["recommendations"])))  # type: ignore[arg-type]
    assert (row["expected_score"], row["score_std"]) == ("52.4", "8.0")
    (report,) = rows(alice_client.get(reverse("account-export-csv", args=["self_reports"])))  # type: ignore[arg-type]
    assert json.loads(report["scores"]) == {"evaluating": 3.3}


def test_cohort_csv_figures_are_rounded_too(dana_client: Client, cohort: Cohort, data: None) -> None:
    Recommendation.objects.update(expected_score=61.98765432, score_std=12.3456)
    assert {
        (r["expected_score"], r["score_std"]) for r in export(dana_client, cohort, "recommendations")
    } == {("62.0", "12.3")}


def test_a_figure_no_column_declares_keeps_three_decimals() -> None:
    body = "".join(csv_stream((["share", "count"], [(0.123456789, 7)])))
    assert body.splitlines()[1] == "0.123,7"


def test_the_json_export_keeps_full_precision(alice_client: Client, alice: Learner) -> None:
    Recommendation.objects.filter(pk=recommendation(alice).pk).update(expected_score=52.35447299364432)
    data = json.loads(b"".join(alice_client.get(reverse("account-export-json")).streaming_content))  # type: ignore[attr-defined]
    assert data["recommendations"][0]["expected_score"] == 52.35447299364432
