"""Reasons are facts, rendered in the reader's language; what they say of similar learners is
what those learners did."""

from __future__ import annotations

from django.utils import translation

from coach.reasons import choice_fact, combination_fact, neighbours_fact, own_fact, reason_text

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


def test_combination_shares_are_whole_percentages_that_add_up_to_100() -> None:
    fact = combination_fact(3, {"model": 0.601, "memory": 0.2495, "optimization": 0.1495})
    assert fact == {"fact": "combination", "n": 3, "shares": {"model": 60, "memory": 25, "optimization": 15}}
    thirds = combination_fact(1, dict.fromkeys(("model", "memory", "optimization"), 1 / 3))["shares"]
    assert sum(thirds.values()) == 100 and sorted(thirds.values()) == [33, 33, 34]
    assert combination_fact(0, {"model": 1.0, "memory": 0.0, "optimization": 0.0})["shares"]["memory"] == 0


def test_combination_sentence_names_what_the_coach_leaned_on_largest_first() -> None:
    fact = combination_fact(3, {"model": 0.25, "memory": 0.6, "optimization": 0.15})
    assert render(fact) == (
        "After 3 sessions, the coach weighs similar learners 60%, the population model 25%, "
        "a model adapted to you 15%."
    )
    one = render(combination_fact(1, {"model": 0.7, "memory": 0.3, "optimization": 0.0}))
    assert one == "After 1 session, the coach weighs the population model 70%, similar learners 30%."
    assert render(combination_fact(0, {"model": 1.0, "memory": 0.0, "optimization": 0.0})) == (
        "With no sessions yet, the coach relies on the population model alone."
    )


def test_combination_sentence_reads_in_chinese() -> None:
    fact = combination_fact(3, {"model": 0.6, "memory": 0.25, "optimization": 0.15})
    with translation.override("zh-hans"):
        text = reason_text([fact], NAMES)
    assert text == "在 3 次学习之后，教练的权重为：总体模型 60%、相似的学习者 25%、为你调整的模型 15%。"
    with translation.override("zh-hans"):
        alone = reason_text([combination_fact(0, {"model": 0.0, "memory": 1.0})], NAMES)
    assert alone == "你还没有学习记录，教练只依据相似的学习者。"
