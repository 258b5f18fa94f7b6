"""Model-based meta-learner: a hierarchical (empirical-Bayes) model of strategy outcomes.

link(expected outcome) = population(strategy, context) + theta[learner, strategy]

- population: intercept per strategy + shared context slopes + strategy x context slopes, a
  penalised regression on the logit scale for outcomes in [0, 1] (binomial for 0/1 outcomes,
  quasi-binomial with an estimated dispersion for scores), on the outcome scale otherwise. A
  strategy's intercept shrinks toward the population mean plus its published-evidence gain by
  `prior_weight` pseudo-sessions, so a strategy the population has barely tried starts from
  the evidence.
- theta: per-learner offsets, one per strategy, with prior N(0, G). G is estimated across
  training learners by EM, alternating with the population fit (`coach.engine._model_em`),
  and shrunk toward "learner intercept + independent per-strategy deviations". Its
  off-diagonal part is what lets a few sessions with one strategy say something about the
  others.
- a new learner's posterior over theta is Gaussian given the history (identity link: exact and
  depending only on per-strategy counts and residual sums; logit link: Laplace approximation).
- drift: theta may wander between a learner's sessions, a random walk with step covariance
  q G, so older sessions weigh less; the posterior is then a Kalman filter over the sessions
  (`coach.engine._drift`). The rate q is meta-learned: of a seeded sample of at most 2,500
  training learners a fifth is held out, the model is fitted on the rest, and q is the rate of
  a grid under which the held-out learners' sessions are best predicted from their earlier
  ones, kept at 0 unless it does clearly better.

A learner's record holds more than outcomes: what they said before each session is a reading of
them too (someone who rates their confidence high before every session probably knows more).
The context columns named in `history_columns` enter, beside their value in the situation, as
the mean over the learner's sessions up to and including the one at hand, centred on the
population and shrunk toward it by k0 pseudo-sessions, k0 = within-learner / between-learner
variance of that column in training (empirical Bayes): the posterior mean of the learner's own
mean. Training rows see it exactly as predictions do, from 0 earlier sessions to many. What is
still unknown of the learner's mean adds slope^2 * within / (n + 1 + k0) to the predictive
variance, less the average part G already holds.

Scores in [0, 1] are bounded, so a strategy's effect cannot be the same number of points for a
learner near the ceiling as for one in the middle; on the logit scale it can. A score is not a
0/1 outcome, though: one session says more than one coin flip, by the factor 1 / dispersion
(for a self-test of n questions, about n), estimated from the training residuals.

`predict` returns the predictive mean and the standard deviation of the outcome of one session:
population-coefficient uncertainty + posterior variance of theta + session noise. For 0/1
outcomes the mean is a probability and the std is that of one Bernoulli outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from coach.engine import _drift, _history, _mixed, _model_em
from coach.engine._mixed import IDENTITY, LOGIT, Layout
from coach.engine.base import MetaLearner
from coach.engine.log import LogError, SessionLog, check_context
from coach.engine.stats import column_moments

_LINKS = ("auto", IDENTITY, LOGIT)
_HELD_OUT = 0.2  # share of training learners on which the drift rate is chosen
# Training learners sampled to choose the drift rate: enough to fit G and the population well,
# and on a large population the choice costs a fraction of the fit rather than doubling it.
_DRIFT_LEARNERS = 2500
# 2: the drift rate q; a state without it was fitted without drift and loads with q = 0.
_STATE_VERSION = 2


class ModelMetaLearner(MetaLearner):
    """Hierarchical model with learned per-learner adaptation; see the module docstring.

    Parameters
    ----------
    n_strategies : number of strategies S (>= 2).
    prior_gain : (S,) expected gain of each strategy over the average outcome from published
        evidence (see `coach.engine.prior`), in outcome units; zeros if None.
    prior_weight : pseudo-sessions with which a strategy's population effect is pulled toward
        population mean + prior_gain.
    link : "identity", "logit" (outcomes in [0, 1]) or "auto" (logit when every outcome lies in
        [0, 1], identity otherwise).
    alpha : ridge penalty, in pseudo-sessions, on the strategy x context slopes.
    interactions : whether context slopes may differ by strategy.
    n_iter : alternations between the population fit and the EM step for G.
    history_columns : context columns whose mean over the learner's sessions so far, the one
        at hand included, is a feature too (see the module docstring); none by default.
    drift : rate q at which a learner's offsets drift between sessions, as a share of G per
        session, or "auto" to meta-learn it on held-out training learners (0 disables drift).
    random_state : seed of the split of training learners that meta-learns the drift rate.
    """

    name: ClassVar[str] = "model"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MetaLearner._parameter_constraints,
        "prior_gain": ["array-like", None],
        "prior_weight": [Interval(Real, 0, None, closed="left")],
        "link": [StrOptions({"auto", IDENTITY, LOGIT})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "interactions": ["boolean"],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "history_columns": ["array-like"],
        "drift": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_strategies: int = 10,
        *,
        prior_gain: ArrayLike | None = None,
        prior_weight: float = 10.0,
        link: str = "auto",
        alpha: float = 10.0,
        interactions: bool = True,
        n_iter: int = 8,
        history_columns: Sequence[int] = (),
        drift: float | str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_strategies = n_strategies
        self.prior_gain = prior_gain
        self.prior_weight = prior_weight
        self.link = link
        self.alpha = alpha
        self.interactions = interactions
        self.n_iter = n_iter
        self.history_columns = history_columns
        self.drift = drift
        self.random_state = random_state

    # Fitting ---------------------------------------------------------------------------------
    def fit(self, log: SessionLog) -> ModelMetaLearner:
        log = self._check_fit_log(log)
        gain = self._check_prior_gain(self.prior_gain)
        self.link_ = self._resolve_link(log.outcome)
        self.binary_ = bool(np.all((log.outcome == 0.0) | (log.outcome == 1.0)))
        self.n_features_in_ = log.n_features
        self._fit_history(log)
        means, self.history_absorbed_ = self._summaries(log.learner, log.context)
        order = np.argsort(log.strategy, kind="stable")
        # The situation rows in strategy order, then standardised in place: one (n, d) array
        # however many sessions, where each copy would be hundreds of MB on millions.
        z = _rows_in_order(log.context, means, order)
        self.center_, spread = column_moments(z)
        self.scale_ = np.where(spread > 1e-12, spread, 1.0)
        self.y_range_ = np.array([log.outcome.min(), log.outcome.max()])
        self._layout = self._make_layout()

        strategy, y = log.strategy[order], log.outcome[order]
        z -= self.center_
        z /= self.scale_
        _, learner = np.unique(log.learner[order], return_inverse=True)
        s = int(self.n_strategies)
        bounds = np.searchsorted(strategy, np.arange(s + 1))
        key = learner * s + strategy
        counts = np.bincount(key, minlength=(learner.max() + 1) * s).reshape(-1, s)
        beta0, penalty = self._population_prior(y, gain)
        spec = _model_em.Spec(self._layout, self.link_, self.binary_)
        state = _model_em.initial_state(spec, beta0, counts, y)
        for i in range(int(self.n_iter)):
            last = i == int(self.n_iter) - 1
            _model_em.alternate(spec, state, bounds, strategy, z, y, key, beta0, penalty, last)
        self._finish(state)
        if self.drift == "auto":
            self.drift_, self.drift_scores_ = self._learn_drift(log)
        else:
            self.drift_, self.drift_scores_ = float(self.drift), np.zeros(0)
        return self

    def _learn_drift(self, log: SessionLog) -> _drift.Selection:
        """The drift rate, chosen on a seeded share of (a sample of) the training learners by a
        model fitted on the others (see `coach.engine._drift.select`)."""
        rng = check_random_state(self.random_state)
        learners = rng.permutation(np.unique(log.learner))[:_DRIFT_LEARNERS]
        n_held = round(_HELD_OUT * learners.size)
        if min(n_held, learners.size - n_held) < _drift.MIN_LEARNERS:
            return _drift.Selection(0.0, np.zeros(0))
        inner = clone(self).set_params(drift=0.0).fit(log.take(np.isin(log.learner, learners[n_held:])))
        held_log = log.take(np.isin(log.learner, learners[:n_held]))
        context = np.clip(held_log.context, inner.context_low_, inner.context_high_)
        fixed = inner._fixed(held_log.learner, held_log.strategy, context)
        return _drift.select(
            inner.re_cov_, held_log.learner, held_log.strategy, fixed, held_log.outcome, inner._noise()
        )

    def _finish(self, st: _model_em.FitState) -> None:
        """Fitted attributes, with the coefficient covariance inflated for clustered sessions."""
        self.coef_ = st.beta
        self.dispersion_ = float(st.dispersion)
        self.re_cov_ = st.cov
        self.re_prec_ = np.linalg.inv(st.cov)
        self.noise_var_ = st.noise
        n_ls = st.counts[st.counts > 0]
        cluster = float((n_ls**2).sum() / max(n_ls.sum(), 1))
        g = float(np.mean(np.diag(st.cov)))
        rho = g / (g + float(np.mean(st.noise)))
        scale = 1.0 + max(cluster - 1.0, 0.0) * rho
        if self.link_ == IDENTITY:
            scale *= float(np.mean(st.noise))
        cov = st.inv_hess * scale
        blocks = [self._layout.block_index(k) for k in range(int(self.n_strategies))]
        self.coef_block_cov_ = np.stack([cov[np.ix_(b, b)] for b in blocks])

    def _population_prior(self, y: np.ndarray, gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre (beta0) and per-coefficient penalty of the population fit, in pseudo-sessions."""
        layout = self._layout
        s, d = layout.n_strategies, layout.n_features
        ybar = float(y.mean())
        if self.link_ == LOGIT:
            # Information per session, floored so pseudo-sessions keep weight when nearly all
            # outcomes agree.
            q = min(max(ybar, 0.05), 0.95)
            unit = q * (1.0 - q)
            target = _model_em.logit(ybar) + gain / unit
        else:
            unit, target = 1.0, ybar + gain
        beta0 = np.zeros(layout.size)
        beta0[:s] = target
        penalty = np.full(layout.size, float(self.alpha) * unit)
        penalty[:s] = float(self.prior_weight) * unit
        penalty[s : s + d] = 1e-3 * unit
        return beta0, penalty + 1e-9

    # Prediction ------------------------------------------------------------------------------
    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        history, context = self._check_predict_input(history, context)
        theta, theta_var = self.posterior(history)
        sums = self._centred(history.context).sum(axis=0)
        situations = self._with_means(context, sums, len(history))
        return self._predictive(theta, theta_var + self._history_variance(len(history)), situations)

    def _predictive(
        self, theta: np.ndarray, theta_var: np.ndarray, context: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        z = self._standardise(context)
        eta = self._layout.all_strategies(self.coef_, z) + theta
        u = np.hstack([np.ones((z.shape[0], 1)), z, z if self._layout.interactions else z[:, :0]])
        var = np.einsum("mi,sij,mj->ms", u, self.coef_block_cov_, u) + theta_var
        if self.link_ == LOGIT:
            p = _mixed.sigmoid(eta / np.sqrt(1.0 + np.pi * var / 8.0))
            if self.binary_:
                return p, np.sqrt(p * (1.0 - p))
            # Session noise around the learner's expected score, plus what is unknown about it.
            return p, np.sqrt(self.dispersion_ * p * (1.0 - p) + (p * (1.0 - p)) ** 2 * var)
        mean = np.clip(eta, self.y_range_[0], self.y_range_[1])
        return mean, np.sqrt(var + self.noise_var_)

    def session_noise(self, mean: np.ndarray) -> np.ndarray:
        """The std of one session's outcome around an expected outcome `mean` (any shape): the
        part of `predict`'s std that no amount of evidence about the learner removes."""
        check_is_fitted(self, "n_features_in_")
        mean = np.asarray(mean, dtype=np.float64)
        if self.link_ == LOGIT:
            p = np.clip(mean, 0.0, 1.0)
            return np.sqrt((1.0 if self.binary_ else self.dispersion_) * p * (1.0 - p))
        return np.broadcast_to(np.sqrt(self.noise_var_), mean.shape).copy()

    # Incremental use: constant time per new session --------------------------------------------
    def start(self) -> Belief:
        """Belief about a new learner: their offsets theta, mean (S,) and covariance (S, S), and
        nothing seen yet of their history columns."""
        check_is_fitted(self, "n_features_in_")
        n_columns = self.history_center_.size
        return Belief(np.zeros(int(self.n_strategies)), self.re_cov_.copy(), np.zeros(n_columns), 0)

    def update(self, belief: Belief, strategy: int, context: np.ndarray, outcome: float) -> Belief:
        """Belief after one more session: a rank-one (Kalman) update, then the drift to the next
        session, O(S^2).

        Exact for the identity link (the same posterior as `posterior` on the whole history);
        for the logit link a Laplace step at the mode of the one new outcome, close to but not
        identical with the whole history's mode (identical with `posterior` under drift, which
        filters the history the same way)."""
        s = int(strategy)
        if not 0 <= s < int(self.n_strategies):
            raise LogError(f"strategy {s} is outside [0, {self.n_strategies})")
        row = check_context(
            np.asarray(context, dtype=np.float64)[None, :], n_features=int(self.n_features_in_)
        )
        z = self._standardise(self._with_means(row, belief.column_sums, belief.n_sessions))
        fixed = float(self._layout.linear(self.coef_, np.array([s]), z)[0])
        mean, cov = _drift.step(
            belief.mean, belief.cov, s, fixed, float(outcome), self._noise(), self.drift_ * self.re_cov_
        )
        sums = belief.column_sums + self._centred(row)[0]
        return Belief(mean, cov, sums, belief.n_sessions + 1)

    def predict_belief(self, belief: Belief, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`predict` from a belief kept up to date with `update`."""
        check_is_fitted(self, "n_features_in_")
        context = check_context(context, n_features=int(self.n_features_in_))
        situations = self._with_means(context, belief.column_sums, belief.n_sessions)
        theta_var = np.diag(belief.cov) + self._history_variance(belief.n_sessions)
        return self._predictive(belief.mean, theta_var, situations)

    def posterior(self, history: SessionLog) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (S,) of one learner's per-strategy offsets theta at their
        next session (outcome scale for the identity link, logit scale otherwise).

        Without drift, the posterior of offsets constant over the sessions; with drift, the
        Kalman filter over the sessions in order, O(S^2) each."""
        if len(history) == 0:
            return np.zeros(int(self.n_strategies)), np.diag(self.re_cov_).copy()
        s = int(self.n_strategies)
        fixed = self._fixed(history.learner, history.strategy, history.context)
        if self.drift_ > 0.0:
            mean, cov = np.zeros(s), self.re_cov_.copy()
            grow, noise = self.drift_ * self.re_cov_, self._noise()
            for k, f, y in zip(history.strategy, fixed, history.outcome, strict=True):
                mean, cov = _drift.step(mean, cov, int(k), float(f), float(y), noise, grow)
            return mean, np.diag(cov).copy()
        if self.link_ == LOGIT:
            theta, var, _ = _mixed.posterior_logit(
                self.re_prec_,
                history.strategy,
                fixed,
                history.outcome,
                np.zeros((1, s)),
                dispersion=self.dispersion_,
            )
            return theta[0], var[0]
        counts = np.bincount(history.strategy, minlength=s)[None, :]
        sums = np.bincount(history.strategy, weights=history.outcome - fixed, minlength=s)[None, :]
        theta, var, _ = _mixed.posterior_gaussian(self.re_prec_, counts, sums, self.noise_var_[None, :])
        return theta[0], var[0]

    # Helpers -----------------------------------------------------------------------------------
    def _fixed(self, learner: np.ndarray, strategy: np.ndarray, context: np.ndarray) -> np.ndarray:
        """The population part of the linear predictor of each session, the learner's means of
        the history columns up to it included."""
        means, _ = self._summaries(learner, context)
        return self._layout.linear(self.coef_, strategy, self._standardise(np.hstack([context, means])))

    def _noise(self) -> _drift.Noise:
        return _drift.Noise(self.link_, self.noise_var_, float(self.dispersion_))

    def _make_layout(self) -> Layout:
        d = int(self.n_features_in_) + self.history_center_.size
        return Layout(int(self.n_strategies), d, bool(self.interactions) and d > 0)

    # History columns ---------------------------------------------------------------------------
    def _centred(self, context: np.ndarray) -> np.ndarray:
        return _history.centred(context, self.history_columns, self.history_center_)

    def _fit_history(self, log: SessionLog) -> None:
        values = log.context[:, _history.check_columns(self.history_columns, log.n_features)]
        self.history_center_ = values.mean(axis=0)
        self.history_shrink_, self.history_within_ = _history.shrinkage(values, log.learner)

    def _summaries(self, learner: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row, the shrunk mean of the history columns over the same learner's rows up
        to and including it: what is known of the learner before that session; and the share of
        a column's within-learner variance still unknown there, averaged over rows."""
        return _history.running_means(self._centred(context), learner, self.history_shrink_)

    def _history_variance(self, n_seen: int) -> np.ndarray:
        """Variance (S,) the linear predictor owes to what is still unknown of the learner's
        means of the history columns after `n_seen` sessions and the situation at hand:
        slope^2 * within * (1 / (n + 1 + k0) - what G holds of it)."""
        n_columns = self.history_center_.size
        if n_columns == 0:
            return np.zeros(int(self.n_strategies))
        d = int(self.n_features_in_)
        unit = np.zeros((n_columns + 1, d + n_columns))
        unit[np.arange(1, n_columns + 1), d + np.arange(n_columns)] = 1.0
        eta = self._layout.all_strategies(self.coef_, unit)
        slopes = (eta[1:] - eta[0]) / self.scale_[d:, None]  # (columns, S), per unit of the column
        # G, fitted on sessions with 0 to many earlier ones, already holds an average part of it.
        share = np.maximum(1.0 / (n_seen + 1.0 + self.history_shrink_) - self.history_absorbed_, 0.0)
        unknown = self.history_within_ * share
        return unknown @ slopes**2

    def _with_means(self, context: np.ndarray, sums: np.ndarray, n_seen: int) -> np.ndarray:
        """Situation rows with the learner's shrunk means appended: their `n_seen` sessions so
        far (history columns summed in `sums`, centred) and the situation itself."""
        means = _history.situation_means(self._centred(context), sums, n_seen, self.history_shrink_)
        return np.hstack([context, means])

    def _standardise(self, context: np.ndarray) -> np.ndarray:
        return (context - self.center_) / self.scale_

    def _check_more_params(self) -> None:
        self._check_prior_gain(self.prior_gain)

    def _resolve_link(self, outcome: np.ndarray) -> str:
        if self.link == "auto":
            return LOGIT if outcome.min() >= 0.0 and outcome.max() <= 1.0 else IDENTITY
        if self.link == LOGIT and (outcome.min() < 0.0 or outcome.max() > 1.0):
            raise LogError("link='logit' needs outcomes in [0, 1]")
        return str(self.link)

    # Persistence -------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        return {
            "link": self.link_,
            "binary": bool(self.binary_),
            "dispersion": float(self.dispersion_),
            "n_features_in": int(self.n_features_in_),
            "coef": self.coef_,
            "coef_block_cov": self.coef_block_cov_,
            "re_cov": self.re_cov_,
            "re_prec": self.re_prec_,
            "noise_var": self.noise_var_,
            "center": self.center_,
            "scale": self.scale_,
            "y_range": self.y_range_,
            "history_center": self.history_center_,
            "history_shrink": self.history_shrink_,
            "history_within": self.history_within_,
            "history_absorbed": self.history_absorbed_,
            "model_version": _STATE_VERSION,
            "drift": float(self.drift_),
            "drift_scores": self.drift_scores_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.link_ = str(state["link"])
        self.binary_ = bool(state["binary"])
        self.dispersion_ = float(state["dispersion"])
        self.n_features_in_ = int(state["n_features_in"])
        for key in ("coef", "coef_block_cov", "re_cov", "re_prec", "noise_var", "center", "scale", "y_range"):
            setattr(self, key + "_", np.asarray(state[key], dtype=np.float64))
        for key in ("history_center", "history_shrink", "history_within", "history_absorbed"):
            setattr(self, key + "_", np.asarray(state[key], dtype=np.float64).reshape(-1))
        drifts = int(state.get("model_version", 1)) >= 2
        self.drift_ = float(state["drift"]) if drifts else 0.0
        self.drift_scores_ = np.asarray(state["drift_scores"] if drifts else [], dtype=np.float64).reshape(-1)
        self._layout = self._make_layout()


class Belief(NamedTuple):
    """What `update` keeps about one learner."""

    mean: np.ndarray  # (S,) posterior mean of the offsets theta
    cov: np.ndarray  # (S, S) their posterior covariance
    column_sums: np.ndarray  # history columns summed over the sessions seen, centred
    n_sessions: int


_ORDER_CHUNK = 100_000  # rows copied at a time by _rows_in_order


def _rows_in_order(context: np.ndarray, means: np.ndarray, order: np.ndarray) -> np.ndarray:
    """`np.hstack([context, means])[order]`, filled a chunk at a time into one array."""
    d = context.shape[1]
    out = np.empty((order.shape[0], d + means.shape[1]))
    for lo in range(0, order.shape[0], _ORDER_CHUNK):
        rows = order[lo : lo + _ORDER_CHUNK]
        out[lo : lo + rows.shape[0], :d] = context[rows]
        out[lo : lo + rows.shape[0], d:] = means[rows]
    return out
