"""An educator sets how the coach chooses for a cohort's members: Thompson sampling with a price
cap (the default) or greedy; members' recommendations follow it and log it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from learners.models import Cohort, CohortMembership, Learner
from learners.services.recommendations import recommendation_refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana_client(dana: User) -> Client:
    client = Client()
    client.force_login(dana)
    return client


def test_the_settings_page_offers_the_rule_and_says_how_several_cohorts_combine(
    dana_client: Client, cohort: Cohort
) -> None:
    page = dana_client.get(reverse("educator-cohort-settings", args=[cohort.pk])).content.decode()
    assert 'name="policy_rule"' in page and 'name="policy_max_cost"' in page
    assert '<option value="thompson" selected>Thompson sampling</option>' in page
    assert 'value="5"' in page
    assert "joined most recently among those not left at the default" in page


def test_the_owner_sets_a_greedy_rule_and_members_get_it(
    dana_client: Client, cohort: Cohort, alice: Learner
) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    url = reverse("educator-cohort-policy", args=[cohort.pk])
    response = dana_client.post(url, {"policy_rule": "greedy", "policy_max_cost": "10"})
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert (cohort.policy_rule, cohort.policy_max_cost) == ("greedy", 10)
    recommendation = recommendation_refresh(learner_id=alice.pk)
    assert recommendation is not None
    # Before the engine's first snapshot the evidence advises, greedy whatever the setting.
    assert recommendation.policy == "evidence"


@pytest.mark.parametrize(
    "data",
    [
        {"policy_rule": "thompson", "policy_max_cost": "21"},
        {"policy_rule": "thompson", "policy_max_cost": "-1"},
        {"policy_rule": "epsilon", "policy_max_cost": "5"},
        {"policy_rule": "thompson", "policy_max_cost": ""},
    ],
)
def test_a_rule_outside_the_choices_or_a_cap_outside_0_to_20_is_refused(
    dana_client: Client, cohort: Cohort, data: dict[str, str]
) -> None:
    response = dana_client.post(reverse("educator-cohort-policy", args=[cohort.pk]), data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    cohort.refresh_from_db()
    assert (cohort.policy_rule, cohort.policy_max_cost) == ("thompson", 5)


def test_the_database_refuses_a_cap_above_the_limit(cohort: Cohort) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Cohort.objects.filter(pk=cohort.pk).update(policy_max_cost=25)
