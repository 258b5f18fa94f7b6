from __future__ import annotations

from unittest import mock

import pytest
from django.utils import translation

from coach.models import Strategy
from learners import tasks
from learners.models import Learner, Recommendation
from learners.services import recommendations as services
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


def test_new_learner_gets_a_high_utility_strategy_from_the_evidence(alice: Learner) -> None:
    recommendation = services.recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    assert recommendation.strategy.utility == "high"
    assert recommendation.source == Recommendation.Source.EVIDENCE
    assert len(recommendation.ranking) == Strategy.objects.count()
    assert "published research" in recommendation.reason


def test_learners_own_scores_move_the_ranking(alice: Learner) -> None:
    rereading = Strategy.objects.get(slug="rereading")
    testing = Strategy.objects.get(slug="practice-testing")
    StudySessionFactory.create_batch(8, learner=alice, strategy=rereading, score=95)
    StudySessionFactory.create_batch(8, learner=alice, strategy=testing, score=40)
    recommendation = services.recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    assert recommendation.strategy == rereading
    assert recommendation.source == Recommendation.Source.HISTORY
    assert "8 scored sessions" in recommendation.reason


def test_uncertainty_shrinks_with_the_learners_own_sessions(alice: Learner) -> None:
    def testing_std(recommendation: Recommendation | None) -> float:
        assert recommendation is not None
        return next(i["std"] for i in recommendation.ranking if i["slug"] == "practice-testing")

    before = testing_std(services.recommendation_refresh(learner_id=alice.pk))
    StudySessionFactory.create_batch(10, learner=alice, score=70)
    assert testing_std(services.recommendation_refresh(learner_id=alice.pk)) < before / 2


def test_refresh_twice_on_the_same_data_writes_one_recommendation(alice: Learner) -> None:
    StudySessionFactory(learner=alice)
    first = services.recommendation_refresh(learner_id=alice.pk)
    second = services.recommendation_refresh(learner_id=alice.pk)
    assert first == second
    assert Recommendation.objects.filter(learner=alice).count() == 1


def test_refresh_for_a_deleted_learner_does_nothing(alice: Learner) -> None:
    learner_id = alice.pk
    alice.user.delete()
    assert services.recommendation_refresh(learner_id=learner_id) is None


def test_catch_up_queues_learners_whose_sessions_are_newer(alice: Learner, bob: Learner) -> None:
    services.recommendation_refresh(learner_id=bob.pk)
    services.recommendation_refresh(learner_id=alice.pk)
    StudySessionFactory(learner=alice)
    with mock.patch("learners.services.recommendations.recommendation_request") as request:
        assert services.recommendation_catch_up() == 1
    request.assert_called_once_with(learner_id=alice.pk)


def test_refresh_task_retries_database_errors_with_backoff() -> None:
    task = tasks.recommendation_refresh_task
    assert task.acks_late is True
    assert task.max_retries == 5
    assert task.retry_backoff
    from django.db import DatabaseError

    assert DatabaseError in task.autoretry_for


def test_the_stored_reason_reads_in_the_language_of_the_page(alice: Learner) -> None:
    alice.language = "zh-hans"
    alice.save()
    recommendation = services.recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None and recommendation.reason_facts
    with translation.override("zh-hans"):
        chinese = recommendation.reason_text
    with translation.override("en"):
        english = recommendation.reason_text
    assert "练习测试" in chinese or "分散练习" in chinese
    assert "Practice testing" in english or "Distributed practice" in english
    assert recommendation.reason == english  # the English rendering, for the admin


def test_switching_language_recomputes_nothing(alice: Learner) -> None:
    from learners.services.sessions import learner_language_set

    with mock.patch("learners.services.sessions.recommendation_request") as request:
        learner_language_set(learner=alice, language="zh-hans")
    request.assert_not_called()


def test_a_dismissed_strategy_gives_way_to_the_next_best_for_that_situation(alice: Learner) -> None:
    first = services.recommendation_refresh(learner_id=alice.pk, task_kind="solve")
    assert first is not None
    with mock.patch("learners.services.recommendations.recommendation_request") as request:
        services.recommendation_respond(recommendation=first, status=Recommendation.Status.DISMISSED)
    request.assert_called_once_with(learner_id=alice.pk, subject="", task_kind="solve")
    second = services.recommendation_refresh(learner_id=alice.pk, task_kind="solve")
    assert second is not None and second.strategy_id != first.strategy_id
    assert second.chosen is not None and second.chosen.slug == second.strategy.slug
    assert "set aside" in second.reason
    first.refresh_from_db()
    assert first.status == Recommendation.Status.DISMISSED  # kept for evaluating the coaching
    # Another situation is not affected.
    other = services.recommendation_refresh(learner_id=alice.pk, task_kind="write")
    assert other is not None and other.strategy_id == first.strategy_id


def test_when_every_strategy_is_set_aside_the_best_returns_and_says_so(alice: Learner) -> None:
    for _ in range(Strategy.objects.count()):
        shown = services.recommendation_refresh(learner_id=alice.pk)
        assert shown is not None
        with mock.patch("learners.services.recommendations.recommendation_request"):
            services.recommendation_respond(recommendation=shown, status=Recommendation.Status.DISMISSED)
    last = services.recommendation_refresh(learner_id=alice.pk)
    assert last is not None
    assert "every strategy aside" in last.reason


def test_a_worker_that_answers_before_the_request_is_stamped_leaves_the_card_ready(
    alice: Learner, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The task can run to the end before the web process records that it asked."""
    from learners.selectors.recommendations import RecommendationStatus, recommendation_status

    StudySessionFactory(learner=alice, score=60)

    def quick_worker(learner_id: int, subject: str, task_kind: str) -> None:
        services.recommendation_refresh(learner_id=learner_id, subject=subject, task_kind=task_kind)

    with (
        mock.patch.object(tasks.recommendation_refresh_task, "delay", side_effect=quick_worker),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.recommendation_request(learner_id=alice.pk) is None
    alice.refresh_from_db()
    latest = Recommendation.objects.filter(learner=alice).latest("created_at")
    assert recommendation_status(learner=alice, latest=latest) == RecommendationStatus.READY
