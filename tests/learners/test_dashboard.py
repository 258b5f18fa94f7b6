"""The learner's dashboard: its data, its charts, the recommendation card and the nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coach.models import Strategy
from learners.charts.learner import dashboard_charts
from learners.models import CohortMembership, Learner, Recommendation
from learners.selectors.dashboard import dashboard_data
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)


def strategy(slug: str) -> Strategy:
    return Strategy.objects.get(slug=slug)


def sessions(learner: Learner, n: int, **fields: object) -> None:
    StudySessionFactory.create_batch(
        n,
        learner=learner,
        started_at=fields.pop("started_at", NOW - timedelta(hours=2)),
        **fields,
    )


def recommendation(learner: Learner, **fields: object) -> Recommendation:
    values: dict[str, object] = {
        "learner": learner,
        "strategy": strategy("practice-testing"),
        "expected_score": 72.0,
        "score_std": 8.0,
        "reason": "Practice testing is rated high utility.",
        "ranking": [
            {
                "slug": "practice-testing",
                "name": "Practice testing",
                "expected": 72,
                "std": 8,
                "low": 59,
                "high": 85,
            }
        ],
        "source": Recommendation.Source.EVIDENCE,
        "basis": f"test:{Recommendation.objects.count()}",
    }
    values.update(fields)
    return Recommendation.objects.create(**values)


def test_dashboard_data_sums_minutes_per_week_and_counts_the_streak(alice: Learner) -> None:
    for days_ago in (0, 1, 2, 5):
        sessions(alice, 1, started_at=NOW - timedelta(days=days_ago), minutes=20)
    data = dashboard_data(learner=alice, now=NOW)
    assert data.total_minutes == 80
    assert data.streak_days == 3
    assert data.weekly_minutes[-1].minutes == 60  # Monday 9 to Wednesday 11 March
    assert data.weekly_minutes[-2].minutes == 20
    assert len(data.study_days) == 4


def test_streak_survives_a_day_not_yet_studied(alice: Learner) -> None:
    for days_ago in (1, 2):
        sessions(alice, 1, started_at=NOW - timedelta(days=days_ago))
    assert dashboard_data(learner=alice, now=NOW).streak_days == 2


def test_days_are_counted_in_the_learners_time_zone(alice: Learner) -> None:
    alice.timezone = "Asia/Shanghai"
    alice.save()
    # 20:00 UTC on 10 March is 04:00 on 11 March in Shanghai.
    sessions(alice, 1, started_at=datetime(2026, 3, 10, 20, 0, tzinfo=UTC))
    data = dashboard_data(learner=alice, now=NOW)
    assert data.study_days[0][0].isoformat() == "2026-03-11"


def test_scores_by_strategy_have_a_95_percent_interval(alice: Learner) -> None:
    for score in (50, 60, 70):
        sessions(alice, 1, score=score, strategy=strategy("rereading"))
    (rereading,) = dashboard_data(learner=alice, now=NOW).strategy_scores
    assert rereading.mean == 60
    # t(0.975, 2) = 4.303; sd 10; n 3.
    assert rereading.low == pytest.approx(60 - 4.303 * 10 / 3**0.5, abs=0.01)


def test_a_single_score_gives_no_interval_rather_than_a_certain_one(alice: Learner) -> None:
    sessions(alice, 1, score=83, strategy=strategy("distributed-practice"))
    (spaced,) = dashboard_data(learner=alice, now=NOW).strategy_scores
    assert spaced.mean == 83 and spaced.low is None and spaced.high is None
    chart = dashboard_charts(dashboard_data(learner=alice, now=NOW))[1]
    assert "83 from a single session, too few for an interval" in chart.summary
    assert "83–83" not in chart.summary


def test_unscored_sessions_count_for_time_but_not_for_scores(alice: Learner) -> None:
    sessions(alice, 2, score=None)
    data = dashboard_data(learner=alice, now=NOW)
    assert data.total_minutes == 60
    assert data.strategy_scores == () and data.calibration_stats is None


def test_comparison_uses_the_cohort_when_the_learner_is_in_one(alice: Learner, bob: Learner) -> None:
    cohort = CohortFactory()
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    CohortMembership.objects.create(cohort=cohort, learner=bob)
    outsider = LearnerFactory()
    sessions(alice, 1, score=50)
    sessions(bob, 3, score=80)
    sessions(outsider, 3, score=20)
    data = dashboard_data(learner=alice, now=NOW)
    assert data.comparison_label == "cohort"
    assert data.strategy_scores[0].comparison_mean == 80


def test_comparison_uses_everyone_else_without_a_cohort(alice: Learner, bob: Learner) -> None:
    sessions(alice, 1, score=50)
    sessions(bob, 3, score=80)
    data = dashboard_data(learner=alice, now=NOW)
    assert data.comparison_label == "population"
    assert data.strategy_scores[0].comparison_n == 3


def test_comparison_needs_a_few_sessions_to_be_shown(alice: Learner, bob: Learner) -> None:
    sessions(alice, 1, score=50)
    sessions(bob, 2, score=80)
    assert dashboard_data(learner=alice, now=NOW).strategy_scores[0].comparison_mean is None


def test_overconfidence_on_low_utility_strategies_is_detected(alice: Learner) -> None:
    sessions(alice, 3, confidence=85, score=55, strategy=strategy("highlighting"))
    sessions(alice, 3, confidence=60, score=62)
    data = dashboard_data(learner=alice, now=NOW)
    assert data.low_utility_bias == 30
    assert data.overconfident_on_low_utility


@pytest.mark.parametrize("n", [10, 500])
def test_dashboard_data_query_count_does_not_grow_with_sessions(alice: Learner, bob: Learner, n: int) -> None:
    sessions(alice, n, score=60)
    sessions(bob, 5, score=70, strategy=strategy("rereading"))
    with CaptureQueriesContext(connection) as queries:
        dashboard_data(learner=alice, now=NOW)
    assert len(queries) == 3


@pytest.mark.parametrize("n", [10, 500])
def test_dashboard_page_query_count_does_not_grow_with_sessions(
    alice: Learner, alice_client: Client, n: int
) -> None:
    sessions(alice, n - 1, score=60)
    recommendation(alice)
    alice_client.get(reverse("home"))  # warm the session
    sessions(alice, 1, score=60)  # a change: the figures are built again
    with CaptureQueriesContext(connection) as built:
        response = alice_client.get(reverse("home"))
    assert response.status_code == 200
    # with the suggested subjects, the goals (none: no session query), by subject, the plan due
    assert len(built) == 16
    with CaptureQueriesContext(connection) as kept:
        alice_client.get(reverse("home"))
    # kept: the sessions, comparison, goals, by-subject and recent-sessions queries are not made
    assert len(kept) == 11


def test_dashboard_shows_the_recommendation_with_its_range_and_reason(
    alice: Learner, alice_client: Client
) -> None:
    recommendation(alice)
    page = alice_client.get(reverse("home")).content.decode()
    assert "Practice testing" in page
    assert "probably between 59 and 85" in page
    assert "Practice testing is rated high utility." in page


def test_exploration_is_labelled(alice: Learner, alice_client: Client) -> None:
    recommendation(alice, exploration=True)
    assert "Exploring" in alice_client.get(reverse("home")).content.decode()


def test_an_exploring_headline_quotes_the_suggested_strategys_own_range(
    alice: Learner, alice_client: Client
) -> None:
    top = {
        "slug": "practice-testing",
        "name": "Practice testing",
        "expected": 60,
        "std": 8,
        "low": 41,
        "high": 72,
    }
    tried = {"slug": "rereading", "name": "Rereading", "expected": 52, "std": 19, "low": 21, "high": 84}
    recommendation(
        alice, strategy=strategy("rereading"), expected_score=52.0, exploration=True, ranking=[top, tried]
    )
    page = alice_client.get(reverse("home")).content.decode()
    assert "probably between 21 and 84" in page
    assert "probably between 41 and 72" not in page
    assert 'data-low="21" data-high="84"' in page


def test_the_reason_follows_a_language_switch_and_back(alice: Learner, alice_client: Client) -> None:
    from coach.reasons import own_fact, utility_fact

    facts = [utility_fact("practice-testing", "high"), own_fact(2, 1)]
    recommendation(alice, reason="stored English text", reason_facts=facts)
    alice_client.post(reverse("language"), {"language": "zh-hans", "next": "/"})
    chinese = alice_client.get(reverse("home")).content.decode()
    alice_client.post(reverse("language"), {"language": "en", "next": "/"})
    english = alice_client.get(reverse("home")).content.decode()
    assert "Practice testing is rated high utility" in english
    assert "Practice testing is rated high utility" not in chinese and "练习测试" in chinese


def test_try_it_marks_the_recommendation_followed_and_opens_the_timer(
    alice: Learner, alice_client: Client
) -> None:
    rec = recommendation(alice)
    response = alice_client.post(reverse("recommendation-follow", args=[rec.pk]))
    assert response["Location"] == f"{reverse('study')}?recommendation={rec.pk}"
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.FOLLOWED


def test_not_now_dismisses_with_the_reason(alice: Learner, alice_client: Client) -> None:
    rec = recommendation(alice)
    alice_client.post(reverse("recommendation-dismiss", args=[rec.pk]), {"reason": "Exam tomorrow"})
    rec.refresh_from_db()
    assert (rec.status, rec.dismissed_reason) == (Recommendation.Status.DISMISSED, "Exam tomorrow")


def test_learner_cannot_answer_another_learners_recommendation(bob: Learner, alice_client: Client) -> None:
    rec = recommendation(bob)
    assert alice_client.post(reverse("recommendation-follow", args=[rec.pk])).status_code == 404
    rec.refresh_from_db()
    assert rec.status == Recommendation.Status.SHOWN


def test_asking_for_another_situation_queues_it_for_the_worker(
    alice: Learner,
    alice_client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    recommendation(alice)
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        alice_client.post(reverse("recommendation-refresh"), {"subject": "Physics", "task_kind": "solve"})
    delay.assert_called_once_with(alice.pk, "Physics", "solve")
    status = alice_client.get(reverse("recommendation-status")).json()
    assert status["ready"] is False


def test_illusion_of_competence_nudge_shows_once_and_can_be_dismissed(
    alice: Learner, alice_client: Client
) -> None:
    sessions(alice, 3, confidence=85, score=55, strategy=strategy("rereading"))
    assert 'id="nudge"' in alice_client.get(reverse("home")).content.decode()
    alice_client.post(reverse("nudge-dismiss"))
    assert 'id="nudge"' not in alice_client.get(reverse("home")).content.decode()
    alice.refresh_from_db()
    assert alice.dismissed_nudges == ["illusion-of-competence"]


def test_well_calibrated_learner_gets_no_nudge(alice: Learner, alice_client: Client) -> None:
    sessions(alice, 3, confidence=60, score=58, strategy=strategy("rereading"))
    assert 'id="nudge"' not in alice_client.get(reverse("home")).content.decode()


def test_the_calibration_sentence_is_on_the_dashboard(alice: Learner, alice_client: Client) -> None:
    sessions(alice, 2, confidence=80, score=66)
    assert (
        "You tend to expect 14 points more than you score."
        in alice_client.get(reverse("home")).content.decode()
    )


def test_a_recommendation_without_its_ranking_shows_no_empty_range(
    alice: Learner, alice_client: Client
) -> None:
    recommendation(alice, ranking=[])
    page = alice_client.get(reverse("home")).content.decode()
    assert "Expected self-test score: <strong>72</strong> out of 100." in page
    assert "between  and" not in page and 'class="band"' not in page
