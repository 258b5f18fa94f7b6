"""Memory-based meta-learner: predict a learner from what happened next to learners like them.

The memory keeps, for every training learner, snapshots of how they looked after their first k
sessions (k on a fixed ladder: 0, 1, 2, 3, 5, 8, ...) and what they did from then on. A snapshot's
key is the learner's profile (their contexts, weighted towards the features that differ between
learners rather than between sessions) plus their record so far: per-strategy mean residuals
against a population model, shrunk by how many sessions back them. With 0 sessions the record is
zero for everyone, so only the profile matters; as sessions accrue the record spreads out and
dominates. Comparing a new learner with k sessions to snapshots taken at k keeps the comparison
like with like, and using only the later sessions of neighbours as evidence avoids counting the
very sessions that made them look similar.

The population model is a ridge regression per strategy on the situation, fitted as a mixed
model: each learner's own residuals are estimated and taken out while it is fitted, so what a
strategy is worth is read within the learners who use it, not from how well those particular
learners do in general. Context columns named in `history_columns` also enter as the learner's
mean so far (`coach.engine._history`); each snapshot level scores the later sessions it learns
from with the means a prediction after its k sessions has, not with every session's own.

A prediction is: population model for the situation + the neighbours' pooled residual for each
strategy (shrunk, where they have few sessions of it, towards a share of the level below's, so a
level refines the one below as far as it predicts better) + a Gaussian update from the
learner's own record. The record's prior is either one shared offset (their general level) plus
one per strategy, or a covariance across strategies learned from the training learners' records
(`coach.engine._record`), so sessions with one strategy also move strategies that tend to work
alike for a person. Which prior, how much to trust neighbours and the own record, and how wide
the intervals are, is chosen per snapshot level by predicting the later sessions of held-out
training learners; the neighbours' weight by how well they predict the differences between a
learner's strategies (the own record gets the general level), which is what a choice rests on.

Where learners come in kinds, two learners with k sessions each rarely share enough strategies
to tell whether they are alike. So a level may instead take, for the neighbours' mean, a kernel
over past learners (`coach.engine._memory_kernel`): the average of training learners' residuals
estimated from all their sessions, each weighed by how likely it makes the new learner's first
sessions and, if it predicts better, the strategies they picked. The calibration
(`coach.engine._memory_calibrate`) chooses between it and the neighbours, level by level, the
same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from coach.engine import _history
from coach.engine._memory_blocks import (
    OFF,
    HeldOut,
    Level,
    between_share,
    cells,
    group_mean,
    group_positions,
    nearest,
    noise_variance,
    population_mean,
    population_mean_taken,
    population_ridge_fit,
    refine,
    single_thread,
)
from coach.engine._memory_calibrate import LevelParams, calibrate, own_posterior
from coach.engine._memory_kernel import (
    KERNEL_GRID,
    embeddings,
    habit_shares,
    kernel_mean,
    kernel_weights,
    support,
)
from coach.engine._record import (
    record_components,
    record_covariance,
    record_scale,
    refine_covariance,
)
from coach.engine.base import MetaLearner, SnapshotError
from coach.engine.log import LogError, SessionLog
from coach.engine.stats import column_moments

LADDER = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610)
BINARY_EPS = 1e-3
# Most backfitting steps of the population regression, and the largest change of a coefficient,
# in units of the session noise's sd, below which it has settled.
_BACKFIT_STEPS = 10
_BACKFIT_TOL = 0.01
# EM steps for the record covariance per backfitting step: each goes on where the last stopped.
_EM_STEPS_PER_BACKFIT = 2


@dataclass(frozen=True)
class PredictionParts:
    """A prediction and what it is made of, for `predict` and `explain`."""

    mean: np.ndarray  # (m, S)
    std: np.ndarray  # (m, S)
    base: np.ndarray  # (m, S) the population model's part
    own_n: np.ndarray  # (S,) the learner's own sessions per strategy (recency-weighted)
    nb: np.ndarray  # (m, K) the neighbours' rows at the learner's level...
    level: Level
    kernel_peers: bool = False  # ... or the kernel's most weighed learners, rows of kernel_count_


@dataclass(frozen=True)
class FitData:
    """The training log as the levels are built from it, one entry per session."""

    Z: np.ndarray  # standardised situation rows
    s: np.ndarray  # strategy
    y: np.ndarray  # outcome
    r: np.ndarray  # residual from the population regression
    idx: np.ndarray  # learner, numbered 0..n_learners-1
    pos: np.ndarray  # position in the learner's own sessions
    n_learners: int
    usual: np.ndarray  # centred history columns
    kernel_rows: np.ndarray  # the learners the kernel averages over, rows of `embedding_`


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a prediction for one strategy, in outcome units.

    n_sessions / n_learners: later sessions with the strategy among the similar learners, and how
    many of them used it at all. peer_mean: those sessions' average outcome; peer_gain: peer_mean
    minus the average of all the similar learners' later sessions, so the product can say "23
    sessions of 9 similar learners: practice testing +12 points" of what those learners did (NaN
    when they never used it). Where the kernel over past learners stands for the neighbours, the
    similar learners are the K it weighs most for this learner, and their sessions all of theirs.
    own_sessions: the learner's own sessions with it. expected: the predicted outcome.
    population: the population model's average outcome in this situation, over all strategies.
    gain: expected - population. The prediction leans on the neighbours only as far as they
    predicted held-out learners better than the population model, which may be not at all:
    peer_* describe them, gain the prediction.
    """

    strategy: int
    n_sessions: int
    n_learners: int
    own_sessions: int
    expected: float
    population: float
    gain: float
    peer_mean: float = float("nan")
    peer_gain: float = float("nan")


# Fitted arrays saved as they are.
_ARRAY_STATE = (
    "x_mean_",
    "x_scale_",
    "coef_",
    "noise_var_",
    "feature_weight_",
    "components_",
    "level_k_",
    "level_params_",
    "record_cov_",
    "history_center_",
    "history_shrink_",
    "embedding_",
    "habit_share_",
    "kernel_count_",
    "kernel_outcome_",
)


class MemoryMetaLearner(MetaLearner):
    """Nearest-neighbour meta-learner over snapshots of past learners; see the module docstring."""

    name = "memory"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MetaLearner._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "context_weight": [Interval(Real, 0, None, closed="left")],
        "record_weight": [Interval(Real, 0, None, closed="left")],
        "ridge": [Interval(Real, 0, None, closed="left")],
        "prior_gain": ["array-like", None],
        "prior_weight": [Interval(Real, 0, None, closed="left")],
        "half_life": [Interval(Real, 0, None, closed="neither"), None],
        "n_calibration": [Interval(Integral, 1, None, closed="left")],
        "history_columns": ["array-like"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_strategies: int = 10,
        *,
        n_neighbors: int = 50,
        n_components: int = 12,
        context_weight: float = 1.0,
        record_weight: float = 1.0,
        ridge: float = 1.0,
        prior_gain: np.ndarray | None = None,
        prior_weight: float = 20.0,
        half_life: float | None = None,
        n_calibration: int = 2000,
        history_columns: Sequence[int] = (),
        random_state: int | None = None,
    ) -> None:
        self.n_strategies = n_strategies
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.context_weight = context_weight
        self.record_weight = record_weight
        self.ridge = ridge
        self.prior_gain = prior_gain
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.n_calibration = n_calibration
        self.history_columns = history_columns
        self.random_state = random_state

    # Fitting ------------------------------------------------------------------------------
    def fit(self, log: SessionLog) -> MemoryMetaLearner:
        log = self._check_fit_log(log)
        S = int(self.n_strategies)
        s, y = log.strategy, log.outcome
        self.n_features_in_ = log.n_features
        values = log.context[:, _history.check_columns(self.history_columns, log.n_features)]
        self.history_center_ = values.mean(axis=0)
        self.history_shrink_, _ = _history.shrinkage(values, log.learner)
        usual = self._history_values(log.context)
        X = np.hstack([log.context, _history.running_means(usual, log.learner, self.history_shrink_)[0]])
        self.x_mean_, scale = column_moments(X)
        self.x_scale_ = np.where(scale > 1e-12, scale, 1.0)
        # In place, as _standardize computes it: on millions of sessions a second (n, d) copy
        # would be hundreds of MB.
        X -= self.x_mean_
        X /= self.x_scale_
        Z = X
        self.binary_ = bool(np.all((y == 0.0) | (y == 1.0)))
        self.bounded_ = bool(y.min() >= 0.0 and y.max() <= 1.0)
        idx, pos, n_learners = group_positions(log.learner)
        full_n = cells(idx, s, np.ones_like(y), n_learners, S)
        r, full_r = self._population_backfit(Z, s, y, idx, full_n)
        self.feature_weight_ = between_share(Z, idx, n_learners) * float(self.context_weight)
        self.components_ = record_components(full_n, full_r, self.record_shrink_, int(self.n_components))
        # Its own stream, so the kernel leaves the held-out learners of calibration as they were.
        rows = support(n_learners, np.random.default_rng(self.random_state).spawn(1)[0])
        self.embedding_ = embeddings(full_n[rows], full_r[rows], self.noise_var_, self.record_cov_)
        self.habit_share_ = habit_shares(full_n[rows])
        # What those learners did, for explanations: sessions and outcome sums per strategy.
        self.kernel_count_ = full_n[rows]
        self.kernel_outcome_ = cells(idx, s, y, n_learners, S)[rows]
        self._build_levels(FitData(Z, s, y, r, idx, pos, n_learners, usual, rows))
        return self

    def _population_backfit(
        self, Z: np.ndarray, s: np.ndarray, y: np.ndarray, idx: np.ndarray, full_n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The population regression and what it leaves: each session's residual and each
        learner's residual sums per strategy. Also sets the session noise and the own record's
        prior, the covariance of learners' true residuals.

        A learner's sessions share their quirks, so a plain regression lets every session of a
        frequent user speak as if it came from a new person, and fits a strategy few people use
        to those few. Backfitting with the learners' estimated residuals removed converges to the
        mixed-model fit, which weighs each learner's evidence for what it is worth; the
        covariance is refined by EM at each step."""
        S, n_learners = int(self.n_strategies), full_n.shape[0]
        target = self._prior_target(y)

        def fitted(offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            coef = population_ridge_fit(Z, s, y - offset, S, target, self.prior_weight, self.ridge)
            r = y - population_mean_taken(Z, coef, s)
            return coef, r, cells(idx, s, r, n_learners, S), noise_variance(idx, s, r, n_learners, S)

        coef, r, full_r, noise = fitted(np.zeros_like(y))
        cov = record_covariance(full_n, full_r, noise, record_scale(full_n, full_r, noise)[0])
        for _ in range(_BACKFIT_STEPS):
            cov, means = refine_covariance(full_n, full_r, noise, cov, steps=_EM_STEPS_PER_BACKFIT)
            last = coef
            coef, r, full_r, noise = fitted(means[idx, s])
            if np.max(np.abs(coef - last)) < _BACKFIT_TOL * np.sqrt(noise.mean()):
                break
        self.coef_, self.noise_var_ = coef, noise
        self.record_cov_, _ = refine_covariance(full_n, full_r, noise, cov)
        self.record_shrink_, self.record_scale_ = record_scale(full_n, full_r, noise)
        return r, full_r

    def _check_more_params(self) -> None:
        self._check_prior_gain(self.prior_gain)

    def _prior_target(self, y: np.ndarray) -> np.ndarray:
        return y.mean() + self._check_prior_gain(self.prior_gain)

    def _build_levels(self, data: FitData) -> None:
        """Snapshot levels and their calibration."""
        Z, s, y, r, idx, pos, n_learners = data.Z, data.s, data.y, data.r, data.idx, data.pos, data.n_learners
        S = int(self.n_strategies)
        length = np.bincount(idx, minlength=n_learners)
        # One order for all levels, so mostly the same learners are held out at every level and
        # their means at the level below are already known.
        order = np.random.default_rng(self.random_state).permutation(n_learners)
        min_learners = max(2 * int(self.n_neighbors), 20)
        self.levels_: list[Level] = []
        chain = HeldOut(n_learners, S)
        params: list[LevelParams] = []
        for k in LADDER:
            alive = np.flatnonzero(length > k)
            if k > 0 and alive.size < min_learners:
                break
            early, later = pos < k, pos >= k
            own_n = cells(idx[early], s[early], np.ones(int(early.sum())), n_learners, S)[alive]
            own_r = cells(idx[early], s[early], r[early], n_learners, S)[alive]
            upto = pos <= k
            profile = group_mean(Z, idx, n_learners, rows=upto)[alive]
            keys = self._keys(profile, own_n, own_r)
            after = self._residuals_as_of(k, data)[later]
            later_n = cells(idx[later], s[later], np.ones(int(later.sum())), n_learners, S)[alive]
            later_r = cells(idx[later], s[later], after, n_learners, S)[alive]
            later_ss = cells(idx[later], s[later], after**2, n_learners, S)[alive]
            later_y = cells(idx[later], s[later], y[later], n_learners, S)[alive]
            level = Level(k, keys, later_n, later_r, self._make_index(keys), outcome=later_y)
            self.levels_.append(level)
            chain.add(alive)
            ids = order[np.isin(order, alive)][: int(self.n_calibration)]
            pick = np.searchsorted(alive, ids)
            prior = self._held_out_mean(len(self.levels_) - 2, ids, chain, params, data)
            kernels = (
                [(c, w, self._held_out_kernel(ids, k, c, w, data)) for c, w in KERNEL_GRID] if k > 0 else []
            )
            nb_n, nb_r, _ = self._neighbour_sums(level, keys[pick], exclude=pick)
            level_params, mean = calibrate(
                k,
                (nb_n, nb_r),
                (later_n[pick], later_r[pick], later_ss[pick]),
                prior,
                own_n[pick],
                own_r[pick],
                self.noise_var_,
                self.record_cov_,
                kernels,
            )
            params.append(level_params)
            chain.store(len(self.levels_) - 1, ids, mean)
        self.level_k_ = np.array([level.k for level in self.levels_], dtype=np.int64)
        self.level_params_ = np.array(params, dtype=np.float64)  # rows: LevelParams

    def _residuals_as_of(self, k: int, data: FitData) -> np.ndarray:
        """Residuals `r` of sessions as a prediction after each learner's first k sessions makes
        them: with the history means of those k sessions and the session at hand, rather than of
        every session up to it."""
        usual, r, idx, n_learners = data.usual, data.r, data.idx, data.n_learners
        if usual.shape[1] == 0:
            return r
        early = data.pos < k
        sums = np.zeros((n_learners, usual.shape[1]))
        for j, column in enumerate(usual.T):
            sums[:, j] = np.bincount(idx[early], weights=column[early], minlength=n_learners)
        d = int(self.n_features_in_)
        means = _history.situation_means(usual, sums[idx], k, self.history_shrink_)
        z = (means - self.x_mean_[d:]) / self.x_scale_[d:]
        return r - np.einsum("ij,ij->i", z - data.Z[:, d:], self.coef_[data.s, 1 + d :])

    def _held_out_kernel(
        self, ids: np.ndarray, k: int, choice_weight: float, spread: float, data: FitData
    ) -> np.ndarray:
        """The kernel's mean for training learners `ids` from their first k sessions, each left
        out of the training learners it averages."""
        S, early = int(self.n_strategies), data.pos < k
        own_n = cells(data.idx[early], data.s[early], np.ones(int(early.sum())), data.n_learners, S)
        own_r = cells(data.idx[early], data.s[early], data.r[early], data.n_learners, S)
        rows = data.kernel_rows
        at = np.minimum(np.searchsorted(rows, ids), rows.size - 1)
        own_row = np.where(rows[at] == ids, at, -1)
        return kernel_mean(
            self.embedding_,
            self.habit_share_,
            self.noise_var_,
            own_n[ids],
            own_r[ids],
            choice_weight,
            spread,
            own_row,
        )

    def _held_out_mean(
        self, j: int, ids: np.ndarray, chain: HeldOut, params: list[LevelParams], data: FitData
    ) -> np.ndarray:
        """The neighbours' mean at level j (refined from the levels below) for training learners
        `ids`, each left out of their own neighbours; zero below level 0."""
        if j < 0:
            return np.zeros((ids.size, chain.n_strategies))
        todo = ids[~chain.done[j][ids]]
        if todo.size:
            rows = np.searchsorted(chain.alive[j], todo)
            level = self.levels_[j]
            if params[j].kernel:
                kernel = self._held_out_kernel(todo, level.k, params[j].choice_weight, params[j].kernel, data)
                chain.store(j, todo, kernel)
                return chain.mean[j][ids]
            below = self._held_out_mean(j - 1, todo, chain, params, data)
            lam, keep = params[j].lam_nb, params[j].keep
            nb_n = nb_r = below  # not read where the neighbours are off
            if lam < OFF:
                nb_n, nb_r, _ = self._neighbour_sums(level, level.keys[rows], exclude=rows)
            chain.store(j, todo, refine(nb_n, nb_r, below, lam, keep))
        return chain.mean[j][ids]

    def _make_index(self, keys: np.ndarray) -> NearestNeighbors:
        return NearestNeighbors(n_neighbors=min(int(self.n_neighbors), keys.shape[0]), algorithm="brute").fit(
            keys
        )

    def _keys(self, profile: np.ndarray, own_n: np.ndarray, own_r: np.ndarray) -> np.ndarray:
        """Search keys (m, d + r): weighted profile, then the shrunk record in a few components."""
        record = own_r / (own_n + self.record_shrink_) / self.record_scale_
        return np.hstack(
            [profile * self.feature_weight_, float(self.record_weight) * record @ self.components_]
        )

    def _neighbour_sums(
        self, level: Level, keys: np.ndarray, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Later-session counts and residual sums pooled over each key's neighbours, (m, S),
        and the neighbours' rows; `exclude` leaves each query's own row out."""
        n = level.keys.shape[0]
        if not level.informative:
            # Nothing tells learners apart (no profile, no record yet): everyone is a neighbour.
            count, total = level.count.sum(axis=0), level.total.sum(axis=0)
            if exclude is not None:
                return count - level.count[exclude], total - level.total[exclude], np.zeros((len(exclude), 0))
            m = keys.shape[0]
            nb = np.broadcast_to(np.arange(n), (m, n))
            return np.broadcast_to(count, (m, count.size)), np.broadcast_to(total, (m, total.size)), nb
        if exclude is None:
            with single_thread():
                nb = nearest(level, keys, min(int(self.n_neighbors), n))
            return level.count[nb].sum(axis=1), level.total[nb].sum(axis=1), nb
        extra = 1
        K = min(int(self.n_neighbors), n - extra)
        with single_thread():
            _, nb = level.index.kneighbors(keys, n_neighbors=K + extra)
        order = np.argsort(nb == exclude[:, None], axis=1, kind="stable")
        nb = np.take_along_axis(nb, order, axis=1)[:, :K]
        return level.count[nb].sum(axis=1), level.total[nb].sum(axis=1), nb

    def _own_posterior(
        self, mu: np.ndarray, own_n: np.ndarray, own_r: np.ndarray, params: LevelParams
    ) -> tuple[np.ndarray, np.ndarray]:
        return own_posterior(mu, own_n, own_r, params, self.noise_var_, self.record_cov_)

    # Prediction -----------------------------------------------------------------------------
    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = self._predict_parts(history, context)
        return parts.mean, parts.std

    def _level_params(self, li: int) -> LevelParams:
        return LevelParams(*(float(v) for v in self.level_params_[li]))

    def _predict_parts(self, history: SessionLog, context: np.ndarray, rows: bool = False) -> PredictionParts:
        """Prediction and its parts; `rows` also finds the neighbours' rows at the learner's
        level where the neighbours get no weight, for explanations."""
        history, context = self._check_predict_input(history, context)
        k = len(history)
        li = int(np.searchsorted(self.level_k_, k, side="right") - 1)
        params = self._level_params(li)
        Zh, Zq = self._history_rows(history), self._situation_rows(history, context, k)
        r = history.outcome - population_mean(Zh, self.coef_)[np.arange(k), history.strategy]
        mu, nb, kernel_peers = self._neighbour_mean(li, history, Zh, r, context, rows)
        own_n, own_r = self._own_cells(history.strategy, r, k)
        shift, var = self._own_posterior(mu, own_n[None, :], own_r[None, :], params)
        base = population_mean(Zq, self.coef_)
        mean = base + mu + shift
        if self.bounded_:
            lo = BINARY_EPS if self.binary_ else 0.0
            mean = np.clip(mean, lo, 1.0 - lo)
        if self.binary_:
            std = np.sqrt(mean * (1.0 - mean))
        else:
            std = np.broadcast_to(np.sqrt((self.noise_var_ + var) * params.var_scale), mean.shape).copy()
        return PredictionParts(mean, std, base, own_n, nb, self.levels_[li], kernel_peers)

    def _neighbour_mean(
        self, li: int, history: SessionLog, Zh: np.ndarray, r: np.ndarray, context: np.ndarray, rows: bool
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The neighbours' pooled residual (m, S), refined level by level up to level `li` (each
        lower level sees the learner's first k of its sessions, as it did at fit time), and the
        neighbours' rows at level `li` (none where they are off, unless `rows`). Where the
        kernel stands for the neighbours at `li`, those rows are the K training learners it
        weighs most (rows of `kernel_count_`), and the flag says so."""
        k, strategy = Zh.shape[0], history.strategy
        first = li
        while first > 0 and self._level_params(first).keep > 0.0:
            first -= 1
        mu = np.zeros((context.shape[0], int(self.n_strategies)))
        nb = np.zeros((context.shape[0], 0), dtype=np.int64)
        kernel_peers = False
        for j in range(first, li + 1):
            params = self._level_params(j)
            lam, keep = params.lam_nb, params.keep
            nb_n = nb_r = mu  # not read where the neighbours are off
            level = self.levels_[j]
            kj = k if j == li else level.k
            peers_by_kernel = bool(params.kernel) and self.kernel_count_.shape[0] > 0
            if lam < OFF or (rows and j == li and not peers_by_kernel):
                own_n, own_r = self._own_cells(strategy[:kj], r[:kj], kj)
                profile = (Zh[:kj].sum(axis=0) + self._situation_rows(history, context, kj)) / (kj + 1)
                keys = self._keys(profile, np.broadcast_to(own_n, (len(context), own_n.size)), own_r[None, :])
                nb_n, nb_r, nb_j = self._neighbour_sums(level, keys)
                nb = nb_j if j == li else nb
            if params.kernel:
                own_n, own_r = self._own_cells(strategy[:kj], r[:kj], kj)
                kernel = (self.embedding_, self.habit_share_, self.noise_var_, own_n[None], own_r[None])
                chosen = (params.choice_weight, params.kernel)
                mu = np.broadcast_to(kernel_mean(*kernel, *chosen), mu.shape).copy()
                if rows and j == li and peers_by_kernel:
                    weights = kernel_weights(*kernel, *chosen)[0]
                    K = min(int(self.n_neighbors), weights.size)
                    top = np.argsort(-weights, kind="stable")[:K]
                    nb, kernel_peers = np.broadcast_to(top, (context.shape[0], K)), True
            else:
                mu = refine(nb_n, nb_r, mu, lam, keep)
        return mu, nb, kernel_peers

    def _own_cells(self, strategy: np.ndarray, r: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Sessions and residual sums per strategy of the learner's first k sessions, (S,)."""
        S = int(self.n_strategies)
        weight = self._recency(k)
        own_n = np.bincount(strategy, weights=weight, minlength=S).astype(np.float64)
        return own_n, np.bincount(strategy, weights=weight * r, minlength=S)

    def _recency(self, k: int) -> np.ndarray:
        if self.half_life is None:
            return np.ones(k)
        age = np.arange(k - 1, -1, -1, dtype=np.float64)
        return 0.5 ** (age / float(self.half_life))

    def explain(self, history: SessionLog, context_row: np.ndarray, strategy: int) -> Evidence:
        """The evidence behind the prediction for `strategy` in one situation (a (d,) row)."""
        row = np.asarray(context_row, dtype=np.float64).reshape(1, -1)
        if not 0 <= int(strategy) < int(self.n_strategies):
            raise LogError(f"strategy must be in [0, {self.n_strategies}), got {strategy}")
        parts = self._predict_parts(history, row, rows=True)
        s = int(strategy)
        nb = parts.nb[0]
        if parts.kernel_peers:
            counts, outcome = self.kernel_count_[nb], self.kernel_outcome_[nb]
        else:
            counts, outcome = parts.level.count[nb], parts.level.outcome[nb]
        peer_mean = peer_gain = float("nan")
        if counts[:, s].sum() > 0:
            peer_mean = float(outcome[:, s].sum() / counts[:, s].sum())
            peer_gain = peer_mean - float(outcome.sum() / counts.sum())
        expected = float(parts.mean[0, s])
        population = float(parts.base[0].mean())
        return Evidence(
            strategy=s,
            n_sessions=int(np.rint(counts[:, s].sum())),
            n_learners=int(np.count_nonzero(counts[:, s])),
            own_sessions=int(np.count_nonzero(np.asarray(history.strategy) == s)),
            expected=expected,
            population=population,
            gain=expected - population,
            peer_mean=peer_mean,
            peer_gain=peer_gain,
        )

    def neighbour_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Snapshot levels k and, for each, the typical weight (0..1) its neighbours get against
        the level below: K neighbours' average later sessions of a strategy over those plus the
        calibrated pseudo-sessions, averaged over strategies; 1 where the level takes the kernel
        over past learners, whose mean is theirs alone. Near 0 means the calibration found that
        similar learners predicted held-out learners no better than the levels below."""
        check_is_fitted(self, "levels_")
        shares = []
        for li, level in enumerate(self.levels_):
            if self._level_params(li).kernel:
                shares.append(1.0)  # the kernel's mean is the similar learners' alone
                continue
            lam = self._level_params(li).lam_nb
            K = min(int(self.n_neighbors), level.count.shape[0])
            pooled = K * level.count.mean(axis=0)
            shares.append(float(np.mean(pooled / (pooled + lam))))
        return self.level_k_.copy(), np.array(shares)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return (X - self.x_mean_) / self.x_scale_

    def _history_values(self, context: np.ndarray) -> np.ndarray:
        return _history.centred(context, self.history_columns, self.history_center_)

    def _history_rows(self, history: SessionLog) -> np.ndarray:
        """A learner's sessions as the model sees them: with their history means so far."""
        means, _ = _history.running_means(
            self._history_values(history.context), history.learner, self.history_shrink_
        )
        return self._standardize(np.hstack([history.context, means]))

    def _situation_rows(self, history: SessionLog, context: np.ndarray, k: int) -> np.ndarray:
        """Situations as the model sees them after the first k sessions of `history`."""
        sums = self._history_values(history.context[:k]).sum(axis=0)
        means = _history.situation_means(self._history_values(context), sums, k, self.history_shrink_)
        return self._standardize(np.hstack([context, means]))

    # Persistence ------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        check_is_fitted(self, "levels_")
        sizes = np.array([level.keys.shape[0] for level in self.levels_], dtype=np.int64)
        state: dict[str, Any] = {name: getattr(self, name) for name in _ARRAY_STATE}
        state.update(
            n_features_in=int(self.n_features_in_),
            binary=bool(self.binary_),
            bounded=bool(self.bounded_),
            record_shrink=float(self.record_shrink_),
            record_scale=float(self.record_scale_),
            level_sizes=sizes,
            level_keys=np.vstack([level.keys for level in self.levels_]),
            level_count=np.vstack([level.count for level in self.levels_]).astype(np.float32),
            level_total=np.vstack([level.total for level in self.levels_]),
            level_outcome=np.vstack([level.outcome for level in self.levels_]),
        )
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        state = _without_kernel_peers(_without_kernel(state) if "embedding_" not in state else state)
        for name in _ARRAY_STATE:
            setattr(self, name, np.asarray(state[name], dtype=np.int64 if name == "level_k_" else np.float64))
        self.n_features_in_ = int(state["n_features_in"])
        self.binary_ = bool(state["binary"])
        self.bounded_ = bool(state["bounded"])
        self.record_shrink_ = float(state["record_shrink"])
        self.record_scale_ = float(state["record_scale"])
        for name in ("history_center_", "history_shrink_"):
            setattr(self, name, getattr(self, name).reshape(-1))
        if self.level_params_.shape != (len(self.level_k_), len(LevelParams._fields)):
            raise SnapshotError(f"level parameters of shape {self.level_params_.shape} do not fit the levels")
        bounds = np.concatenate([[0], np.cumsum(np.asarray(state["level_sizes"], dtype=np.int64))])
        self.levels_ = []
        for i, k in enumerate(self.level_k_):
            part = slice(int(bounds[i]), int(bounds[i + 1]))
            keys = np.asarray(state["level_keys"][part], dtype=np.float64)
            count = np.asarray(state["level_count"][part], dtype=np.float64)
            total = np.asarray(state["level_total"][part], dtype=np.float64)
            outcome = np.asarray(state["level_outcome"][part], dtype=np.float64)
            self.levels_.append(Level(int(k), keys, count, total, self._make_index(keys), outcome=outcome))


def _without_kernel(state: dict[str, Any]) -> dict[str, Any]:
    """A state saved before the kernel over past learners existed: every level keeps predicting
    as it was calibrated, with the kernel off (its two parameters 0, no learners to average)."""
    params = np.asarray(state["level_params_"], dtype=np.float64)
    missing = len(LevelParams._fields) - params.shape[1]
    return {
        **state,
        "level_params_": np.hstack([params, np.zeros((params.shape[0], max(missing, 0)))]),
        "embedding_": np.zeros((0, int(np.asarray(state["coef_"]).shape[0]))),
        "habit_share_": np.zeros((0, int(np.asarray(state["coef_"]).shape[0]))),
    }


def _without_kernel_peers(state: dict[str, Any]) -> dict[str, Any]:
    """A state saved before the kernel kept what its learners did: explanations at a kernel
    level name the nearest neighbours instead."""
    empty = np.zeros((0, int(np.asarray(state["coef_"]).shape[0])))
    return {"kernel_count_": empty, "kernel_outcome_": empty, **state}
