from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from coach import snapshots
from coach.engine import MetaLearner
from coach.engine.policy import predict_mixed
from coach.models import EngineRun, EngineSnapshot
from coach.selectors import strategy_list
from learners import dataset
from learners.demo import demo_create
from learners.models import Learner, Recommendation
from learners.services import engine_runs, recommendations
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_process() -> None:
    # Each test's database numbers its snapshots from 1 again: forget the one a test loaded.
    snapshots._current = snapshots._unreadable = None


@pytest.fixture
def cohort() -> None:
    demo_create(members=12, days=40, seed=3)


def queued_run() -> EngineRun:
    with mock.patch("learners.tasks.engine_run_execute_task.delay"):
        return engine_runs.engine_run_request(requested_by=None)


def test_retrain_fits_evaluates_and_stores_a_snapshot(cohort: None) -> None:
    run = engine_runs.engine_run_execute(run_id=queued_run().pk)
    assert run is not None
    assert (run.status, run.progress, run.active) == (EngineRun.Status.SUCCEEDED, 100, False)
    assert run.n_learners == 12 and run.n_sessions > 100
    assert set(run.metrics["learners"]) == {"model", "memory", "optimization", "evidence"}
    assert run.metrics["ks"] == [0, 1, 2, 5, 10]
    # Every later session of the held-out learners, in score points, with intervals over them.
    assert run.metrics["n"][0] > run.metrics["held_out_learners"] == run.metrics["n_learners"][0]
    model = run.metrics["learners"]["model"]
    low, high = model["rmse_ci95"][0]
    assert 1 < low <= model["rmse"][0] <= high < 100
    assert EngineSnapshot.objects.filter(run=run).exists()
    # Every learner reads how confident the learner usually is, as the dataset declares.
    loaded = snapshots.snapshot_current()
    assert loaded is not None
    assert dataset.FEATURES[dataset.HISTORY_COLUMNS[0]] == "confidence"
    for learner in (loaded.model, loaded.memory, loaded.optimization):
        assert learner is not None
        assert tuple(learner.history_columns) == dataset.HISTORY_COLUMNS
        assert learner.history_shrink_.shape == (1,) and learner.history_shrink_[0] > 0


def test_retrain_with_too_little_data_fails_saying_why(alice: Learner) -> None:
    StudySessionFactory.create_batch(3, learner=alice)
    run = engine_runs.engine_run_execute(run_id=queued_run().pk)
    assert run is not None and run.status == EngineRun.Status.FAILED
    assert "at least 5 learners" in run.error
    assert not run.active
    assert not EngineSnapshot.objects.exists()


def test_only_one_retrain_is_queued_or_running_at_a_time() -> None:
    first = queued_run()
    with pytest.raises(engine_runs.EngineRunAlreadyActive) as refused:
        queued_run()
    assert refused.value.run == first


def test_a_run_delivered_twice_trains_once(cohort: None) -> None:
    run = queued_run()
    engine_runs.engine_run_execute(run_id=run.pk)
    assert engine_runs.engine_run_execute(run_id=run.pk) is None
    assert EngineSnapshot.objects.count() == 1


def test_a_run_left_running_by_a_dead_worker_is_claimed_again(cohort: None) -> None:
    run = queued_run()
    long_ago = timezone.now() - timedelta(hours=2)
    EngineRun.objects.filter(pk=run.pk).update(status=EngineRun.Status.RUNNING, started_at=long_ago)
    finished = engine_runs.engine_run_execute(run_id=run.pk)
    assert finished is not None and finished.status == EngineRun.Status.SUCCEEDED


def test_a_run_still_running_is_not_claimed_twice(cohort: None) -> None:
    run = queued_run()
    EngineRun.objects.filter(pk=run.pk).update(status=EngineRun.Status.RUNNING, started_at=timezone.now())
    assert engine_runs.engine_run_execute(run_id=run.pk) is None


@pytest.mark.django_db(transaction=True)
def test_retrain_request_with_the_broker_down_fails_the_run_and_frees_the_slot() -> None:
    with mock.patch("learners.tasks.engine_run_execute_task.delay", side_effect=OperationalError("refused")):
        run = engine_runs.engine_run_request(requested_by=None)
    run.refresh_from_db()
    assert run.status == EngineRun.Status.FAILED and "unavailable" in run.error
    assert not run.active


def test_recommendation_after_a_snapshot_comes_from_the_engine(cohort: None) -> None:
    engine_runs.engine_run_execute(run_id=queued_run().pk)
    demo = Learner.objects.get(user__username="demo")
    recommendation = recommendations.recommendation_refresh(learner_id=demo.pk)
    assert recommendation is not None
    assert recommendation.source == Recommendation.Source.ENGINE
    assert recommendation.snapshot is not None
    assert "similar learners" in recommendation.reason
    assert {"memory_expected", "memory_std"} <= set(recommendation.ranking[0])
    assert [i["expected"] for i in recommendation.ranking] == sorted(
        (i["expected"] for i in recommendation.ranking), reverse=True
    )


def _ranks_with(learner: MetaLearner) -> Recommendation:
    """The demo learner's recommendation, checked to rank with `learner`'s predictions."""
    demo = Learner.objects.get(user__username="demo")
    recommendation = recommendations.recommendation_refresh(learner_id=demo.pk, task_kind="solve")
    assert recommendation is not None and recommendation.source == Recommendation.Source.ENGINE
    history = dataset.session_log_build(strategy_ids=[s.pk for s in strategy_list()], learner_ids=[demo.pk])
    _, context = dataset.situation_context(learner=demo, task_kind="solve")
    mean, _, _ = predict_mixed(learner, history, context)
    loaded = snapshots.snapshot_current()
    assert loaded is not None
    expected = {
        slug: round(100 * float(m), 1) for slug, m in zip(loaded.strategy_slugs, mean[0], strict=True)
    }
    assert {item["slug"]: item["expected"] for item in recommendation.ranking} == expected
    return recommendation


def test_with_too_few_held_out_learners_the_model_learner_ranks(cohort: None) -> None:
    run = engine_runs.engine_run_execute(run_id=queued_run().pk)
    assert run is not None and "combination" not in run.metrics  # 12 learners: 2 or 3 held out
    assert EngineSnapshot.objects.get().combined_learner is None
    loaded = snapshots.snapshot_current()
    assert loaded is not None and loaded.optimization is not None and loaded.combined is None
    assert loaded.ranking_name == "model" and loaded.ranking is loaded.model
    recommendation = _ranks_with(loaded.model)
    assert "the coach weighs" not in recommendation.reason


@pytest.fixture
def large_cohort() -> None:
    # 60 learners: 12 held out, enough to weigh the combination and score it cross-fitted.
    demo_create(members=60, days=30, seed=3)


def test_the_combination_ranks_and_is_stored_as_its_weights_only(large_cohort: None) -> None:
    run = engine_runs.engine_run_execute(run_id=queued_run().pk)
    assert run is not None and run.status == EngineRun.Status.SUCCEEDED
    assert set(run.metrics["learners"]) == {"model", "memory", "optimization", "combined", "evidence"}
    combination = run.metrics["combination"]
    assert combination["learners"] == ["model", "memory", "optimization"]
    assert all(abs(sum(row) - 1) < 0.01 for row in combination["weights"])
    row = EngineSnapshot.objects.get()
    # The weights without the three learners' bytes again (the memory learner's alone are larger).
    assert row.combined_learner is not None and len(bytes(row.combined_learner)) < 20_000
    assert len(bytes(row.combined_learner)) * 10 < len(bytes(row.memory_learner))
    loaded = snapshots.snapshot_current()
    assert loaded is not None and loaded.combined is not None
    assert loaded.ranking_name == "combined" and loaded.ranking is loaded.combined
    bases = loaded.combined.learners_
    assert (bases["model"], bases["memory"], bases["optimization"]) == (
        loaded.model,
        loaded.memory,
        loaded.optimization,
    )
    recommendation = _ranks_with(loaded.combined)
    assert "the coach" in recommendation.reason
    assert any(fact["fact"] == "combination" for fact in recommendation.reason_facts)


def test_a_snapshot_stored_before_the_combination_ranks_with_the_model_learner(large_cohort: None) -> None:
    engine_runs.engine_run_execute(run_id=queued_run().pk)
    EngineSnapshot.objects.update(combined_learner=None)
    snapshots._current = None
    loaded = snapshots.snapshot_current()
    assert loaded is not None and loaded.combined is None and loaded.ranking is loaded.model
    recommendation = _ranks_with(loaded.model)
    assert all(fact["fact"] != "combination" for fact in recommendation.reason_facts)


def test_a_snapshot_stored_before_the_optimization_learner_still_advises(cohort: None) -> None:
    engine_runs.engine_run_execute(run_id=queued_run().pk)
    EngineSnapshot.objects.update(optimization_learner=None)
    snapshots._current = None
    loaded = snapshots.snapshot_current()
    assert loaded is not None and loaded.optimization is None
    demo = Learner.objects.get(user__username="demo")
    recommendation = recommendations.recommendation_refresh(learner_id=demo.pk)
    assert recommendation is not None
    assert recommendation.source == Recommendation.Source.ENGINE
    assert recommendation.snapshot_id == loaded.id


def test_engine_recommendation_is_the_same_when_computed_twice(cohort: None) -> None:
    engine_runs.engine_run_execute(run_id=queued_run().pk)
    demo = Learner.objects.get(user__username="demo")
    first = recommendations.recommendation_refresh(learner_id=demo.pk, task_kind="solve")
    Recommendation.objects.all().delete()
    second = recommendations.recommendation_refresh(learner_id=demo.pk, task_kind="solve")
    assert first is not None and second is not None
    assert (first.strategy, first.exploration, first.reason) == (
        second.strategy,
        second.exploration,
        second.reason,
    )


def test_a_worker_process_loads_each_snapshot_once(cohort: None) -> None:
    engine_runs.engine_run_execute(run_id=queued_run().pk)
    snapshots._current = None
    with mock.patch.object(
        snapshots.MetaLearner, "from_bytes", wraps=snapshots.MetaLearner.from_bytes
    ) as load:
        first = snapshots.snapshot_current()
        second = snapshots.snapshot_current()
    assert first is second
    assert load.call_count == 3  # the model, memory and optimization learners, once


def test_only_the_newest_snapshots_are_kept(cohort: None) -> None:
    for _ in range(snapshots.KEEP + 2):
        engine_runs.engine_run_execute(run_id=queued_run().pk)
    assert EngineSnapshot.objects.count() == snapshots.KEEP
    newest = EngineRun.objects.order_by("-created_at", "-id").first()
    assert EngineSnapshot.objects.filter(run=newest).exists()
