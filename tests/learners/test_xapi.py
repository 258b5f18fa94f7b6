"""xAPI statements: valid by ralph's models, stable, private where they should be, downloadable."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from ralph.models.xapi.base.statements import BaseXapiStatement

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, Learner, Recommendation, Reflection, StudySession
from learners.selectors.xapi import cohort_statements, learner_statements, lrs_statements
from learners.xapi.statements import duration, voiding_statement
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db

ALICE_NOTE = "flashcards worked, the diagrams did not"
ALICE_PLAN = "ALICE PLAN: test myself on chapter 3"
BOB_NOTE = "PRIVATE: anxious about my exam"
BOB_PLAN = "BOB PRIVATE PLAN"
EXTENSIONS = "http://127.0.0.1:8000/xapi/extensions/"


def studied(learner: Learner, *, note: str = "", plan: str = "", **fields: Any) -> StudySession:
    session = StudySessionFactory(learner=learner, notes=note, **fields)
    if plan:
        Reflection.objects.create(
            session=session, plan=plan, next_time="more practice", kept_previous_plan=True
        )
    return session


def download(client: Client, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(b"".join(response.streaming_content))  # type: ignore[arg-type]


def verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["id"].rsplit("/", 1)[1] for s in statements]


@pytest.fixture
def members(alice: Learner, bob: Learner, cohort: Cohort) -> Cohort:
    """alice shares her notes and reflections with dana's cohort; bob shares his only elsewhere."""
    CohortMembership.objects.create(cohort=cohort, learner=alice, share_reflections=True)
    CohortMembership.objects.create(cohort=cohort, learner=bob, share_reflections=False)
    elsewhere = Cohort.objects.create(name="Elsewhere", owner=User.objects.get(username="dana"))
    CohortMembership.objects.create(cohort=elsewhere, learner=bob, share_reflections=True)
    studied(alice, note=ALICE_NOTE, plan=ALICE_PLAN, subject="Chemistry")
    studied(bob, note=BOB_NOTE, plan=BOB_PLAN, subject="History")
    return cohort


def test_every_statement_is_valid_xapi_by_ralphs_models(alice: Learner) -> None:
    recommendation = Recommendation.objects.create(
        learner=alice,
        strategy=Strategy.objects.get(slug="distributed-practice"),
        expected_score=70,
        score_std=8,
        reason="",
        ranking=[],
        source=Recommendation.Source.EVIDENCE,
        basis="x",
    )
    studied(alice, note=ALICE_NOTE, plan=ALICE_PLAN, recommendation=recommendation, minutes=90)
    studied(alice, score=None, subject="数学 (Mathe) & more/π")
    session = studied(alice, score=0)
    Reflection.objects.create(session=session, kept_previous_plan=False)
    statements = [*learner_statements(learner=alice), *lrs_statements(learner_id=alice.pk)]
    statements.append(
        voiding_statement(base_url="https://m.example", learner_id=1, statement_id=statements[0]["id"])
    )
    assert verbs(statements).count("commented") == 4
    for statement in statements:
        BaseXapiStatement.model_validate(statement)
        assert statement["version"] == "1.0.3"
        assert "stored" not in statement


def test_a_session_is_completed_with_its_score_duration_and_documented_extensions(alice: Learner) -> None:
    session = studied(alice, score=72, minutes=45, confidence=80, difficulty=2, focus=5)
    [statement] = learner_statements(learner=alice)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert statement["verb"]["display"] == {"en-US": "completed", "zh-CN": "完成"}
    assert statement["result"] == {
        "completion": True,
        "duration": "PT45M",
        "score": {"scaled": 0.72, "raw": 72, "min": 0, "max": 100},
    }
    assert statement["timestamp"] == session.started_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert statement["object"]["id"].startswith("http://127.0.0.1:8000/xapi/activities/subject/")
    assert statement["object"]["definition"]["name"] == {"und": "Biology"}
    assert statement["context"]["extensions"] == {
        EXTENSIONS + "strategy": "practice-testing",
        EXTENSIONS + "confidence-before": 80,
        EXTENSIONS + "task-kind": "memorise",
        EXTENSIONS + "difficulty": 2,
        EXTENSIONS + "focus": 5,
    }


def test_a_session_without_a_score_has_no_score(alice: Learner) -> None:
    studied(alice, score=None)
    [statement] = learner_statements(learner=alice)
    assert "score" not in statement["result"]


@pytest.mark.parametrize(("minutes", "expected"), [(1, "PT1M"), (45, "PT45M"), (60, "PT1H"), (90, "PT1H30M")])
def test_durations_are_iso_8601(minutes: int, expected: str) -> None:
    assert duration(minutes) == expected


def test_the_actor_is_an_account_on_the_instance_without_name_or_e_mail(alice: Learner) -> None:
    alice.user.email = "alice@example.org"
    alice.user.save()
    studied(alice)
    [statement] = learner_statements(learner=alice)
    assert set(statement["actor"]) == {"objectType", "account"}
    account = statement["actor"]["account"]
    assert account["homePage"] == "http://127.0.0.1:8000"
    assert "alice" not in json.dumps(statement)


def test_the_instance_address_comes_from_the_setting(alice: Learner, settings: Any) -> None:
    settings.XAPI_BASE_URL = "https://coach.example.org/"
    studied(alice)
    [statement] = learner_statements(learner=alice)
    assert statement["actor"]["account"]["homePage"] == "https://coach.example.org"
    assert all(
        iri.startswith("https://coach.example.org/xapi/extensions/")
        for iri in statement["context"]["extensions"]
    )


def test_a_reflection_comments_on_the_subject_and_points_at_its_session(alice: Learner) -> None:
    studied(alice, note=ALICE_NOTE, plan=ALICE_PLAN)
    session, reflection = learner_statements(learner=alice)
    assert reflection["verb"]["id"] == "http://adlnet.gov/expapi/verbs/commented"
    assert reflection["object"] == session["object"]
    assert reflection["context"]["statement"] == {"objectType": "StatementRef", "id": session["id"]}
    assert reflection["result"]["response"] == f"{ALICE_PLAN}\n\nmore practice"
    assert reflection["result"]["extensions"] == {
        EXTENSIONS + "reflection": {"plan": ALICE_PLAN, "next_time": "more practice"},
        EXTENSIONS + "kept-previous-plan": True,
    }
    assert session["result"]["response"] == ALICE_NOTE


def test_ids_are_the_same_on_every_call_and_differ_between_sessions(alice: Learner, bob: Learner) -> None:
    started = timezone.now() - timedelta(hours=3)
    studied(alice, plan=ALICE_PLAN, started_at=started)
    studied(alice, started_at=started)  # the same session logged twice is two statements
    studied(bob, started_at=started)
    first = [s["id"] for s in learner_statements(learner=alice)]
    assert first == [s["id"] for s in learner_statements(learner=alice)]
    assert len(set(first)) == 3
    assert not set(first) & {s["id"] for s in learner_statements(learner=bob)}


def test_an_edited_session_is_a_new_statement(alice: Learner) -> None:
    session = studied(alice)
    [before] = learner_statements(learner=alice)
    StudySession.objects.filter(pk=session.pk).update(score=95)
    [after] = learner_statements(learner=alice)
    assert before["id"] != after["id"]


def test_the_record_store_gets_no_free_text(alice: Learner) -> None:
    studied(alice, note=ALICE_NOTE, plan=ALICE_PLAN)
    statements = lrs_statements(learner_id=alice.pk)
    assert verbs(statements) == ["completed", "commented"]
    text = json.dumps(statements)
    assert ALICE_NOTE not in text and ALICE_PLAN not in text and "more practice" not in text
    assert statements[1]["result"] == {"extensions": {EXTENSIONS + "kept-previous-plan": True}}


def test_learner_downloads_their_own_statements_with_their_notes(
    alice_client: Client, alice: Learner, bob: Learner
) -> None:
    studied(alice, note=ALICE_NOTE, plan=ALICE_PLAN)
    studied(bob, note=BOB_NOTE, plan=BOB_PLAN)
    statements = download(alice_client, reverse("account-export-xapi"))
    assert verbs(statements) == ["completed", "commented"]
    text = json.dumps(statements, ensure_ascii=False)
    assert ALICE_NOTE in text and ALICE_PLAN in text
    assert BOB_NOTE not in text and BOB_PLAN not in text


def test_a_learner_without_sessions_downloads_an_empty_array(alice_client: Client) -> None:
    assert download(alice_client, reverse("account-export-xapi")) == []


def test_the_download_asks_for_a_login(client: Client) -> None:
    response = client.get(reverse("account-export-xapi"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_learners_download_costs_the_same_queries_for_many_sessions(
    alice_client: Client, alice: Learner, django_assert_max_num_queries: Any
) -> None:
    studied(alice, plan=ALICE_PLAN)
    with django_assert_max_num_queries(8) as few:
        download(alice_client, reverse("account-export-xapi"))
    for _ in range(15):
        studied(alice, plan=ALICE_PLAN)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(download(alice_client, reverse("account-export-xapi"))) == 32


def test_cohort_download_has_notes_and_reflections_only_of_members_who_share(
    dana_client: Client, members: Cohort
) -> None:
    statements = download(dana_client, reverse("educator-export-xapi", args=[members.pk]))
    by_subject: dict[str, list[str]] = {}
    for statement in statements:
        by_subject.setdefault(statement["object"]["definition"]["name"]["und"], []).append(
            statement["verb"]["id"].rsplit("/", 1)[1]
        )
    assert by_subject == {"Chemistry": ["completed", "commented"], "History": ["completed"]}
    text = json.dumps(statements, ensure_ascii=False)
    assert ALICE_NOTE in text and ALICE_PLAN in text
    assert BOB_NOTE not in text and BOB_PLAN not in text


def test_a_member_who_stops_sharing_takes_notes_and_reflections_out(
    dana_client: Client, members: Cohort, alice: Learner
) -> None:
    CohortMembership.objects.filter(cohort=members, learner=alice).update(share_reflections=False)
    text = json.dumps(download(dana_client, reverse("educator-export-xapi", args=[members.pk])))
    assert ALICE_NOTE not in text and ALICE_PLAN not in text
    assert "commented" not in text


def test_cohort_statements_hold_only_its_members(members: Cohort, alice: Learner) -> None:
    CohortMembership.objects.filter(cohort=members, learner=alice).delete()
    statements = list(cohort_statements(cohort=members))
    assert [s["object"]["definition"]["name"]["und"] for s in statements] == ["History"]


def test_another_educator_gets_404_for_the_cohort_download(charlie_client: Client, members: Cohort) -> None:
    assert charlie_client.get(reverse("educator-export-xapi", args=[members.pk])).status_code == 404


def test_a_learner_cannot_download_a_cohorts_statements(alice_client: Client, members: Cohort) -> None:
    assert alice_client.get(reverse("educator-export-xapi", args=[members.pk])).status_code == 403


def test_a_co_teacher_downloads_the_cohorts_statements(charlie: User, members: Cohort) -> None:
    members.co_teachers.add(charlie)
    client = Client()
    client.force_login(charlie)
    assert len(download(client, reverse("educator-export-xapi", args=[members.pk]))) == 3


def test_every_extension_iri_resolves_to_a_page_that_documents_it(client: Client, alice: Learner) -> None:
    studied(alice, plan=ALICE_PLAN, recommendation=None)
    iris = {
        iri
        for s in learner_statements(learner=alice)
        for part in ("context", "result")
        for iri in s[part].get("extensions", {})
    }
    assert len(iris) == 7
    for iri in iris:
        page = client.get(urlsplit(iri).path)
        assert page.status_code == 200, iri
        assert iri in page.content.decode()


def test_an_unknown_extension_is_not_found(client: Client) -> None:
    assert client.get("/xapi/extensions/mood").status_code == 404


def test_the_vocabulary_page_lists_every_extension_in_both_languages(client: Client) -> None:
    page = client.get(reverse("xapi-vocabulary")).content.decode()
    assert EXTENSIONS + "confidence-before" in page
    assert "http://adlnet.gov/expapi/verbs/commented" in page
    client.post(reverse("language"), {"language": "zh-hans"})
    assert "xAPI" in client.get(reverse("xapi-vocabulary")).content.decode()


def test_settings_offer_the_download(alice_client: Client) -> None:
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert reverse("account-export-xapi") in page
    assert "sends your sessions" not in page  # no learning record store configured


def test_cohort_page_offers_the_download(dana_client: Client, members: Cohort) -> None:
    page = dana_client.get(reverse("educator-cohort", args=[members.pk])).content.decode()
    assert reverse("educator-export-xapi", args=[members.pk]) in page


def test_the_cohort_download_costs_the_same_queries_for_many_members(
    dana_client: Client, members: Cohort, django_assert_max_num_queries: Any
) -> None:
    url = reverse("educator-export-xapi", args=[members.pk])
    with django_assert_max_num_queries(12) as few:
        download(dana_client, url)
    for name in ("carol", "dave", "erin"):
        learner = Learner.objects.create(user=User.objects.create_user(name))
        CohortMembership.objects.create(cohort=members, learner=learner, share_reflections=name != "dave")
        studied(learner, note=f"{name} note", plan=f"{name} plan")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(download(dana_client, url)) == 3 + 2 + 1 + 2
