"""Does the coaching help? The engine page's figures from the logged recommendations: the coach's
rule as logged, the published ranking evaluated off-policy, and learners' own choices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, Learner, Recommendation, StudySession
from learners.selectors.coaching import (
    NO_FIGURE,
    CoachingValue,
    Figure,
    coaching_rows,
    coaching_value,
)
from learners.services.coaching import coaching_value_refresh, coaching_value_request
from tests.factories import CohortFactory, LearnerFactory, StudySessionFactory

pytestmark = pytest.mark.django_db

TESTING, SPACING, REREADING = "practice-testing", "distributed-practice", "rereading"


@pytest.fixture(autouse=True)
def no_broker() -> Iterator[mock.MagicMock]:
    with mock.patch("learners.tasks.coaching_value_refresh_task.delay") as delay:
        yield delay


def logged(
    learner: Learner,
    *,
    recommended: str,
    chances: dict[str, float],
    studied: str | None = None,
    score: int | None = 70,
    policy: str = "thompson",
    max_cost: float | None = 5.0,
) -> Recommendation:
    """A recommendation logged with `chances`, followed by a session of `studied` scoring `score`."""
    strategy = Strategy.objects.get(slug=recommended)
    session = StudySessionFactory(
        learner=learner, strategy=Strategy.objects.get(slug=studied or recommended), score=score
    )
    return Recommendation.objects.create(
        learner=learner,
        strategy=strategy,
        expected_score=70,
        score_std=10,
        reason="",
        ranking=[],
        source="engine",
        basis=f"test:{session.pk}",
        policy=policy,
        policy_version=1,
        policy_max_cost=max_cost,
        propensities=chances,
        propensity_stderr=dict.fromkeys(chances, 0.0),
        next_session=session,
    )


def members(cohort: Cohort, n: int) -> list[Learner]:
    learners = LearnerFactory.create_batch(n)
    for learner in learners:
        CohortMembership.objects.create(cohort=cohort, learner=learner)
    return learners


CHANCES = {TESTING: 0.5, SPACING: 0.25, REREADING: 0.25}


def test_the_three_figures_are_the_logged_mean_the_reweighted_published_choice_and_own_choices(
    cohort: Cohort,
) -> None:
    a, b, c = members(cohort, 3)
    logged(a, recommended=TESTING, chances=CHANCES, score=80)
    logged(a, recommended=SPACING, chances=CHANCES, score=60)
    logged(b, recommended=TESTING, chances=CHANCES, studied=REREADING, score=50)
    logged(b, recommended=REREADING, chances=CHANCES, score=40)
    logged(c, recommended=TESTING, chances={**CHANCES, TESTING: 0.25, REREADING: 0.5}, score=90)
    value = coaching_value(cohort=cohort)
    assert value is not None
    assert (value.n_recommendations, value.n_learners) == (5, 3)
    # (i) the rule as logged: every weight is 1, the plain mean.
    assert value.product.value == pytest.approx((80 + 60 + 50 + 40 + 90) / 5)
    assert value.product.ess == pytest.approx(5)
    # (ii) practice testing, the first high-utility strategy: its three rows weighted 1 / 0.5,
    # 1 / 0.5 and 1 / 0.25.
    weights, scores = np.array([2.0, 2.0, 4.0]), np.array([80, 50, 90])
    assert value.published.value == pytest.approx((weights * scores).sum() / weights.sum())
    assert value.published.ess == pytest.approx(weights.sum() ** 2 / (weights**2).sum())
    # (iii) the one session where the learner studied something other than what was recommended.
    assert (value.own_choice.value, value.own_choice.n) == (50, 1)
    assert value.product.low is not None and value.product.low < value.product.value < value.product.high


def test_only_recommendations_with_propensities_and_a_scored_session_after_count(cohort: Cohort) -> None:
    (a,) = members(cohort, 1)
    logged(a, recommended=TESTING, chances=CHANCES, score=80)
    logged(a, recommended=TESTING, chances={}, policy="", max_cost=None, score=10)  # before logging
    logged(a, recommended=TESTING, chances=CHANCES, score=None)  # not scored yet
    logged(a, recommended=REREADING, chances={TESTING: 1.0, REREADING: 0.0}, score=20)  # probability 0
    value = coaching_value(cohort=cohort)
    assert value is not None
    assert (value.n_recommendations, value.product.value, value.left_out) == (1, 80, 1)


def test_the_published_ranking_chooses_among_the_strategies_the_rule_could_choose(cohort: Cohort) -> None:
    (a,) = members(cohort, 1)
    # Practice testing set aside: the published ranking's next high-utility strategy stands in.
    logged(a, recommended=SPACING, chances={SPACING: 0.5, REREADING: 0.5}, score=66)
    logged(a, recommended=REREADING, chances={SPACING: 0.5, REREADING: 0.5}, score=30)
    value = coaching_value(cohort=cohort)
    assert value is not None
    assert value.published.value == 66


def test_a_cohort_counts_its_members_only(cohort: Cohort, bob: Learner) -> None:
    (a,) = members(cohort, 1)
    logged(a, recommended=TESTING, chances=CHANCES, score=80)
    logged(bob, recommended=TESTING, chances=CHANCES, score=20)
    value = coaching_value(cohort=cohort)
    assert value is not None and value.product.value == 80


def test_all_learners_figures_need_several_learners(alice: Learner, bob: Learner) -> None:
    logged(alice, recommended=TESTING, chances=CHANCES)
    logged(bob, recommended=TESTING, chances=CHANCES)
    assert coaching_value(cohort=None) is None
    for learner in LearnerFactory.create_batch(3):
        logged(learner, recommended=TESTING, chances=CHANCES)
    value = coaching_value(cohort=None)
    assert value is not None and value.n_learners == 5


def test_the_rules_made_under_are_counted(cohort: Cohort) -> None:
    a, b = members(cohort, 2)
    logged(a, recommended=TESTING, chances=CHANCES)
    logged(a, recommended=TESTING, chances=CHANCES)
    logged(b, recommended=TESTING, chances={TESTING: 1.0, SPACING: 0.0}, policy="greedy", max_cost=None)
    value = coaching_value(cohort=cohort)
    assert value is not None
    assert [(r.label, r.n) for r in value.rules] == [("Thompson sampling, cap 5 points", 2), ("Greedy", 1)]


def figure(value: float, half: float, ess: float) -> Figure:
    return Figure(value=value, low=value - half, high=value + half, ess=ess, n=100)


@pytest.mark.parametrize(
    ("product", "published", "comparison"),
    [
        (figure(70, 3, 100), figure(60, 3, 29), "few"),
        (figure(70, 3, 20), figure(60, 3, 100), "few"),
        (figure(70, 3, 100), figure(60, 3, 40), "higher"),
        (figure(55, 3, 100), figure(65, 3, 40), "lower"),
        (figure(64, 3, 100), figure(60, 3, 40), "overlap"),
    ],
)
def test_a_comparison_needs_an_ess_of_30_and_intervals_apart(
    product: Figure, published: Figure, comparison: str
) -> None:
    value = CoachingValue(
        n_recommendations=100, n_learners=20, product=product, published=published, own_choice=NO_FIGURE
    )
    assert value.comparison == comparison


def test_the_worker_keeps_the_figures_under_the_data_they_came_from(
    cohort: Cohort, no_broker: mock.MagicMock
) -> None:
    (a,) = members(cohort, 1)
    logged(a, recommended=TESTING, chances=CHANCES, score=80)
    (row, _all) = coaching_rows(cohorts=[cohort])
    assert (row.entry, row.current) == (None, False)
    assert coaching_value_request(rows=[row]) is True
    assert coaching_value_request(rows=[row]) is True  # asked once per basis
    no_broker.assert_called_once_with(cohort.pk)
    coaching_value_refresh(cohort_id=cohort.pk)
    (row, _all) = coaching_rows(cohorts=[cohort])
    assert row.current and row.entry is not None and row.entry.value is not None
    assert row.entry.value.product.value == 80
    # A member's new session makes the figures out of date; they stay shown until the next ones.
    logged(a, recommended=TESTING, chances=CHANCES, score=40)
    (row, _all) = coaching_rows(cohorts=[cohort])
    assert not row.current and row.entry is not None


def test_a_broker_that_is_down_is_reported(cohort: Cohort, no_broker: mock.MagicMock) -> None:
    no_broker.side_effect = OSError("down")
    (row, _all) = coaching_rows(cohorts=[cohort])
    assert coaching_value_request(rows=[row]) is False


# The page -----------------------------------------------------------------------------------------


@pytest.fixture
def dana_client(dana: User) -> Client:
    client = Client()
    client.force_login(dana)
    return client


def test_the_engine_page_shows_each_of_the_educators_cohorts_and_all_learners(
    dana_client: Client, dana: User, cohort: Cohort, charlie: User
) -> None:
    cohort.policy_rule = "greedy"
    cohort.save()
    learners = members(cohort, 6)
    for i, learner in enumerate(learners):
        for j in range(6):
            logged(learner, recommended=TESTING, chances=CHANCES, score=50 + i + j)
    coaching_value_refresh(cohort_id=cohort.pk)
    coaching_value_refresh(cohort_id=None)
    page = dana_client.get(reverse("educator-engine")).content.decode()
    assert "Does the coaching help?" in page
    assert "judged by the self-test score of the session that followed it" in page
    assert "bootstrap over learners" in page
    section = page[page.index('id="coaching-' + str(cohort.pk)) :]
    assert "Biology 101" in section[:300] and "Rule in force:</a> <strong>Greedy</strong>" in section
    assert "Recommendations counted: 36, of 6 learners." in section
    assert "Not enough data yet" not in section.split("</article>")[0]
    assert 'id="coaching-all"' in page
    # Another educator's cohort is not on dana's page.
    other = Cohort.objects.get(owner=charlie)
    assert f'id="coaching-{other.pk}"' not in page


def test_few_recommendations_say_not_enough_data_yet(dana_client: Client, cohort: Cohort) -> None:
    (a,) = members(cohort, 1)
    logged(a, recommended=TESTING, chances=CHANCES)
    coaching_value_refresh(cohort_id=cohort.pk)
    page = dana_client.get(reverse("educator-engine")).content.decode()
    assert "Not enough data yet to compare the coach with the published ranking." in page


def test_missing_figures_are_asked_for_and_the_page_says_so(
    dana_client: Client, cohort: Cohort, no_broker: mock.MagicMock
) -> None:
    page = dana_client.get(reverse("educator-engine")).content.decode()
    assert page.count("Being computed; reload the page in a minute.") == 2
    assert [call.args for call in no_broker.call_args_list] == [(cohort.pk,), (None,)]


def test_the_engine_page_reads_figures_in_queries_that_do_not_grow_with_cohorts_or_data(
    dana_client: Client, dana: User, cohort: Cohort
) -> None:
    def count() -> int:
        for c in Cohort.objects.filter(owner=dana):
            coaching_value_refresh(cohort_id=c.pk)
        coaching_value_refresh(cohort_id=None)
        with CaptureQueriesContext(connection) as queries:
            assert dana_client.get(reverse("educator-engine")).status_code == 200
        return len(queries)

    (a,) = members(cohort, 1)
    logged(a, recommended=TESTING, chances=CHANCES)
    few = count()
    for extra in [CohortFactory(owner=dana), CohortFactory(owner=dana)]:
        for learner in members(extra, 3):
            for _ in range(3):
                logged(learner, recommended=SPACING, chances=CHANCES)
    assert count() == few


def test_a_learner_cannot_open_the_engine_page(alice_client: Client) -> None:
    assert alice_client.get(reverse("educator-engine")).status_code == 403


def test_the_figures_are_kept_in_the_cache_not_computed_by_the_page(
    dana_client: Client, cohort: Cohort
) -> None:
    cache.clear()
    with mock.patch("learners.selectors.coaching.coaching_value") as compute:
        dana_client.get(reverse("educator-engine"))
    compute.assert_not_called()


def test_sessions_linked_by_the_product_count(cohort: Cohort) -> None:
    """End to end: a recommendation from the service, the session the learner saves after it."""
    from learners.services.recommendations import recommendation_refresh
    from learners.services.sessions import SessionInput, session_create

    (a,) = members(cohort, 1)
    shown = recommendation_refresh(learner_id=a.pk)
    assert shown is not None
    data = SessionInput(
        subject="Biology",
        task_kind="memorise",
        strategy=shown.strategy,
        started_at=timezone.now() - timedelta(minutes=1),
        minutes=20,
        difficulty=3,
        confidence=60,
        score=77,
        focus=3,
    )
    with mock.patch("learners.tasks.recommendation_refresh_task.delay"):
        session_create(learner=a, data=data)
    value = coaching_value(cohort=cohort)
    assert value is not None and (value.n_recommendations, value.product.value) == (1, 77)
    assert StudySession.objects.get(learner=a).pk == Recommendation.objects.get(pk=shown.pk).next_session_id


def test_a_cohort_without_counted_recommendations_says_so(dana_client: Client, cohort: Cohort) -> None:
    members(cohort, 2)
    coaching_value_refresh(cohort_id=cohort.pk)
    page = dana_client.get(reverse("educator-engine")).content.decode()
    assert "No recommendation with a scored session after it yet." in page


def test_past_the_limit_the_figures_rest_on_a_fixed_sample_of_whole_learners(cohort: Cohort) -> None:
    learners = members(cohort, 6)
    for learner in learners:
        logged(learner, recommended=TESTING, chances=CHANCES, score=learner.pk % 100)
        logged(learner, recommended=SPACING, chances=CHANCES, score=learner.pk % 100)
    with mock.patch("learners.selectors.coaching.MAX_LEARNERS", 3):
        first, second = coaching_value(cohort=cohort), coaching_value(cohort=cohort)
    assert first is not None and first == second
    assert first.of_learners == 6 and first.n_learners == 3
    assert first.n_recommendations == 6  # all of each sampled learner's recommendations


def test_the_page_says_how_often_the_published_choice_was_possible(
    dana_client: Client, cohort: Cohort
) -> None:
    learners = members(cohort, 2)
    for learner in learners:
        logged(learner, recommended=TESTING, chances=CHANCES)
        # A greedy choice of another strategy: nothing here says how practice testing would do.
        logged(learner, recommended=SPACING, chances={TESTING: 0.0, SPACING: 1.0}, policy="greedy")
    value = coaching_value(cohort=cohort)
    assert value is not None and value.published_support == 0.5
    coaching_value_refresh(cohort_id=cohort.pk)
    page = dana_client.get(reverse("educator-engine")).content.decode().replace("&#x27;", "'")
    assert "The published ranking's strategy could have been recommended in 50% of them" in page
