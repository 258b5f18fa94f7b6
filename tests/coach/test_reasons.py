"""Reasons are facts, rendered in the reader's language; what they say of similar learners is
what those learners did."""

from __future__ import annotations

from django.utils import translation

from coach.reasons import choice_fact, neighbours_fact, own_fact, reason_text

NAMES = {
    "practice-testing": "Practice testing",
    "rereading": "Rereading",
    "keyword-mnemonic": "Keyword mnemonic",
}


def render(*facts: dict) -> str:
    with translation.override("en"):
        return reason_text(list(facts), NAMES)


def test_similar_learners_sentence_gives_their_scores_against_their_average() -> None:
    assert render(neighbours_fact("practice-testing", 23, 9, 0.12)) == (
        "Among 9 similar learners (23 sessions), practice testing scored 12 points above their average."
    )
    assert "4 points below" in render(neighbours_fact("rereading", 40, 12, -0.04))
    assert "1 point above" in render(neighbours_fact("rereading", 40, 12, 0.01))
    assert "rereading scored about their average" in render(neighbours_fact("rereading", 5, 3, 0.001))


def test_similar_learners_sentence_without_their_scores_gives_counts_only() -> None:
    sentence = render(neighbours_fact("practice-testing", 23, 9, float("nan")))
    assert sentence == "9 similar learners used practice testing in 23 sessions."


def test_similar_learners_who_never_used_it_are_named_as_such() -> None:
    assert "have not tried it yet" in render(neighbours_fact("keyword-mnemonic", 0, 0, float("nan")))


def test_the_same_facts_read_in_the_language_of_the_page() -> None:
    facts = [
        choice_fact("rereading", (52, 21, 84), exploring=True, top=("practice-testing", 60), runner=None),
        own_fact(6, 1),
    ]
    with translation.override("zh-hans"):
        chinese = reason_text(facts, NAMES)
    with translation.override("en"):
        english = reason_text(facts, NAMES)
    assert "Rereading: expected score 52 (90% range 21–84)" in english
    assert "Practice testing (60)" in english
    assert "Rereading" not in chinese and "52" in chinese and "21–84" in chinese
    assert chinese != english
