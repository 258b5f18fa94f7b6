"""What a recommendation says: the ranking, the choice and its reason, from the evidence or the engine.

The reason is a list of facts (`coach.reasons`), rendered in the reader's language when shown.
Scores are in points out of 100.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext

from coach.engine import SessionLog
from coach.engine.policy import recommend
from coach.engine.stats import Z90
from coach.fallback import evidence_ranking
from coach.models import AdviceSource, Strategy
from coach.reasons import Fact, choice_fact, gap_fact, neighbours_fact, own_fact, own_mean_fact, utility_fact
from coach.snapshots import LoadedSnapshot


@dataclass(frozen=True)
class StrategyRecord:
    """A learner's scored sessions per strategy, indexed like the catalogue."""

    counts: np.ndarray
    means: np.ndarray
    basis: str


@dataclass(frozen=True)
class RankedStrategy:
    """One strategy in a recommendation's ranking, in points; stored as a JSON object."""

    slug: str
    name: str  # the catalogue's English name; `label` is it in the active language
    expected: float
    std: float
    low: float  # the 90% range
    high: float
    utility: str = ""
    own_sessions: int = 0
    memory_expected: float | None = None  # the memory-based learner's view, where it advised
    memory_std: float | None = None

    @property
    def label(self) -> str:
        return gettext(self.name)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> RankedStrategy:
        return cls(**{key: row[key] for key in cls.__dataclass_fields__ if key in row})


@dataclass(frozen=True)
class Advice:
    strategy: Strategy
    expected: float  # points
    std: float  # points
    exploration: bool
    reason_facts: list[Fact]
    ranking: list[RankedStrategy]
    source: str


def advice_from_evidence(*, strategies: list[Strategy], record: StrategyRecord) -> Advice:
    """Published evidence moved by the learner's own scores; used until the engine has a snapshot."""
    mean, std = evidence_ranking([s.utility for s in strategies], record.counts, record.means)
    order = np.argsort(-mean, kind="stable")
    best, runner = int(order[0]), int(order[1])
    ranking = [_item(strategies[i], mean[i], std[i], own_sessions=int(record.counts[i])) for i in order]
    n = int(record.counts[best])
    facts = [
        utility_fact(strategies[best].slug, strategies[best].utility),
        own_mean_fact(record.means[best] if n else 0.0, n),
        gap_fact(mean[best], strategies[runner].slug, mean[runner]),
    ]
    return Advice(
        strategy=strategies[best],
        expected=float(mean[best]),
        std=float(std[best]),
        exploration=False,
        reason_facts=facts,
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
    chosen, top = choice.chosen, choice.ranked[0]
    runner = choice.ranked[1] if len(choice.ranked) > 1 else None
    facts = [
        choice_fact(
            strategies[chosen.strategy].slug,
            (round(100 * chosen.mean), round(100 * chosen.low), round(100 * chosen.high)),
            exploring=choice.exploration,
            top=(strategies[top.strategy].slug, round(100 * top.mean)),
            runner=(strategies[runner.strategy].slug, round(100 * runner.mean)) if runner else None,
        ),
        neighbours_fact(
            strategies[chosen.strategy].slug, evidence.n_sessions, evidence.n_learners, evidence.peer_gain
        ),
        own_fact(len(history), int(own[chosen.strategy])),
    ]
    return Advice(
        strategy=strategies[choice.chosen.strategy],
        expected=100 * choice.chosen.mean,
        std=100 * choice.chosen.std,
        exploration=choice.exploration,
        reason_facts=facts,
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
) -> RankedStrategy:
    return RankedStrategy(
        slug=strategy.slug,
        name=strategy.name,
        utility=strategy.utility,
        expected=round(float(mean), 1),
        std=round(float(std), 1),
        low=round(max(0.0, mean - Z90 * std), 1),
        high=round(min(100.0, mean + Z90 * std), 1),
        own_sessions=own_sessions,
        memory_expected=None if memory is None else round(float(memory[0]), 1),
        memory_std=None if memory is None else round(float(memory[1]), 1),
    )


def _seed(key: str) -> int:
    # The same data gives the same draw, so refreshing twice recommends the same thing.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
