"""What a recommendation says: the ranking, the choice and its reason, from the evidence or the engine.

The reason is a list of facts (`coach.reasons`), rendered in the reader's language when shown.
Scores are in points out of 100.

Every piece of advice carries its propensities: the probability with which the rule in force
(`PolicySetting`) would have chosen each strategy in that situation, so that the logged
recommendations can later answer what another rule would have achieved
(`coach.engine.policy_eval`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from django.utils.translation import gettext

from coach.engine import SessionLog
from coach.engine.policy import (
    THOMPSON,
    Recommendation,
    choice_probabilities,
    draw_noise,
    predict_mixed,
    recommend,
)
from coach.engine.stats import Z90
from coach.fallback import DEFAULT_POPULATION, Population, evidence_ranking
from coach.models import AdviceSource, Policy, Strategy, Utility
from coach.reasons import (
    Fact,
    choice_fact,
    combination_fact,
    gap_fact,
    neighbours_fact,
    own_fact,
    own_mean_fact,
    set_aside_fact,
    utility_fact,
)
from coach.snapshots import LoadedSnapshot

# Raised whenever the way a recommendation is chosen changes (the rule, its inputs, how its
# propensities are estimated): logged propensities are only comparable under one version.
POLICY_VERSION = 1
# Thompson sampling's price cap, in points: the most a suggestion may cost in expected score.
DEFAULT_MAX_COST = 5
MAX_COST_LIMIT = 20  # an educator may raise the cap this far for a cohort, no further


@dataclass(frozen=True)
class PolicySetting:
    """How the engine chooses for a learner: Thompson sampling with a price cap (points), or greedy."""

    rule: str = Policy.THOMPSON
    max_cost: int = DEFAULT_MAX_COST

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_POLICY


DEFAULT_POLICY = PolicySetting()


@dataclass(frozen=True)
class Propensities:
    """How likely the rule in force was to choose each strategy in the situation.

    `probability` and `stderr` map the slugs of the strategies it chose among; strategies set aside
    are left out (it could not choose them: probability 0). Exact (stderr 0, draws 0) for a greedy
    choice; otherwise estimated from `draws` seeded draws of the same rule.
    """

    policy: str
    max_cost: float | None  # points; None where no price cap applied (greedy, evidence)
    probability: dict[str, float]
    stderr: dict[str, float]
    draws: int
    version: int = POLICY_VERSION


class PolicyInputs(NamedTuple):
    """What the engine's rule chooses among: the allowed strategies' catalogue indices; for each,
    the predicted outcome's mean and std and the session noise its draws leave out (fractions)."""

    allowed: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    noise: np.ndarray


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

    @property
    def utility_label(self) -> str:
        """The published rating ("High", ...) in the active language; "" for rows stored without one."""
        return str(Utility(self.utility).label) if self.utility else ""

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
    propensities: Propensities


def advice_from_evidence(
    *,
    strategies: list[Strategy],
    record: StrategyRecord,
    population: Population = DEFAULT_POPULATION,
    set_aside: frozenset[int] = frozenset(),
) -> Advice:
    """Published evidence moved by the learner's own scores; used until the engine has a snapshot.
    `population`: the install's spreads (`coach.fallback.population_estimate`). `set_aside`:
    catalogue indices the learner dismissed for this situation, never chosen while another
    strategy is left."""
    utilities = [s.utility for s in strategies]
    mean, std = evidence_ranking(utilities, record.counts, record.means, population)
    order = np.argsort(-mean, kind="stable")
    ranking = [_item(strategies[i], mean[i], std[i], own_sessions=int(record.counts[i])) for i in order]
    allowed = _allowed(len(strategies), set_aside)
    candidates = [int(i) for i in order if allowed[i]]
    best, runner = candidates[0], (candidates[1] if len(candidates) > 1 else int(order[1]))
    # Always the best of the allowed strategies: exactly 1 for it, 0 for the others.
    probability = {strategies[i].slug: float(i == best) for i in candidates}
    n = int(record.counts[best])
    facts = [
        utility_fact(strategies[best].slug, strategies[best].utility),
        own_mean_fact(record.means[best] if n else 0.0, n),
        gap_fact(mean[best], strategies[runner].slug, mean[runner]),
        *_set_aside_facts(len(strategies), set_aside),
    ]
    return Advice(
        strategy=strategies[best],
        expected=float(mean[best]),
        std=float(std[best]),
        exploration=False,
        reason_facts=facts,
        ranking=ranking,
        source=AdviceSource.HISTORY if record.counts.sum() else AdviceSource.EVIDENCE,
        propensities=Propensities(
            policy=Policy.EVIDENCE,
            max_cost=None,
            probability=probability,
            stderr=dict.fromkeys(probability, 0.0),
            draws=0,
        ),
    )


def advice_from_engine(
    *,
    strategies: list[Strategy],
    snapshot: LoadedSnapshot,
    history: SessionLog,
    context: np.ndarray,
    seed_key: str,
    set_aside: frozenset[int] = frozenset(),
    setting: PolicySetting = DEFAULT_POLICY,
) -> Advice:
    """The ranking learner (`coach.snapshots.ranking_learner`) ranks and chooses (Thompson
    sampling may explore, unless `setting` is greedy) among the strategies not set aside; the
    memory-based learner's neighbours supply the evidence the learner reads. `context`: (m, d)
    rows, the situations the next session may be (`predict_mixed`)."""
    mean, std, situational = predict_mixed(snapshot.ranking, history, context)
    memory_mean, memory_std, _ = predict_mixed(snapshot.memory, history, context)
    own = np.bincount(history.strategy, minlength=len(strategies))
    ranking = [
        _item(
            strategies[i],
            100 * mean[0, i],
            100 * std[0, i],
            own_sessions=int(own[i]),
            memory=(100 * memory_mean[0, i], 100 * memory_std[0, i]),
        )
        for i in np.argsort(-mean[0], kind="stable")
    ]
    inputs = _policy_inputs(snapshot, mean, std, situational, set_aside)
    picked, propensities = policy_choice(inputs, strategies=strategies, setting=setting, seed_key=seed_key)
    # The policy saw the allowed strategies only; its indices are mapped back to the catalogue's.
    index = inputs.allowed
    choice = replace(
        picked,
        chosen=replace(picked.chosen, strategy=int(index[picked.chosen.strategy])),
        ranked=tuple(replace(o, strategy=int(index[o.strategy])) for o in picked.ranked),
    )
    evidence = snapshot.memory.explain(history, context.mean(axis=0), choice.chosen.strategy)
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
        *_combination_facts(snapshot, history, context, chosen.strategy),
        *_set_aside_facts(len(strategies), set_aside),
    ]
    return Advice(
        strategy=strategies[choice.chosen.strategy],
        expected=100 * choice.chosen.mean,
        std=100 * choice.chosen.std,
        exploration=choice.exploration,
        reason_facts=facts,
        ranking=ranking,
        source=AdviceSource.ENGINE,
        propensities=propensities,
    )


def engine_policy_inputs(
    *, snapshot: LoadedSnapshot, history: SessionLog, context: np.ndarray, set_aside: frozenset[int]
) -> PolicyInputs:
    """The inputs `advice_from_engine` gives the rule, for checking its propensities."""
    mean, std, situational = predict_mixed(snapshot.ranking, history, context)
    return _policy_inputs(snapshot, mean, std, situational, set_aside)


def policy_choice(
    inputs: PolicyInputs, *, strategies: list[Strategy], setting: PolicySetting, seed_key: str
) -> tuple[Recommendation, Propensities]:
    """The rule's choice among `inputs` (indices into them) and its probabilities of choosing
    each, computed with the same arguments so that the two always describe one rule."""
    thompson = setting.rule == Policy.THOMPSON
    rule: dict[str, Any] = {
        "explore": THOMPSON if thompson else 0.0,
        "max_cost": setting.max_cost / 100.0,
        "noise": inputs.noise,
    }
    names = [strategies[i].label for i in inputs.allowed]
    picked = recommend(inputs.mean, inputs.std, names=names, seed=_seed(seed_key), **rule)
    # Seeded apart from the choice: the estimate does not reuse the draw that chose.
    chance = choice_probabilities(inputs.mean, inputs.std, seed=_seed(f"{seed_key}:propensities"), **rule)
    slugs = [strategies[i].slug for i in inputs.allowed]
    return picked, Propensities(
        policy=Policy.THOMPSON if thompson else Policy.GREEDY,
        max_cost=float(setting.max_cost) if thompson else None,
        probability={slug: float(p) for slug, p in zip(slugs, chance.probability, strict=True)},
        stderr={slug: float(e) for slug, e in zip(slugs, chance.stderr, strict=True)},
        draws=chance.draws,
    )


def _policy_inputs(
    snapshot: LoadedSnapshot,
    mean: np.ndarray,
    std: np.ndarray,
    situational: np.ndarray,
    set_aside: frozenset[int],
) -> PolicyInputs:
    index = np.flatnonzero(_allowed(mean.shape[1], set_aside))
    noise = draw_noise(snapshot.model, mean[0], situational[0])
    return PolicyInputs(allowed=index, mean=mean[0, index], std=std[0, index], noise=noise[index])


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
        low=round(float(max(0.0, mean - Z90 * std)), 1),
        high=round(float(min(100.0, mean + Z90 * std)), 1),
        own_sessions=own_sessions,
        memory_expected=None if memory is None else round(float(memory[0]), 1),
        memory_std=None if memory is None else round(float(memory[1]), 1),
    )


def _allowed(n: int, set_aside: frozenset[int]) -> np.ndarray:
    """Strategies that may be chosen: all but those set aside, or all when none would be left."""
    allowed = np.ones(n, dtype=bool)
    allowed[list(set_aside)] = False
    return allowed if allowed.any() else np.ones(n, dtype=bool)


def _combination_facts(
    snapshot: LoadedSnapshot, history: SessionLog, context: np.ndarray, strategy: int
) -> list[Fact]:
    """What the combination leaned on for the chosen strategy after this many sessions."""
    if snapshot.combined is None:
        return []
    shares = snapshot.combined.shares(history, context)
    return [
        combination_fact(
            len(history), {name: float(share[:, strategy].mean()) for name, share in shares.items()}
        )
    ]


def _set_aside_facts(n: int, set_aside: frozenset[int]) -> list[Fact]:
    if not set_aside:
        return []
    return [set_aside_fact(len(set_aside), every=len(set_aside) >= n)]


def _seed(key: str) -> int:
    # The same data gives the same draw, so refreshing twice recommends the same thing.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
