"""The (high)/(moderate)/(low) tags after strategy names, and the one note that explains them."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from coach.advice import RankedStrategy
from coach.models import Strategy
from learners.models import Learner, Recommendation

pytestmark = pytest.mark.django_db
EXPLANATION = "Dunlosky et al. 2013"


def ranked_recommendation(learner: Learner, *, utility: bool = True) -> Recommendation:
    rows = [
        {"slug": "practice-testing", "name": "Practice testing", "utility": "high"},
        {"slug": "self-explanation", "name": "Self-explanation", "utility": "moderate"},
        {"slug": "rereading", "name": "Rereading", "utility": "low"},
    ]
    ranking = [
        {**row, "expected": 70 - 5 * i, "std": 8, "low": 55 - 5 * i, "high": 85 - 5 * i}
        for i, row in enumerate(rows)
    ]
    if not utility:
        ranking = [{k: v for k, v in row.items() if k != "utility"} for row in ranking]
    return Recommendation.objects.create(
        learner=learner,
        strategy=Strategy.objects.get(slug="practice-testing"),
        expected_score=70,
        score_std=8,
        reason="",
        ranking=ranking,
        source=Recommendation.Source.EVIDENCE,
        basis="test",
    )


def test_the_ranking_tags_each_strategy_and_explains_the_tags(alice: Learner, alice_client: Client) -> None:
    ranked_recommendation(alice)
    page = alice_client.get(reverse("home")).content.decode()
    ranking = page[page.index("All strategies, ranked") : page.index('id="try-it"')]
    for name, tag in [("Practice testing", "high"), ("Self-explanation", "moderate"), ("Rereading", "low")]:
        assert f'{name} <small class="muted utility">({tag})</small>' in ranking
    explanation = ranking[ranking.index('<details class="evidence-tags">') :]
    assert "What do high, moderate and low mean?" in explanation
    assert EXPLANATION in explanation[: explanation.index("</details>")]


def test_rows_stored_without_a_rating_get_no_empty_tag(alice: Learner, alice_client: Client) -> None:
    ranked_recommendation(alice, utility=False)
    page = alice_client.get(reverse("home")).content.decode()
    ranking = page[page.index("All strategies, ranked") : page.index('id="try-it"')]
    assert "Rereading</td>" in ranking
    assert 'class="muted utility"' not in ranking and "()" not in ranking


def test_the_tags_speak_the_readers_language() -> None:
    row = RankedStrategy(
        slug="rereading", name="Rereading", expected=50, std=9, low=35, high=65, utility="low"
    )
    assert row.utility_label == "Low"
    with translation.override("zh-hans"):
        assert row.utility_label == "低"
    assert RankedStrategy(slug="x", name="X", expected=1, std=1, low=0, high=2).utility_label == ""


def test_the_note_for_a_form_field_is_plain_and_can_be_pointed_to() -> None:
    note = render_to_string("includes/evidence_tags.html", {"note_id": "strategy-evidence"})
    assert "<details" not in note
    assert 'id="strategy-evidence"' in note
    assert EXPLANATION in note
    folded = render_to_string("includes/evidence_tags.html", {"details": True})
    assert folded.lstrip().startswith('<details class="evidence-tags">')
