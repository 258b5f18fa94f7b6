import pytest

from coach.models import Strategy

pytestmark = pytest.mark.django_db


def test_catalogue_holds_the_ten_rated_techniques_in_order() -> None:
    rows = list(Strategy.objects.values_list("slug", "utility"))
    assert rows == [
        ("practice-testing", "high"),
        ("distributed-practice", "high"),
        ("elaborative-interrogation", "moderate"),
        ("self-explanation", "moderate"),
        ("interleaved-practice", "moderate"),
        ("summarization", "low"),
        ("highlighting", "low"),
        ("keyword-mnemonic", "low"),
        ("imagery-for-text", "low"),
        ("rereading", "low"),
    ]


def test_every_strategy_has_a_how_to_and_its_source() -> None:
    for strategy in Strategy.objects.all():
        assert len(strategy.how_to) > 80, strategy.slug
        assert "Dunlosky" in strategy.evidence_source


def test_catalogue_seed_is_idempotent_and_keeps_ids() -> None:
    import importlib

    from django.apps import apps

    seed = importlib.import_module("coach.migrations.0003_strategy_catalogue").seed
    before = dict(Strategy.objects.values_list("slug", "pk"))
    seed(apps, None)
    assert dict(Strategy.objects.values_list("slug", "pk")) == before
