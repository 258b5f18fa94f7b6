"""The cohort overview, its member table and a member's read-only page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, Learner, Recommendation, Reflection, StudySession
from learners.selectors.cohorts import cohort_overview, member_table
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def join(cohort: Cohort, learner: Learner, *, share: bool = False, days_ago: int = 0) -> CohortMembership:
    membership = CohortMembership.objects.create(cohort=cohort, learner=learner, share_reflections=share)
    if days_ago:
        joined = timezone.now() - timedelta(days=days_ago)
        CohortMembership.objects.filter(pk=membership.pk).update(joined_at=joined)
    return membership


def strategy(slug: str) -> Strategy:
    return Strategy.objects.get(slug=slug)


def recommendation(learner: Learner, status: str, basis: str) -> Recommendation:
    return Recommendation.objects.create(
        learner=learner,
        strategy=strategy("practice-testing"),
        expected_score=70,
        score_std=8,
        reason="",
        ranking=[],
        source=Recommendation.Source.EVIDENCE,
        basis=basis,
        status=status,
    )


def test_overview_counts_only_this_cohorts_members(cohort: Cohort, alice: Learner, bob: Learner) -> None:
    join(cohort, alice)
    StudySessionFactory(learner=alice, minutes=40)
    StudySessionFactory(learner=bob, minutes=90)  # not a member
    overview = cohort_overview(cohort=cohort)
    assert overview.members == 1
    assert overview.active_learners[-1] == 1
    assert overview.minutes_per_learner[-1] == 40


def test_strategy_mix_shows_the_weekly_share_of_each_strategy(cohort: Cohort, alice: Learner) -> None:
    join(cohort, alice)
    StudySessionFactory.create_batch(3, learner=alice, strategy=strategy("practice-testing"))
    StudySessionFactory(learner=alice, strategy=strategy("rereading"))
    mix = cohort_overview(cohort=cohort).strategy_mix
    assert mix["Practice testing"][-1] == pytest.approx(0.75)
    assert mix["Rereading"][-1] == pytest.approx(0.25)


def test_score_by_strategy_has_an_interval_around_the_mean(
    cohort: Cohort, alice: Learner, bob: Learner
) -> None:
    join(cohort, alice)
    join(cohort, bob)
    for score in (50, 60, 70):
        StudySessionFactory(learner=alice, score=score)
    (estimate,) = cohort_overview(cohort=cohort).score_by_strategy
    assert estimate.n == 3
    assert estimate.mean == pytest.approx(60)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 60 < estimate.high
    # Student's t with 2 degrees of freedom, as on the learner's own dashboard: 4.303 * sd / sqrt(n).
    assert estimate.high - 60 == pytest.approx(4.303 * 10 / 3**0.5, abs=0.01)


def test_bias_distribution_has_one_value_per_learner(cohort: Cohort, alice: Learner, bob: Learner) -> None:
    join(cohort, alice)
    join(cohort, bob)
    StudySessionFactory(learner=alice, confidence=90, score=60)
    StudySessionFactory(learner=alice, confidence=80, score=70)
    StudySessionFactory(learner=bob, confidence=50, score=60)
    assert sorted(cohort_overview(cohort=cohort).biases) == [-10.0, 20.0]


def test_follow_through_counts_statuses_and_scores_after_following(cohort: Cohort, alice: Learner) -> None:
    join(cohort, alice)
    followed = recommendation(alice, "followed", "a")
    dismissed = recommendation(alice, "dismissed", "b")
    recommendation(alice, "shown", "c")
    StudySessionFactory(learner=alice, recommendation=followed, score=80)
    StudySessionFactory(learner=alice, recommendation=dismissed, score=50)
    overview = cohort_overview(cohort=cohort)
    assert overview.follow_through == {"shown": 1, "followed": 1, "dismissed": 1, "other": 0}
    assert {e.label: e.mean for e in overview.score_after} == {"followed": 80, "not_followed": 50}


def test_overview_page_shows_the_members_and_all_charts(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    join(cohort, alice)
    StudySessionFactory(learner=alice)
    page = dana_client.get(reverse("educator-cohort", args=[cohort.pk])).content.decode()
    assert "alice" in page
    for key in ("cohort-active", "cohort-minutes", "cohort-mix", "cohort-scores", "cohort-bias"):
        assert f'id="chart-{key}"' in page
    assert cohort.join_code in page
    assert "vendor/plotly/plotly-basic.min.js" in page


def test_member_table_flags_inactive_and_overconfident_learners(
    cohort: Cohort, alice: Learner, bob: Learner
) -> None:
    carol = LearnerFactory(user=UserFactory(username="carol"))
    join(cohort, alice, days_ago=30)
    join(cohort, bob, days_ago=30)
    join(cohort, carol, days_ago=30)
    StudySessionFactory(learner=alice, started_at=timezone.now() - timedelta(days=20))
    StudySessionFactory.create_batch(3, learner=bob, confidence=90, score=60)
    StudySessionFactory.create_batch(3, learner=carol, confidence=70, score=65)
    rows = {m.learner.user.username: m for m in member_table(cohort=cohort)}
    assert (rows["alice"].inactive, rows["alice"].overconfident) == (True, False)
    assert (rows["bob"].inactive, rows["bob"].overconfident) == (False, True)
    assert (rows["carol"].inactive, rows["carol"].overconfident) == (False, False)
    assert rows["bob"].bias == pytest.approx(30)
    assert rows["bob"].n_sessions == 3


def test_new_member_without_sessions_is_not_flagged_inactive(cohort: Cohort, alice: Learner) -> None:
    join(cohort, alice)
    assert member_table(cohort=cohort).get().inactive is False


def test_member_table_searches_by_username(cohort: Cohort, alice: Learner, bob: Learner) -> None:
    join(cohort, alice)
    join(cohort, bob)
    assert [m.learner.user.username for m in member_table(cohort=cohort, search="ALI")] == ["alice"]


def test_member_table_sorts_by_a_column_either_way(cohort: Cohort, alice: Learner, bob: Learner) -> None:
    join(cohort, alice)
    join(cohort, bob)
    StudySessionFactory.create_batch(2, learner=bob)
    StudySessionFactory(learner=alice)
    names = [m.learner.user.username for m in member_table(cohort=cohort, sort="-sessions")]
    assert names == ["bob", "alice"]
    names = [m.learner.user.username for m in member_table(cohort=cohort, sort="sessions")]
    assert names == ["alice", "bob"]


def test_unknown_sort_falls_back_to_name(cohort: Cohort, alice: Learner, bob: Learner) -> None:
    join(cohort, bob)
    join(cohort, alice)
    names = [m.learner.user.username for m in member_table(cohort=cohort, sort="password")]
    assert names == ["alice", "bob"]


def test_member_table_is_paginated(dana_client: Client, cohort: Cohort) -> None:
    for i in range(30):
        join(cohort, LearnerFactory(user=UserFactory(username=f"learner{i:02d}")))
    first = dana_client.get(reverse("educator-cohort", args=[cohort.pk]))
    second = dana_client.get(reverse("educator-cohort", args=[cohort.pk]), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5


def test_member_page_shows_reflections_only_when_shared(
    dana_client: Client, cohort: Cohort, alice: Learner, bob: Learner
) -> None:
    join(cohort, alice, share=True)
    join(cohort, bob, share=False)
    Reflection.objects.create(session=StudySessionFactory(learner=alice), what_worked="Alice flashcards")
    Reflection.objects.create(session=StudySessionFactory(learner=bob), what_worked="Bob secret diary")
    alice_page = dana_client.get(reverse("educator-member", args=[cohort.pk, alice.pk])).content.decode()
    bob_page = dana_client.get(reverse("educator-member", args=[cohort.pk, bob.pk])).content.decode()
    assert "Alice flashcards" in alice_page
    assert "Bob secret diary" not in bob_page
    assert "keeps their session notes and the text of their reflections private" in bob_page


def test_member_page_shows_the_learners_dashboard_charts(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    join(cohort, alice)
    StudySessionFactory.create_batch(2, learner=alice)
    response = dana_client.get(reverse("educator-member", args=[cohort.pk, alice.pk]))
    assert len(response.context["charts"]) >= 3
    assert 'class="chart"' in response.content.decode()


def _populate(cohort: Cohort, n: int) -> None:
    """n members with two sessions and a recommendation each, written in bulk."""
    password = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"m{cohort.pk}-{i}", password=password) for i in range(n)]
    )
    learners = Learner.objects.bulk_create([Learner(user=u) for u in users])
    CohortMembership.objects.bulk_create(
        [CohortMembership(cohort=cohort, learner=learner, share_reflections=True) for learner in learners]
    )
    pt, rr = strategy("practice-testing"), strategy("rereading")
    now = timezone.now()
    StudySession.objects.bulk_create(
        [
            StudySession(
                learner=learner,
                subject="Biology",
                task_kind="memorise",
                strategy=pt if i % 2 else rr,
                started_at=now - timedelta(days=i % 20, hours=1),
                minutes=30,
                difficulty=3,
                confidence=70,
                score=60 + i % 30,
                focus=4,
            )
            for learner in learners
            for i in range(2)
        ]
    )
    Recommendation.objects.bulk_create(
        [
            Recommendation(
                learner=learner,
                strategy=pt,
                expected_score=70,
                score_std=8,
                reason="",
                ranking=[],
                source="evidence",
                basis="x",
                status="followed",
            )
            for learner in learners
        ]
    )


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
        if response.streaming:
            b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("educator-cohort", {}),
        ("educator-cohort", {"q": "m", "sort": "-bias", "page": "2"}),
        ("educator-export-sessions", {}),
        ("educator-export-reflections", {}),
        ("educator-export-recommendations", {}),
    ],
)
def test_queries_do_not_grow_with_the_cohort(
    dana: User, dana_client: Client, name: str, params: dict[str, str]
) -> None:
    small, large = CohortFactory(owner=dana), CohortFactory(owner=dana)
    _populate(small, 5)
    _populate(large, 300)

    def url(cohort: Cohort) -> str:
        if name.startswith("educator-export-"):
            return reverse("educator-export", args=[cohort.pk, name.removeprefix("educator-export-")])
        return reverse(name, args=[cohort.pk])

    if params.get("page") == "2":
        params = {**params, "page": "1"}  # the small cohort has one page
    assert _queries(dana_client, url(small), params) == _queries(dana_client, url(large), params)


def test_educator_list_queries_do_not_grow_with_cohorts(dana: User, dana_client: Client) -> None:
    CohortFactory(owner=dana)
    few = _queries(dana_client, reverse("educator-home"))
    CohortFactory.create_batch(20, owner=dana)
    assert _queries(dana_client, reverse("educator-home")) == few


def test_member_page_queries_do_not_grow_with_the_learners_sessions(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    join(cohort, alice, share=True)
    url = reverse("educator-member", args=[cohort.pk, alice.pk])
    for session in StudySessionFactory.create_batch(2, learner=alice):
        Reflection.objects.create(session=session, what_worked="x")
    _queries(dana_client, url)  # other learners' figures, kept for a while, are read once
    few = _queries(dana_client, url)
    for session in StudySessionFactory.create_batch(40, learner=alice):
        Reflection.objects.create(session=session, what_worked="x")
    assert _queries(dana_client, url) == few


def test_a_reflection_from_before_the_length_limit_is_shown_only_up_to_the_limit(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    join(cohort, alice, share=True)
    session = StudySessionFactory(learner=alice)
    # Stored before forms limited reflections to 2,000 characters; written directly, as it was.
    Reflection.objects.create(session=session, evaluate="x" * 100_000)
    page = dana_client.get(reverse("educator-member", args=[cohort.pk, alice.pk])).content.decode()
    assert "x" * 1999 in page and "x" * 2001 not in page
