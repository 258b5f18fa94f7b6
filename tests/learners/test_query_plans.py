"""The hot queries use their indexes on PostgreSQL, not a sequential scan of a big table.

Each test fills a few thousand rows (many learners, each with a small share of the rows, as an
install has), runs ANALYZE so the planner knows the sizes, and reads the plan of the ORM's own
query (`explain(format="json")`). Skipped on SQLite, whose planner says little about scale; CI
runs the suite on PostgreSQL with DATABASE_URL set (`.ci/run`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from coach.models import Strategy
from learners.models import (
    Cohort,
    CohortMembership,
    Learner,
    PlannedSession,
    Recommendation,
    StudySession,
    TaskKind,
)
from learners.selectors.cohorts import member_table
from learners.selectors.plan import planned_open
from learners.selectors.recommendations import recommendation_latest
from learners.selectors.sessions import SessionFilters, session_search
from learners.services import reminders

pytestmark = pytest.mark.django_db

N_LEARNERS = 300
SESSIONS_EACH = 20  # 6,000 sessions
RECOMMENDATIONS_EACH = 10
PLANNED_EACH = 10
COHORT_MEMBERS = 12
REMINDED_EVERY = 50  # one learner in 50 has reminders on


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "query plans are checked on PostgreSQL (DATABASE_URL); this run is on " + connection.vendor
        )


@pytest.fixture
def install(_postgresql: None) -> list[Learner]:
    """N_LEARNERS learners with sessions, recommendations and planned sessions; analysed."""
    now = timezone.now()
    strategies = list(Strategy.objects.order_by("position"))
    users = User.objects.bulk_create(
        [User(username=f"learner{i:04d}", email=f"learner{i:04d}@example.org") for i in range(N_LEARNERS)]
    )
    learners = Learner.objects.bulk_create(
        [
            Learner(
                user=user,
                reminder_enabled=i % REMINDED_EVERY == 0,
                email_verified_at=now if i % REMINDED_EVERY == 0 else None,
            )
            for i, user in enumerate(users)
        ]
    )
    StudySession.objects.bulk_create(_sessions(learners, strategies, now), batch_size=2000)
    Recommendation.objects.bulk_create(_recommendations(learners, strategies), batch_size=2000)
    PlannedSession.objects.bulk_create(
        [
            PlannedSession(
                learner=learner,
                subject=f"Subject {k}",
                strategy=strategies[0],
                planned_for=now.date() + timedelta(days=k - PLANNED_EACH // 2),
                status=PlannedSession.Status.PLANNED if k % 2 else PlannedSession.Status.DONE,
            )
            for learner in learners
            for k in range(PLANNED_EACH)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return learners


def _sessions(learners: list[Learner], strategies: list[Strategy], now: Any) -> Iterator[StudySession]:
    kinds = TaskKind.values
    for i, learner in enumerate(learners):
        for k in range(SESSIONS_EACH):
            yield StudySession(
                learner=learner,
                subject=f"Subject {k % 4}",
                task_kind=kinds[k % len(kinds)],
                strategy=strategies[(i + k) % len(strategies)],
                started_at=now - timedelta(days=SESSIONS_EACH - k, minutes=i),
                minutes=30,
                difficulty=3,
                confidence=60,
                score=None if k == SESSIONS_EACH - 1 else 50 + k,
                focus=3,
            )


def _recommendations(learners: list[Learner], strategies: list[Strategy]) -> Iterator[Recommendation]:
    for learner in learners:
        for k in range(RECOMMENDATIONS_EACH):
            yield Recommendation(
                learner=learner,
                strategy=strategies[k % len(strategies)],
                expected_score=60,
                score_std=10,
                reason="",
                ranking=[],
                source=Recommendation.Source.EVIDENCE,
                basis=f"basis-{k}",
            )


def _plan(queryset: QuerySet[Any]) -> list[dict[str, Any]]:
    """Every node of the query's plan, depth first."""
    nodes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(queryset.explain(format="json"))[0]["Plan"])
    return nodes


def _uses_index(nodes: list[dict[str, Any]], index: str) -> bool:
    scans = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
    return any(node["Node Type"] in scans and node.get("Index Name") == index for node in nodes)


def _seq_scanned(nodes: list[dict[str, Any]]) -> set[str]:
    return {node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"}


def _assert_index(queryset: QuerySet[Any], index: str, *, big: tuple[str, ...]) -> None:
    nodes = _plan(queryset)
    summary = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
    assert _uses_index(nodes, index), f"{index} not used: {summary}"
    assert not _seq_scanned(nodes) & set(big), f"sequential scan of {big}: {summary}"


SESSIONS = StudySession._meta.db_table


def test_session_list_reads_a_learners_sessions_newest_first_by_index(install: list[Learner]) -> None:
    page = session_search(learner=install[7], filters=SessionFilters())[:25]
    _assert_index(page, "session_learner_started", big=(SESSIONS,))


def test_dashboard_rows_read_one_learners_sessions_by_index(install: list[Learner]) -> None:
    rows = StudySession.objects.filter(learner=install[7]).order_by("started_at", "id")
    _assert_index(rows, "session_learner_started", big=(SESSIONS,))


def test_cohort_member_table_aggregates_members_sessions_by_index(install: list[Learner]) -> None:
    owner = User.objects.create(username="dana")
    cohort = Cohort.objects.create(name="Biology 101", owner=owner, join_code="BIO101")
    CohortMembership.objects.bulk_create(
        [CohortMembership(cohort=cohort, learner=learner) for learner in install[:COHORT_MEMBERS]]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _assert_index(member_table(cohort=cohort), "session_learner_started", big=(SESSIONS,))


def test_latest_recommendation_is_read_by_index(install: list[Learner]) -> None:
    latest = Recommendation.objects.filter(learner=install[7]).select_related("strategy")[:1]
    assert recommendation_latest(learner=install[7]) is not None
    _assert_index(latest, "recommendation_learner_created", big=(Recommendation._meta.db_table,))


def test_plans_due_query_reads_one_learners_open_plans_by_index(install: list[Learner]) -> None:
    today = timezone.now().date()
    due = planned_open(learner=install[7]).filter(planned_for__lt=today + timedelta(days=7))
    _assert_index(
        due.order_by("planned_for", "subject"), "planned_learner_day", big=(PlannedSession._meta.db_table,)
    )


def test_reminder_dispatch_finds_reminded_learners_without_scanning_sessions(install: list[Learner]) -> None:
    candidates = reminders.reminder_candidates(now=timezone.now())
    _assert_index(candidates, "learner_reminder_enabled", big=(Learner._meta.db_table, SESSIONS))
