"""Does the coaching help? Figures from the product's own log of recommendations.

The framing. The logged unit is a recommendation shown with known propensities (the probability
with which its rule would have chosen each strategy there, `Recommendation.propensities`). Its
reward is the self-test score of the session that followed it (`Recommendation.next_session`);
its action is the strategy recommended. Only recommendations with stored propensities and a
following scored session count. Three figures, each a mean self-test score with a 95% interval
and an effective sample size (ESS):

(i) the product's policy as logged: the recommendation rules in force, evaluated as the target
    policy with their own logged probabilities (every weight is 1, so this is the mean score
    after a recommendation, and its ESS the number of recommendations);
(ii) the published ranking: always recommend the catalogue's highest-utility strategy among those
    the rule could choose (earlier in the catalogue on a tie), evaluated off-policy from the same
    log: only recommendations that happened to name that strategy count, reweighted by 1 / their
    propensity. Where the rule rarely named it, the ESS is small and the figure unreliable; where
    it could not (a greedy choice of another strategy), those situations say nothing about (ii),
    and the page gives the share of recommendations where it could (`published_support`);
(iii) what learners chose themselves: the observed mean score of the sessions in which the learner
    studied something other than what was recommended. Not a policy value, and not a fair
    comparison: learners who go their own way may differ from those who do not.

(i) and (ii) are estimated by `coach.engine.policy_eval` (self-normalised importance sampling,
SNIPS); all three intervals come from a bootstrap over learners, since one learner's sessions
share that learner's quirks. Below MIN_ESS the page says "not enough data yet" instead of
comparing; otherwise (i) and (ii) differ only where their intervals do not overlap.

The figures are computed by a background task (`learners.services.coaching`) and read here from
the cache, so the engine page never waits for them.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from coach.engine.policy_eval import PolicyLog, off_policy_value
from coach.models import Policy, Strategy, Utility
from learners import versions
from learners.models import Cohort, Recommendation

MIN_ESS = 30  # below it, no comparison: "not enough data yet"
# Install-wide figures rest on at least this many learners, so that none of them can be read
# from the numbers by an educator who knows who else uses the install.
ALL_LEARNERS_MIN = 5
N_BOOTSTRAP = 2000
# Past this many learners the figures rest on a fixed sample of them (`_sample`): it keeps the
# worker's time and memory bounded, and intervals over this many learners are already narrow.
MAX_LEARNERS = 10_000
SEED = 0  # the bootstrap's: the same log gives the same interval
# What is cached here changes shape with this; it is part of every key.
FORMAT = 1
ALL_SECONDS = 3600  # the install-wide figures are recomputed at most this often
KEEP_SECONDS = 30 * 24 * 3600  # an entry outlives its basis: the page shows it while the next is made
_UTILITY_RANK = {utility.value: rank for rank, utility in enumerate(Utility)}  # high first
CHUNK = 2000


@dataclass(frozen=True)
class Figure:
    """A mean self-test score (points) with its 95% interval and effective sample size; `value`
    is None where nothing can be estimated, the interval None where it cannot."""

    value: float | None
    low: float | None
    high: float | None
    ess: float
    n: int

    @property
    def enough(self) -> bool:
        return self.value is not None and self.ess >= MIN_ESS


NO_FIGURE = Figure(value=None, low=None, high=None, ess=0.0, n=0)


def rule_label(policy: str, max_cost: float | None) -> str:
    """A rule as the page names it, in the active language."""
    name = str(Policy(policy).label) if policy in Policy.values else policy
    if policy != Policy.THOMPSON or max_cost is None:
        return name
    return _("%(rule)s, cap %(cap)s points") % {"rule": name, "cap": f"{max_cost:g}"}


@dataclass(frozen=True)
class LoggedRule:
    """A rule the counted recommendations were made under, with how many."""

    policy: str
    max_cost: float | None
    n: int

    @property
    def label(self) -> str:
        return rule_label(self.policy, self.max_cost)


@dataclass(frozen=True)
class CoachingValue:
    """The three figures for a group of learners (a cohort, or all)."""

    n_recommendations: int
    n_learners: int
    product: Figure  # (i)
    published: Figure  # (ii)
    own_choice: Figure  # (iii)
    rules: list[LoggedRule] = field(default_factory=list)
    left_out: int = 0  # logged with a probability of 0 for the strategy they named (see `_rows`)
    of_learners: int = 0  # learners with counted recommendations; more than `n_learners` in a sample
    # Share of the counted recommendations whose rule could have named the published ranking's
    # strategy (probability above 0): only those say anything about (ii).
    published_support: float = 1.0

    @property
    def comparison(self) -> str:
        """ "few", "higher", "lower" or "overlap": (i) against (ii)."""
        product, published = self.product, self.published
        if not (product.enough and published.enough):
            return "few"
        if None in (product.low, product.high, published.low, published.high):
            return "few"
        assert product.low is not None and product.high is not None
        assert published.low is not None and published.high is not None
        if product.low > published.high:
            return "higher"
        if product.high < published.low:
            return "lower"
        return "overlap"


@dataclass(frozen=True)
class CoachingEntry:
    """Figures as cached: what they were computed from and when."""

    basis: str
    computed_at: datetime
    value: CoachingValue | None  # None: too few learners to show install-wide figures


@dataclass(frozen=True)
class CoachingRow:
    """One group on the engine page: a cohort (None: all learners) and its latest figures."""

    cohort: Cohort | None
    entry: CoachingEntry | None
    current: bool  # the entry was computed from the data as it is now

    @property
    def setting_label(self) -> str:
        """The rule the cohort sets now ("" for all learners)."""
        if self.cohort is None:
            return ""
        return rule_label(self.cohort.policy_rule, self.cohort.policy_max_cost)


def coaching_key(*, cohort_id: int | None) -> str:
    return f"coaching-value:{FORMAT}:{cohort_id or 'all'}"


def coaching_basis(*, cohort_id: int | None, now: datetime | None = None) -> str:
    """What an entry's figures depend on: the cohort's data version (learners.versions), or for
    all learners the hour."""
    if cohort_id is not None:
        return versions.cohort_version(cohort_id)
    return str(int((now or timezone.now()).timestamp()) // ALL_SECONDS)


def coaching_rows(*, cohorts: list[Cohort]) -> list[CoachingRow]:
    """The latest figures of each cohort, then of all learners, from the cache in one read."""
    scopes: list[Cohort | None] = [*cohorts, None]
    keys = [coaching_key(cohort_id=c.pk if c else None) for c in scopes]
    found: dict[str, Any] = cache.get_many(keys)
    rows = []
    for cohort, key in zip(scopes, keys, strict=True):
        entry = found.get(key)
        basis = coaching_basis(cohort_id=cohort.pk if cohort else None)
        rows.append(
            CoachingRow(cohort=cohort, entry=entry, current=entry is not None and entry.basis == basis)
        )
    return rows


def coaching_value(*, cohort: Cohort | None) -> CoachingValue | None:
    """The figures of a cohort's members, or of all learners (None when fewer than
    ALL_LEARNERS_MIN learners have counted recommendations). Past MAX_LEARNERS, on a fixed
    sample of them (`_sample`). Three queries."""
    recommendations = Recommendation.objects.exclude(policy="").filter(next_session__score__isnull=False)
    if cohort is not None:
        recommendations = recommendations.filter(learner__memberships__cohort=cohort)
    recommendations, of_learners = _sample(recommendations)
    log = _rows(recommendations, list(Strategy.objects.order_by("position")))
    if cohort is None and log.n_learners < ALL_LEARNERS_MIN:
        return None
    empty = not len(log.reward)
    other = log.studied != log.action
    return CoachingValue(
        n_recommendations=len(log.reward),
        n_learners=log.n_learners,
        of_learners=of_learners,
        product=NO_FIGURE if empty else policy_value(log, log.logged),
        published=NO_FIGURE if empty else policy_value(log, _one_hot(log.published, log.logged.shape[1])),
        # The observed mean: every weight 1 (the target names what was logged, with propensity
        # 1), so that the same bootstrap over learners gives its interval.
        own_choice=NO_FIGURE
        if empty
        else policy_value(
            log.subset(other, propensity=np.ones(int(other.sum()))),
            _one_hot(log.action[other], log.logged.shape[1]),
        ),
        rules=log.rules,
        left_out=log.left_out,
        published_support=1.0
        if empty
        else float(np.mean(log.logged[np.arange(len(log.reward)), log.published] > 0.0)),
    )


def _sample(recommendations: QuerySet[Recommendation]) -> tuple[QuerySet[Recommendation], int]:
    """At most about MAX_LEARNERS learners' recommendations, and how many learners there are in
    all: those whose id is a multiple of a stride, a sample fixed from one computation to the
    next (each learner keeps all their recommendations, as the bootstrap over learners needs)."""
    learners = recommendations.values("learner_id").distinct().count()
    if learners <= MAX_LEARNERS:
        return recommendations, learners
    stride = math.ceil(learners / MAX_LEARNERS)
    return recommendations.annotate(bucket=Mod("learner_id", stride)).filter(bucket=0), learners


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    target = np.zeros((index.shape[0], width))
    target[np.arange(index.shape[0]), index] = 1.0
    return target


def policy_value(log: _Log, target: np.ndarray) -> Figure:
    """The target's value by SNIPS (`coach.engine.policy_eval`), with a bootstrap over learners;
    a figure without interval from a single learner, none where the target names no logged
    action. The one place the estimators are called."""
    n = int(log.action.shape[0])
    if n == 0 or not np.any(target[np.arange(n), log.action] > 0):
        return Figure(value=None, low=None, high=None, ess=0.0, n=n)
    several = np.unique(log.learner).shape[0] >= 2
    if not several and n < 2:
        return Figure(value=float(log.reward[0]), low=None, high=None, ess=1.0, n=n)
    estimate = off_policy_value(
        PolicyLog(
            action=log.action,
            reward=log.reward,
            propensity=log.propensity,
            group=log.learner if several else None,
        ),
        target=target,
        method="snips",
        n_bootstrap=N_BOOTSTRAP,
        random_state=SEED,
    )
    return Figure(
        value=float(estimate.value),
        low=float(estimate.low) if several else None,
        high=float(estimate.high) if several else None,
        ess=float(estimate.ess),
        n=n,
    )


@dataclass(frozen=True)
class _Log:
    action: np.ndarray  # (n,) catalogue index of the strategy recommended
    studied: np.ndarray  # (n,) catalogue index of the strategy of the session that followed
    reward: np.ndarray  # (n,) its self-test score
    propensity: np.ndarray  # (n,) the logged probability of the action
    learner: np.ndarray  # (n,)
    logged: np.ndarray  # (n, S) the logged probabilities of every strategy
    published: np.ndarray  # (n,) the highest-utility strategy the rule could choose
    rules: list[LoggedRule]
    n_learners: int
    left_out: int

    def subset(self, rows: np.ndarray, *, propensity: np.ndarray) -> _Log:
        return replace(
            self,
            action=self.action[rows],
            studied=self.studied[rows],
            reward=self.reward[rows],
            propensity=propensity,
            learner=self.learner[rows],
            logged=self.logged[rows],
            published=self.published[rows],
        )


def _rows(recommendations: QuerySet[Recommendation], strategies: list[Strategy]) -> _Log:
    """The log as arrays. A recommendation whose strategy has a logged probability of 0 is left
    out: with 4,000 draws that is a strategy chosen less than about once in 4,000, and no weight
    can be given to it. So is one naming a strategy no longer in the catalogue."""
    index = {s.slug: i for i, s in enumerate(strategies)}
    by_pk = {s.pk: i for i, s in enumerate(strategies)}
    # Highest utility first, then catalogue order: the published ranking's choice among a set.
    rank = {i: (_UTILITY_RANK.get(s.utility, len(_UTILITY_RANK)), i) for i, s in enumerate(strategies)}
    columns = recommendations.values_list(
        "learner_id",
        "strategy_id",
        "propensities",
        "policy",
        "policy_max_cost",
        "next_session__score",
        "next_session__strategy_id",
    )
    # Flat typed buffers, not a Python object per value: a million rows take tens of MB.
    kept = array("q")  # per row: action, studied, score, learner, published
    logged = array("d")  # per row: the logged probability of each strategy
    rules: Counter[tuple[str, float | None]] = Counter()
    left_out = 0
    for learner_id, strategy_id, chances, policy, max_cost, score, studied in columns.iterator(CHUNK):
        row = [0.0] * len(strategies)
        for slug, p in chances.items():
            if slug in index:
                row[index[slug]] = p
        action = by_pk.get(strategy_id)
        if action is None or score is None or row[action] <= 0.0:
            left_out += 1
            continue
        published = min((index[slug] for slug in chances if slug in index), key=rank.__getitem__)
        kept.extend((action, by_pk.get(studied, -1), score, learner_id, published))
        logged.extend(row)
        rules[(policy, max_cost)] += 1
    table = np.frombuffer(kept, dtype=np.int64).reshape(-1, 5)
    chances_of = np.frombuffer(logged, dtype=np.float64).reshape(-1, len(strategies)).copy()
    chances_of /= np.maximum(chances_of.sum(axis=1, keepdims=True), 1e-300)
    actions = table[:, 0]
    return _Log(
        action=actions,
        studied=table[:, 1],
        reward=table[:, 2].astype(np.float64),
        propensity=chances_of[np.arange(actions.shape[0]), actions],
        learner=table[:, 3],
        logged=chances_of,
        published=table[:, 4],
        rules=[LoggedRule(policy=p, max_cost=c, n=n) for (p, c), n in rules.most_common()],
        n_learners=int(np.unique(table[:, 3]).shape[0]),
        left_out=left_out,
    )
