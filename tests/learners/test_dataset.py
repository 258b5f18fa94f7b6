from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from coach.models import Strategy
from learners import dataset
from learners.models import Learner
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


def catalogue_ids() -> list[int]:
    return list(Strategy.objects.order_by("position").values_list("pk", flat=True))


def test_session_log_leaves_out_unscored_sessions_and_scales_the_outcome(alice: Learner) -> None:
    StudySessionFactory(learner=alice, score=80)
    StudySessionFactory(learner=alice, score=None)
    log = dataset.session_log_build(strategy_ids=catalogue_ids())
    assert len(log) == 1
    assert log.outcome.tolist() == [0.8]


def test_session_log_indexes_strategies_in_catalogue_order(alice: Learner) -> None:
    StudySessionFactory(learner=alice, strategy=Strategy.objects.get(slug="rereading"))
    log = dataset.session_log_build(strategy_ids=catalogue_ids())
    assert log.strategy.tolist() == [9]


def test_session_log_is_time_ordered_within_each_learner(alice: Learner, bob: Learner) -> None:
    now = timezone.now()
    late = StudySessionFactory(learner=alice, started_at=now - timedelta(hours=1), score=90)
    StudySessionFactory(learner=bob, started_at=now - timedelta(hours=5), score=10)
    early = StudySessionFactory(learner=alice, started_at=now - timedelta(hours=3), score=30)
    log = dataset.session_log_build(strategy_ids=catalogue_ids()).for_learner(alice.pk)
    assert log.outcome.tolist() == [early.score / 100, late.score / 100]


def test_context_row_encodes_the_situation_and_a_neutral_profile(alice: Learner) -> None:
    StudySessionFactory(learner=alice, task_kind="write", difficulty=5, confidence=40, minutes=600)
    row = dataset.session_log_build(strategy_ids=catalogue_ids()).context[0]
    named = dict(zip(dataset.FEATURES, row, strict=True))
    assert named["task:write"] == 1.0 and named["task:memorise"] == 0.0
    assert named["difficulty"] == 1.0
    assert named["confidence"] == pytest.approx(0.4)
    assert named["minutes"] == pytest.approx(1.0)
    assert named["profile:planning"] == 0.5


def test_context_uses_the_learners_latest_self_report_profile(alice: Learner) -> None:
    alice.profile = {"planning": 5, "monitoring": 1}
    alice.save()
    StudySessionFactory(learner=alice)
    named = dict(
        zip(dataset.FEATURES, dataset.session_log_build(strategy_ids=catalogue_ids()).context[0], strict=True)
    )
    assert (named["profile:planning"], named["profile:monitoring"]) == (1.0, 0.0)


def test_situation_context_takes_the_learners_typical_values(alice: Learner) -> None:
    StudySessionFactory.create_batch(
        3, learner=alice, task_kind="solve", difficulty=4, confidence=80, minutes=50
    )
    situation, context = dataset.situation_context(learner=alice)
    assert (situation.task_kind, situation.difficulty, situation.confidence, situation.minutes) == (
        "solve",
        4,
        80,
        50,
    )
    assert context.shape == (3, dataset.N_FEATURES)  # one row per recent session


def test_the_situation_spans_what_the_learner_may_say_before_the_next_session(alice: Learner) -> None:
    for confidence in (30, 60, 90):
        StudySessionFactory(learner=alice, task_kind="solve", confidence=confidence)
    situation, context = dataset.situation_context(learner=alice, task_kind="memorise")
    column = dataset.FEATURES.index("confidence")
    assert sorted(context[:, column]) == pytest.approx([0.3, 0.6, 0.9])
    assert (context[:, dataset.FEATURES.index("task:memorise")] == 1).all()
    assert situation.confidence == 60


def test_situation_context_on_a_new_install_uses_first_session_assumptions(alice: Learner) -> None:
    situation, context = dataset.situation_context(learner=alice, task_kind="memorise")
    assert situation.task_kind == "memorise"
    assert situation.confidence == dataset.TYPICAL["confidence"]
    assert np.isfinite(context).all()


def test_a_new_learner_is_assumed_as_confident_as_the_installs_learners(alice: Learner, bob: Learner) -> None:
    # Confidence moves every prediction; a fixed guess below the install's usual made every new
    # learner's expected scores too low and their ranges miss.
    StudySessionFactory.create_batch(5, learner=bob, difficulty=2, confidence=85, minutes=45)
    situation = dataset.typical_situation(learner=alice, task_kind="memorise")
    assert (situation.task_kind, situation.difficulty, situation.confidence, situation.minutes) == (
        "memorise",
        2,
        85,
        45,
    )


def test_a_kind_of_task_never_logged_keeps_the_learners_own_usual_values(
    alice: Learner, bob: Learner
) -> None:
    StudySessionFactory.create_batch(3, learner=alice, task_kind="solve", confidence=40, minutes=20)
    StudySessionFactory.create_batch(5, learner=bob, confidence=90)
    situation = dataset.typical_situation(learner=alice, task_kind="memorise")
    assert (situation.task_kind, situation.confidence, situation.minutes) == ("memorise", 40, 20)


def test_a_submitted_self_report_reaches_the_engines_context(alice: Learner) -> None:
    from learners.selfreport import ITEM_KEYS
    from learners.services.selfreport import selfreport_submit

    report = selfreport_submit(learner=alice, answers=dict.fromkeys(ITEM_KEYS, 5))
    StudySessionFactory(learner=alice)
    row = dataset.session_log_build(strategy_ids=catalogue_ids()).context[0]
    profile = [v for name, v in zip(dataset.FEATURES, row, strict=True) if name.startswith("profile:")]
    assert profile == pytest.approx([(report.scores[d] - 1) / 4 for d in dataset.PROFILE_DIMENSIONS])
    assert len(profile) == len(report.scores)


def test_a_learner_with_one_session_varies_as_the_installs_learners_do(alice: Learner, bob: Learner) -> None:
    for confidence in (50, 70, 90):
        StudySessionFactory(learner=bob, confidence=confidence, difficulty=3, minutes=30)
    StudySessionFactory(learner=alice, confidence=40, difficulty=3, minutes=30)
    _, context = dataset.situation_context(learner=alice)
    confidence = np.sort(context[:, dataset.FEATURES.index("confidence")])
    # Alice's own 40, and Bob's -20 / 0 / +20 around his usual 70, centred on hers.
    assert confidence == pytest.approx([0.2, 0.4, 0.4, 0.6])
