"""The metacognition questionnaire: our own items, five dimensions, a 1–5 agreement scale.

In the spirit of the Metacognitive Awareness Inventory (Schraw & Dennison 1994), written anew.
A dimension's score is the mean of its items; reversed items count 6 − answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SCALE = (
    (1, _("Not like me at all")),
    (2, _("Rarely like me")),
    (3, _("Sometimes like me")),
    (4, _("Often like me")),
    (5, _("Very much like me")),
)

DIMENSIONS: dict[str, Promise] = {
    "planning": _("Planning"),
    "monitoring": _("Monitoring"),
    "evaluating": _("Evaluating"),
    "debugging": _("Debugging"),
    "information": _("Information management"),
}

DIMENSION_HELP: dict[str, Promise] = {
    "planning": _("setting goals and choosing how to study before you start"),
    "monitoring": _("noticing, while you study, whether it is working"),
    "evaluating": _("checking afterwards what you learned and how well your method did"),
    "debugging": _("changing course when you are stuck or confused"),
    "information": _("organising, connecting and condensing what you study"),
}


@dataclass(frozen=True)
class Item:
    key: str
    dimension: str
    text: Promise
    reversed: bool = False


ITEMS: tuple[Item, ...] = (
    Item(
        "plan_goal",
        "planning",
        _("Before I start, I decide what exactly I want to be able to do afterwards."),
    ),
    Item(
        "plan_method",
        "planning",
        _("I choose a study method to suit the material instead of using my usual one."),
    ),
    Item(
        "plan_time", "planning", _("I estimate how much time a topic needs and plan my sessions around it.")
    ),
    Item(
        "mon_check",
        "monitoring",
        _("While studying, I stop now and then to check whether I really understand."),
    ),
    Item(
        "mon_drift", "monitoring", _("I notice quickly when my attention has drifted away from the material.")
    ),
    Item("mon_pace", "monitoring", _("I can tell during a session whether I am on track to reach my goal.")),
    Item(
        "eval_test",
        "evaluating",
        _("After studying, I test myself instead of trusting how familiar it feels."),
    ),
    Item(
        "eval_method", "evaluating", _("After a session, I ask myself whether my method was worth the time.")
    ),
    Item(
        "eval_skip",
        "evaluating",
        _("Once I have gone through the material, I assume I know it."),
        reversed=True,
    ),
    Item(
        "dbg_switch",
        "debugging",
        _("When something does not make sense, I try a different way of learning it."),
    ),
    Item("dbg_back", "debugging", _("When I get lost, I go back to the last point I understood.")),
    Item(
        "dbg_help",
        "debugging",
        _("When I am stuck, I look for an example, a different source or a person to ask."),
    ),
    Item("info_own", "information", _("I put new ideas into my own words.")),
    Item("info_link", "information", _("I connect what I learn to things I already know.")),
    Item(
        "info_structure", "information", _("I organise the material, for example in a summary or a diagram.")
    ),
)

ITEM_KEYS = frozenset(item.key for item in ITEMS)


def selfreport_score(answers: dict[str, int]) -> dict[str, float]:
    """Mean answer per dimension, 1..5, rounded to two decimals."""
    sums: dict[str, list[int]] = {key: [] for key in DIMENSIONS}
    for item in ITEMS:
        value = answers[item.key]
        sums[item.dimension].append(6 - value if item.reversed else value)
    return {key: round(sum(values) / len(values), 2) for key, values in sums.items()}
