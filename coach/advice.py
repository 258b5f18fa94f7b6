"""What a recommendation says: the ranking, the choice and its reason, from the evidence or the engine.

Reasons are written with gettext, so the caller decides the language (the learner's own).
Scores are shown in points out of 100.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coach.engine import SessionLog
from coach.engine.policy import Option, recommend
from coach.engine.stats import Z90
from coach.fallback import evidence_ranking
from coach.models import AdviceSource, Strategy
from coach.snapshots import LoadedSnapshot


@dataclass(frozen=True)
class StrategyRecord:
    """A learner's scored sessions per strategy, indexed like the catalogue."""

    counts: np.ndarray
    means: np.ndarray
    basis: str


@dataclass(frozen=True)
class Advice:
    strategy: Strategy
    expected: float  # points
    std: float  # points
    exploration: bool
    reason: str
    ranking: list[dict[str, Any]]
    source: str


def advice_from_evidence(*, strategies: list[Strategy], record: StrategyRecord) -> Advice:
    """Published evidence moved by the learner's own scores; used until the engine has a snapshot."""
    mean, std = evidence_ranking([s.utility for s in strategies], record.counts, record.means)
    order = np.argsort(-mean, kind="stable")
    best, runner = int(order[0]), int(order[1])
    ranking = [_item(strategies[i], mean[i], std[i], own_sessions=int(record.counts[i])) for i in order]
    parts = [
        _("%(name)s is rated %(utility)s utility in published research (Dunlosky et al. 2013).")
        % {"name": strategies[best].label, "utility": strategies[best].get_utility_display().lower()},
    ]
    n = int(record.counts[best])
    if n:
        parts.append(
            ngettext(
                "Your own average with it is %(mean).0f over %(n)d scored session.",
                "Your own average with it is %(mean).0f over %(n)d scored sessions.",
                n,
            )
            % {"mean": record.means[best], "n": n}
        )
    else:
        parts.append(_("Log sessions with a self-test score to make this advice your own."))
    parts.append(_gap_sentence(mean[best], strategies[runner].label, mean[runner]))
    return Advice(
        strategy=strategies[best],
        expected=float(mean[best]),
        std=float(std[best]),
        exploration=False,
        reason=" ".join(parts),
        ranking=ranking,
        source=AdviceSource.HISTORY if record.counts.sum() else AdviceSource.EVIDENCE,
    )


def advice_from_engine(
    *,
    strategies: list[Strategy],
    snapshot: LoadedSnapshot,
    history: SessionLog,
    context: np.ndarray,
    seed_key: str,
) -> Advice:
    """The model-based learner ranks and chooses (Thompson sampling may explore); the memory-based
    learner's neighbours supply the evidence the learner reads."""
    mean, std = snapshot.model.predict(history, context)
    memory_mean, memory_std = snapshot.memory.predict(history, context)
    names = [s.label for s in strategies]
    noise = snapshot.model.session_noise(mean[0])
    choice = recommend(mean[0], std[0], names=names, noise=noise, seed=_seed(seed_key))
    own = np.bincount(history.strategy, minlength=len(strategies))
    ranking = [
        _item(
            strategies[o.strategy],
            100 * o.mean,
            100 * o.std,
            own_sessions=int(own[o.strategy]),
            memory=(100 * memory_mean[0, o.strategy], 100 * memory_std[0, o.strategy]),
        )
        for o in choice.ranked
    ]
    evidence = snapshot.memory.explain(history, context[0], choice.chosen.strategy)
    reason = " ".join(
        [
            _choice_sentence(choice.chosen, choice.ranked, choice.exploration),
            _neighbour_sentence(
                choice.chosen.name, evidence.n_sessions, evidence.n_learners, evidence.peer_gain
            ),
            _own_sentence(int(own[choice.chosen.strategy]), len(history)),
        ]
    ).strip()
    return Advice(
        strategy=strategies[choice.chosen.strategy],
        expected=100 * choice.chosen.mean,
        std=100 * choice.chosen.std,
        exploration=choice.exploration,
        reason=reason,
        ranking=ranking,
        source=AdviceSource.ENGINE,
    )


def _item(
    strategy: Strategy,
    mean: float,
    std: float,
    *,
    own_sessions: int,
    memory: tuple[float, float] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "slug": strategy.slug,
        "name": strategy.name,
        "utility": strategy.utility,
        "expected": round(float(mean), 1),
        "std": round(float(std), 1),
        "low": round(max(0.0, mean - Z90 * std), 1),
        "high": round(min(100.0, mean + Z90 * std), 1),
        "own_sessions": own_sessions,
    }
    if memory is not None:
        item["memory_expected"] = round(float(memory[0]), 1)
        item["memory_std"] = round(float(memory[1]), 1)
    return item


def _gap_sentence(best: float, runner_name: str, runner: float) -> str:
    gap = round(best) - round(runner)
    if gap <= 0:
        return _("Expected score %(expected).0f, about the same as %(other)s.") % {
            "expected": best,
            "other": runner_name,
        }
    return ngettext(
        "Expected score %(expected).0f, %(gap)d point above the next option, %(other)s.",
        "Expected score %(expected).0f, %(gap)d points above the next option, %(other)s.",
        gap,
    ) % {"expected": best, "gap": gap, "other": runner_name}


def _choice_sentence(chosen: Option, ranked: tuple[Option, ...], exploration: bool) -> str:
    low, high = round(100 * chosen.low), round(100 * chosen.high)
    head = _("%(name)s: expected score %(expected)d (90%% range %(low)d–%(high)d).") % {
        "name": chosen.name,
        "expected": round(100 * chosen.mean),
        "low": low,
        "high": high,
    }
    if exploration:
        top = ranked[0]
        return (
            head
            + " "
            + _(
                "Worth a try: it is close to %(top)s (%(top_score)d), and less is known about how it works "
                "for you, so one session will tell us more."
            )
            % {"top": top.name, "top_score": round(100 * top.mean)}
        )
    if len(ranked) < 2:
        return head
    runner = ranked[1]
    gap = round(100 * chosen.mean) - round(100 * runner.mean)
    if gap <= 0:
        return head + " " + _("About the same as %(other)s.") % {"other": runner.name}
    lead = ngettext(
        "%(gap)d point above the next option, %(other)s.",
        "%(gap)d points above the next option, %(other)s.",
        gap,
    )
    return head + " " + lead % {"gap": gap, "other": runner.name}


def _neighbour_sentence(name: str, n_sessions: int, n_learners: int, gain: float) -> str:
    """What the similar learners' own sessions with the strategy scored against their average
    session: a fact about them, whatever weight the prediction gives them."""
    if n_sessions == 0:
        return _("Similar learners have not tried it yet; this estimate leans on the population model.")
    values: dict[str, int | str] = {"learners": n_learners, "sessions": n_sessions, "name": name.lower()}
    if not np.isfinite(gain):  # a snapshot saved before outcomes were kept
        return _("%(learners)d similar learners used %(name)s in %(sessions)d sessions.") % values
    values["gain"] = abs(round(100 * gain))
    if gain >= 0:
        return (
            _(
                "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
                "%(gain)d points above "
                "their average."
            )
            % values
        )
    return (
        _(
            "Among %(learners)d similar learners (%(sessions)d sessions), %(name)s scored "
            "%(gain)d points below "
            "their average."
        )
        % values
    )


def _own_sentence(own: int, total: int) -> str:
    if total == 0:
        return _("Log sessions with a self-test score and the advice adapts to you.")
    return ngettext(
        "It takes into account your %(n)d scored session, %(own)d with this strategy.",
        "It takes into account your %(n)d scored sessions, %(own)d with this strategy.",
        total,
    ) % {"n": total, "own": own}


def _seed(key: str) -> int:
    # The same data gives the same draw, so refreshing twice recommends the same thing.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
