"""Every recommendation stores the probability with which its rule would have chosen each strategy
in that situation (its propensities), the rule and the cap in force, and later the session that
followed it."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coach.advice import POLICY_VERSION, engine_policy_inputs
from coach.engine.policy import recommend
from coach.models import Strategy
from coach.selectors import strategy_list
from coach.snapshots import snapshot_current
from learners import dataset
from learners.models import Cohort, CohortMembership, Learner, Recommendation
from learners.services.recommendations import recommendation_refresh
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory, UserFactory

pytestmark = pytest.mark.django_db

SEEDS = 3000  # recommend() calls whose choices are compared with the stored probabilities


def member(cohort: Cohort, **fields: object) -> Learner:
    learner = LearnerFactory()
    CohortMembership.objects.create(cohort=cohort, learner=learner)
    # Two scored sessions: the engine knows a little of this learner, so Thompson sampling explores.
    for slug, score in [("practice-testing", 70), ("rereading", 55)]:
        StudySessionFactory(learner=learner, strategy=Strategy.objects.get(slug=slug), score=score)
    return learner


def refresh(learner: Learner) -> Recommendation:
    recommendation = recommendation_refresh(learner_id=learner.pk)
    assert recommendation is not None
    return recommendation


def test_stored_propensities_match_how_often_the_rule_chooses_each_strategy(
    snapshot: None, dana: User
) -> None:
    cohort = CohortFactory(owner=dana, policy_max_cost=20)
    learner = member(cohort)
    stored = refresh(learner)
    assert stored.source == Recommendation.Source.ENGINE
    assert (stored.policy, stored.policy_max_cost, stored.policy_version) == (
        "thompson",
        20.0,
        POLICY_VERSION,
    )
    assert stored.propensity_draws == 4000
    assert max(stored.propensity_stderr.values()) < 0.01
    assert sum(stored.propensities.values()) == pytest.approx(1.0)

    # The rule's inputs, computed once as the refresh computed them; then the rule itself, seed
    # after seed, with the cohort's cap.
    strategies = strategy_list()
    loaded = snapshot_current()
    assert loaded is not None
    history = dataset.session_log_build(strategy_ids=[s.pk for s in strategies], learner_ids=[learner.pk])
    _, context = dataset.situation_context(learner=learner, task_kind="")
    inputs = engine_policy_inputs(snapshot=loaded, history=history, context=context, set_aside=frozenset())
    picks = [
        int(
            inputs.allowed[
                recommend(inputs.mean, inputs.std, max_cost=0.20, noise=inputs.noise, seed=s).chosen.strategy
            ]
        )
        for s in range(SEEDS)
    ]
    frequency = np.bincount(picks, minlength=len(strategies)) / SEEDS

    chosen_among = [s for s in strategies if s.slug in stored.propensities]
    assert len(chosen_among) == len(strategies)
    # A test of exploring, not of a rule that always picks one strategy.
    assert sum(p > 0.02 for p in stored.propensities.values()) >= 2
    for position, strategy in enumerate(strategies):
        p, se = stored.propensities[strategy.slug], stored.propensity_stderr[strategy.slug]
        f = frequency[position]
        combined = np.sqrt(se**2 + max(f * (1 - f), p * (1 - p)) / SEEDS)
        assert abs(f - p) <= 4 * combined + 1e-9, (strategy.slug, f, p, combined)


def test_a_greedy_cohort_stores_exactly_one_for_the_best_and_zero_for_the_rest(
    snapshot: None, dana: User
) -> None:
    cohort = CohortFactory(owner=dana, policy_rule="greedy")
    stored = refresh(member(cohort))
    assert (stored.policy, stored.policy_max_cost, stored.propensity_draws) == ("greedy", None, 0)
    assert stored.strategy.slug == stored.ranked[0].slug and not stored.exploration
    assert stored.propensities == {row.slug: float(row.slug == stored.strategy.slug) for row in stored.ranked}
    assert set(stored.propensity_stderr.values()) == {0.0}


def test_the_evidence_is_greedy_and_leaves_set_aside_strategies_out(alice: Learner) -> None:
    first = refresh(alice)
    assert (first.policy, first.policy_version, first.propensity_draws) == ("evidence", POLICY_VERSION, 0)
    assert first.propensities[first.strategy.slug] == 1.0
    assert sum(first.propensities.values()) == 1.0
    assert len(first.propensities) == Strategy.objects.count()
    first.status = Recommendation.Status.DISMISSED
    first.save()
    second = refresh(alice)
    assert first.strategy.slug not in second.propensities
    assert second.propensities[second.strategy.slug] == 1.0


def test_a_learner_in_several_cohorts_follows_the_latest_joined_with_its_own_setting(
    alice: Learner, dana: User
) -> None:
    from learners.selectors.recommendations import policy_setting

    greedy = CohortFactory(owner=dana, policy_rule="greedy")
    wide = CohortFactory(owner=dana, policy_max_cost=15)
    plain = CohortFactory(owner=dana)
    assert policy_setting(learner_id=alice.pk).rule == "thompson"
    now = timezone.now()
    for days, cohort in [(3, greedy), (2, wide), (1, plain)]:
        membership = CohortMembership.objects.create(cohort=cohort, learner=alice)
        CohortMembership.objects.filter(pk=membership.pk).update(joined_at=now - timedelta(days=days))
    # `plain` was joined last but keeps the default; `wide` is the latest with a setting of its own.
    assert (policy_setting(learner_id=alice.pk).rule, policy_setting(learner_id=alice.pk).max_cost) == (
        "thompson",
        15,
    )
    wide.archived = True
    wide.save()
    assert policy_setting(learner_id=alice.pk).rule == "greedy"


def test_a_new_cohort_setting_gives_the_next_refresh_a_new_recommendation(alice: Learner, dana: User) -> None:
    cohort = CohortFactory(owner=dana)
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    before = refresh(alice)
    cohort.policy_max_cost = 10
    cohort.save()
    assert refresh(alice) != before


def test_the_admin_shows_the_logged_rule_read_only(alice: Learner) -> None:
    recommendation = refresh(alice)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(
        reverse("admin:learners_recommendation_change", args=[recommendation.pk])
    ).content.decode()
    for label in ["Policy", "Policy version", "Propensities", "Propensity stderr", "Next session"]:
        assert f"<label>{label}:</label>" in page
    assert 'name="propensities"' not in page


def log(learner: Learner, *, slug: str, started: timedelta = timedelta(0), score: int | None = 60) -> int:
    """A session saved through the service, started `started` from now; its id."""
    from learners.services.sessions import SessionInput, session_create

    data = SessionInput(
        subject="Biology",
        task_kind="memorise",
        strategy=Strategy.objects.get(slug=slug),
        started_at=timezone.now() + started,
        minutes=20,
        difficulty=3,
        confidence=60,
        score=score,
        focus=3,
    )
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        return session_create(learner=learner, data=data).session.pk


def test_the_next_session_is_linked_and_says_whether_the_learner_followed(alice: Learner) -> None:
    shown = refresh(alice)
    session_id = log(alice, slug=shown.strategy.slug)
    shown.refresh_from_db()
    assert (shown.next_session_id, shown.status) == (session_id, Recommendation.Status.FOLLOWED)
    assert shown.responded_at is not None

    other = refresh(alice)
    slug = next(s.slug for s in Strategy.objects.all() if s.slug != other.strategy.slug)
    session_id = log(alice, slug=slug)
    other.refresh_from_db()
    assert (other.next_session_id, other.status) == (session_id, Recommendation.Status.OTHER)


def test_only_the_first_session_after_a_recommendation_follows_it(alice: Learner) -> None:
    shown = refresh(alice)
    first = log(alice, slug=shown.strategy.slug)
    log(alice, slug="rereading")  # no refresh between: the card still shows `shown`
    shown.refresh_from_db()
    assert (shown.next_session_id, shown.status) == (first, Recommendation.Status.FOLLOWED)


def test_a_session_that_started_before_the_recommendation_does_not_follow_it(alice: Learner) -> None:
    shown = refresh(alice)
    log(alice, slug=shown.strategy.slug, started=-timedelta(days=2))
    shown.refresh_from_db()
    assert (shown.next_session_id, shown.status) == (None, Recommendation.Status.SHOWN)


def test_a_dismissal_stays_a_dismissal_when_a_session_follows(alice: Learner) -> None:
    shown = refresh(alice)
    shown.status = Recommendation.Status.DISMISSED
    shown.save()
    session_id = log(alice, slug="rereading")
    shown.refresh_from_db()
    assert (shown.next_session_id, shown.status) == (session_id, Recommendation.Status.DISMISSED)


def test_editing_the_sessions_strategy_updates_what_the_learner_did(alice: Learner) -> None:
    from learners.models import StudySession
    from learners.services.sessions import SessionInput, session_update

    shown = refresh(alice)
    session = StudySession.objects.get(pk=log(alice, slug=shown.strategy.slug))
    other = next(s for s in Strategy.objects.all() if s.pk != shown.strategy_id)
    fields = {f: getattr(session, f) for f in SessionInput.__dataclass_fields__ if f != "strategy"}
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        session_update(session=session, data=SessionInput(strategy=other, **fields))
    shown.refresh_from_db()
    assert shown.status == Recommendation.Status.OTHER


def test_linking_the_session_takes_one_query(alice: Learner) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from learners.services.sessions import _recommendation_follow

    refresh(alice)
    session = StudySessionFactory(learner=alice, started_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        _recommendation_follow(session=session)
    assert len(queries) == 1
    assert Recommendation.objects.get(learner=alice).next_session_id == session.pk


@pytest.mark.django_db(transaction=True)
def test_recommendations_stored_before_propensities_migrate_as_unknown() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("learners", "0017_xapi")], [("learners", "0018_policy_propensities")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="olga")
    learner = old.get_model("learners", "Learner").objects.create(user=user)
    cohort = old.get_model("learners", "Cohort").objects.create(name="Old", owner=user)
    recommendation = old.get_model("learners", "Recommendation").objects.create(
        learner=learner,
        strategy=old.get_model("coach", "Strategy").objects.order_by("pk").first(),
        expected_score=70,
        score_std=10,
        reason="",
        ranking=[],
        source="evidence",
        basis="old",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    migrated = new.get_model("learners", "Recommendation").objects.get(pk=recommendation.pk)
    assert (migrated.propensities, migrated.policy, migrated.policy_version) == ({}, "", 0)
    assert (migrated.next_session_id, migrated.status) == (None, "shown")
    kept = new.get_model("learners", "Cohort").objects.get(pk=cohort.pk)
    assert (kept.policy_rule, kept.policy_max_cost) == ("thompson", 5)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
