"""Reason texts: the facts behind a recommendation, rendered in the reader's language.

A recommendation stores its reason as facts (which strategy, which numbers), never as text, so
it reads in whatever language the page is shown in, however often the learner switches.
Strategy names are stored as catalogue slugs and looked up in `names` (slug -> catalogue name).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from coach.models import Utility

Fact = dict[str, Any]
Label = Callable[[str], str]


def reason_text(facts: list[Fact], names: Mapping[str, str]) -> str:
    """The facts as sentences in the active language."""

    def label(slug: str) -> str:
        return _(names.get(slug, slug))

    return " ".join(_SENTENCES[fact["fact"]](fact, label) for fact in facts).strip()


# The facts, as advice.py records them --------------------------------------------------------
def utility_fact(strategy: str, utility: str) -> Fact:
    return {"fact": "utility", "strategy": strategy, "utility": utility}


def own_mean_fact(mean: float, n: int) -> Fact:
    return {"fact": "own_mean", "mean": round(float(mean), 1), "n": int(n)}


def gap_fact(expected: float, other: str, other_expected: float) -> Fact:
    return {
        "fact": "gap",
        "expected": float(expected),
        "other": other,
        "other_expected": float(other_expected),
    }


def choice_fact(
    strategy: str,
    points: tuple[int, int, int],
    *,
    exploring: bool,
    top: tuple[str, int],
    runner: tuple[str, int] | None,
) -> Fact:
    expected, low, high = points
    return {
        "fact": "choice",
        "strategy": strategy,
        "expected": expected,
        "low": low,
        "high": high,
        "exploring": exploring,
        "top": top[0],
        "top_expected": top[1],
        "runner": runner[0] if runner else None,
        "runner_expected": runner[1] if runner else None,
    }


def neighbours_fact(strategy: str, n_sessions: int, n_learners: int, gain: float) -> Fact:
    return {
        "fact": "neighbours",
        "strategy": strategy,
        "sessions": int(n_sessions),
        "learners": int(n_learners),
        "gain": round(100 * gain) if math.isfinite(gain) else None,
    }


def own_fact(n: int, own: int) -> Fact:
    return {"fact": "own", "n": int(n), "own": int(own)}


def combination_fact(n: int, shares: Mapping[str, float]) -> Fact:
    """The combination's weight on each learner ({name: share of 1}) after `n` sessions, in
    whole percentages that add up to 100 (largest remainders)."""
    names = list(shares)
    raw = np.array([max(float(shares[name]), 0.0) for name in names])
    raw *= 100.0 / raw.sum() if raw.sum() > 0 else 0.0
    whole = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - whole), kind="stable")[: 100 - int(whole.sum())]:
        whole[i] += 1
    return {
        "fact": "combination",
        "n": int(n),
        "shares": {name: int(w) for name, w in zip(names, whole, strict=True)},
    }


def set_aside_fact(n: int, *, every: bool) -> Fact:
    return {"fact": "set_aside", "n": int(n), "every": every}


# Their sentences -----------------------------------------------------------------------------
def _utility(fact: Fact, label: Label) -> str:
    utility = str(Utility(fact["utility"]).label)
    return _("%(name)s is rated %(utility)s utility in published research (Dunlosky et al. 2013).") % {
        "name": label(fact["strategy"]),
        "utility": utility.lower(),
    }


def _own_mean(fact: Fact, label: Label) -> str:
    if not fact["n"]:
        return _("Log sessions with a self-test score to make this advice your own.")
    return ngettext(
        "Your own average with it is %(mean).0f over %(n)d scored session.",
        "Your own average with it is %(mean).0f over %(n)d scored sessions.",
        fact["n"],
    ) % {"mean": fact["mean"], "n": fact["n"]}


def _gap(fact: Fact, label: Label) -> str:
    best, runner = fact["expected"], fact["other_expected"]
    gap = round(best) - round(runner)
    if gap <= 0:
        return _("Expected score %(expected).0f, about the same as %(other)s.") % {
            "expected": best,
            "other": label(fact["other"]),
        }
    return ngettext(
        "Expected score %(expected).0f, %(gap)d point above the next option, %(other)s.",
        "Expected score %(expected).0f, %(gap)d points above the next option, %(other)s.",
        gap,
    ) % {"expected": best, "gap": gap, "other": label(fact["other"])}


def _choice(fact: Fact, label: Label) -> str:
    head = _("%(name)s: expected score %(expected)d (90%% range %(low)d–%(high)d).") % {
        "name": label(fact["strategy"]),
        "expected": fact["expected"],
        "low": fact["low"],
        "high": fact["high"],
    }
    if fact["exploring"]:
        return (
            head
            + " "
            + _(
                "Worth a try: it is close to %(top)s (%(top_score)d), and less is known about how it works "
                "for you, so one session will tell us more."
            )
            % {"top": label(fact["top"]), "top_score": fact["top_expected"]}
        )
    if fact["runner"] is None:
        return head
    gap = fact["expected"] - fact["runner_expected"]
    if gap <= 0:
        return head + " " + _("About the same as %(other)s.") % {"other": label(fact["runner"])}
    lead = ngettext(
        "%(gap)d point above the next option, %(other)s.",
        "%(gap)d points above the next option, %(other)s.",
        gap,
    )
    return head + " " + lead % {"gap": gap, "other": label(fact["runner"])}


def _neighbours(fact: Fact, label: Label) -> str:
    """What the similar learners' own sessions with the strategy scored against their average
    session: a fact about them, whatever weight the prediction gives them."""
    if fact["sessions"] == 0:
        return _("Similar learners have not tried it yet; this estimate leans on the population model.")
    values: dict[str, int | str] = {
        "learners": fact["learners"],
        "sessions": fact["sessions"],
        "name": label(fact["strategy"]).lower(),
    }
    if fact["gain"] is None:
        return _("%(learners)d similar learners used %(name)s in %(sessions)d sessions.") % values
    gain = abs(int(fact["gain"]))
    values["gain"] = gain
    if gain == 0:
        return (
            _(
                "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored about "
                "their average."
            )
            % values
        )
    if fact["gain"] >= 0:
        return (
            ngettext(
                "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
                "%(gain)d point above their average.",
                "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
                "%(gain)d points above their average.",
                gain,
            )
            % values
        )
    return (
        ngettext(
            "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
            "%(gain)d point below their average.",
            "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
            "%(gain)d points below their average.",
            gain,
        )
        % values
    )


def _own(fact: Fact, label: Label) -> str:
    if fact["n"] == 0:
        return _("Log sessions with a self-test score and the advice adapts to you.")
    return ngettext(
        "It takes into account your %(n)d scored session, %(own)d with this strategy.",
        "It takes into account your %(n)d scored sessions, %(own)d with this strategy.",
        fact["n"],
    ) % {"n": fact["n"], "own": fact["own"]}


def _set_aside(fact: Fact, label: Label) -> str:
    if fact["every"]:
        return _(
            "You have set every strategy aside for this situation, so this is the best of all of them again."
        )
    return ngettext(
        "The strategy you set aside for this situation is left out.",
        "The %(n)d strategies you set aside for this situation are left out.",
        fact["n"],
    ) % {"n": fact["n"]}


def _learner_part(name: str) -> str:
    """How a reason names each of the engine's learners."""
    if name == "model":
        return _("the population model")
    if name == "memory":
        return _("similar learners")
    if name == "optimization":
        return _("a model adapted to you")
    return name


def _combination(fact: Fact, label: Label) -> str:
    shares = sorted(((share, name) for name, share in fact["shares"].items() if share > 0), reverse=True)
    if not shares:
        return ""
    n = fact["n"]
    if len(shares) == 1:
        values: dict[str, int | str] = {"n": n, "learner": _learner_part(shares[0][1])}
        if n == 0:
            return _("With no sessions yet, the coach relies on %(learner)s alone.") % values
        return (
            ngettext(
                "After %(n)d session, the coach relies on %(learner)s alone.",
                "After %(n)d sessions, the coach relies on %(learner)s alone.",
                n,
            )
            % values
        )
    parts = pgettext("list of learners", ", ").join(
        _("%(learner)s %(share)d%%") % {"learner": _learner_part(name), "share": share}
        for share, name in shares
    )
    if n == 0:
        return _("With no sessions yet, the coach weighs %(parts)s.") % {"parts": parts}
    return ngettext(
        "After %(n)d session, the coach weighs %(parts)s.",
        "After %(n)d sessions, the coach weighs %(parts)s.",
        n,
    ) % {"n": n, "parts": parts}


_SENTENCES: dict[str, Callable[[Fact, Label], str]] = {
    "utility": _utility,
    "own_mean": _own_mean,
    "gap": _gap,
    "choice": _choice,
    "neighbours": _neighbours,
    "own": _own,
    "set_aside": _set_aside,
    "combination": _combination,
}
