"""What the reason says about similar learners is what they did."""

from __future__ import annotations

from coach.advice import _neighbour_sentence


def test_similar_learners_sentence_gives_their_scores_against_their_average() -> None:
    assert _neighbour_sentence("Practice testing", 23, 9, 0.12) == (
        "Among 9 similar learners (23 sessions), practice testing scored 12 points above their average."
    )
    assert "4 points below" in _neighbour_sentence("Rereading", 40, 12, -0.04)


def test_similar_learners_sentence_without_their_scores_gives_counts_only() -> None:
    sentence = _neighbour_sentence("Practice testing", 23, 9, float("nan"))
    assert sentence == "9 similar learners used practice testing in 23 sessions."


def test_similar_learners_who_never_used_it_are_named_as_such() -> None:
    assert "have not tried it yet" in _neighbour_sentence("Keyword mnemonic", 0, 0, float("nan"))
