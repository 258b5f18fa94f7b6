"""Optimization-based meta-learner: a per-learner logistic model, adapted to a learner by a few
gradient steps whose starting point, step sizes and decay are meta-learned (Meta-SGD with a
proximal pull).

The model: logit(expected outcome) = x . theta[strategy], x = 1 and the standardised situation
(and, for `history_columns`, the learner's shrunk running mean of those columns, as the model
learner builds it). Every learner has their own theta, intercepts and context slopes per
strategy; `predict` adapts it to their history by `n_steps` steps (see `coach.engine._inner`):

    theta_{t+1} = theta_t - eta_t * P * (A grad L_w(theta_t) + theta_t - theta_init)

P preconditions each step by the learner's curvature bound, exactly in the strategies' coupling
on the intercepts, so a few steps reach close to the mode of the objective A^{-1} defines.

Meta-learned across training learners by a genuine inner/outer loop: a task is one training
learner cut at a random k (log-uniform in 0..n-1); the inner steps run on their first k sessions,
the outer loss is the cross-entropy of their later sessions at the adapted theta; its exact
gradient, through every step, updates by Adam
  - theta_init (S, D1): where every learner starts (the population model);
  - A: the step sizes, a dense S x S matrix on the intercepts (a session with one strategy moves
    its relatives, by as much as the training learners' strategies went together) and one step
    size per slope (Meta-SGD), which is how far a learner's own sensitivity to the situation is
    allowed to move; A^{-1} is the proximal pull toward theta_init;
  - eta_t, the length of each step: the number of steps that pay off is learned, a step of
    length ~0 is a step not taken;
  - decay: session j of the history enters the inner loss with weight exp(-decay * age_j),
    age_j the number of the learner's sessions since. Learners change as they learn; when
    their later sessions are better told by their recent ones, the outer loss pulls decay up
    and older sessions weigh less (through the gradient and the preconditioner P alike). On
    learners whose offsets do not change it stays near 0 (about 0.004 per session); when they
    follow a random walk it rises (about 0.1), and later sessions are then predicted better than
    by the model learner (5% less squared error on sessions 21-30 from the first 20, four
    strategies, offsets an AR(1) walk of 0.3 per session). On the simulated population
    (`coach.engine.simulate`, stationary) it settles near 0.015.

What it learns that the model learner does not: per-learner context slopes (a learner for whom
a strategy works on easy material and not on hard), the weighting of old against recent
sessions, and a step rule fitted to what predicts later sessions rather than derived from a
Gaussian prior. Where it should win: learners who drift, and learners whose response to the
situation, not only their level, is their own (not measured yet: in `coach.engine.simulate`
learners differ in level only, and the slopes' learned step sizes come out under a hundredth of
the intercepts'). Where it should not: a stationary population
with learner offsets only, which is the model learner's own assumption (there it should match
it, give or take the few steps not reaching the exact posterior).

`std`: a Laplace approximation at the adapted theta (precision A^{-1} + the Hessian of the
weighted history loss), giving a variance v of the linear predictor, and the session noise:
std^2 = noise * p(1 - p) + c * (p(1 - p))^2 v. `noise` and `c` are fitted to the squared errors of
later sessions of held-out training learners (`calibration_share` of them, never meta-trained
on), each cut after 0, 1, 2, 3, 5, 8, ... sessions; then, for each of these history lengths, the
whole std is scaled so that 90% of their later outcomes fall within +-1.645 std (a Laplace
approximation is too narrow where a few steps stop short of the mode, and too wide where the
prior is; one scale would over-cover one length to under-cover another).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval

from coach.engine import _history
from coach.engine._inner import Meta, Rows, adapt, backward, outer_loss, sigmoid
from coach.engine.base import MetaLearner
from coach.engine.log import LogError, SessionLog
from coach.engine.stats import Z90, column_moments

_RIDGE = 1.0  # pseudo-sessions of the pooled fit that starts meta-training
_ADAM = (0.9, 0.999, 1e-8)
# The meta-parameters kept are the average of the iterates over the last half of meta-training
# (Polyak-Ruppert): each iterate wanders by the noise of its batch of tasks, their average does
# not, so two fits of the same log no longer differ by as much as strategies' effects do.
_AVERAGE_FROM = 0.5
_CALIBRATION_CHUNK = 256  # learners per batched Laplace inverse while calibrating
# History lengths at which the interval is calibrated; a length between two uses the shorter's.
_CALIBRATION_CUTS = (0, 1, 2, 3, 5, 8, 13, 21, 34)
# 2: the intercepts' step coupled through A (`coach.engine._inner`); a state without it is 1.
_STEP_VERSION = 2
_CALIBRATION_MIN_ROWS = 200  # later sessions below which a length keeps the previous scale


class OptimizationMetaLearner(MetaLearner):
    """Meta-SGD with a proximal pull on a per-learner logistic model; see the module docstring.

    Parameters
    ----------
    n_strategies : number of strategies S (>= 2).
    n_steps : inner gradient steps per adaptation.
    n_meta_steps : outer (Adam) steps of meta-training. The defaults, 4 and 600, were chosen on
        a draw of the simulated population the bench does not score (seed 1; 2,000 training
        learners; iterates averaged), regret ratio above the model learner's over k = 0-20:
        0.002-0.031 with 4 and 600; 0.002-0.033 with 8, at 1.7 times the fit time. With a
        diagonal step on the intercepts, more steps had paid: 0.002-0.059 with 4, 0.001-0.037
        with 16.
    batch_size : training learners (tasks) per outer step.
    learning_rate : Adam's step size.
    calibration_share : share of training learners held out to calibrate `std`.
    history_columns : context columns whose running mean is a feature too, as in the model
        learner.
    random_state : seed of the tasks drawn and the held-out learners.
    """

    name: ClassVar[str] = "optimization"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MetaLearner._parameter_constraints,
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "n_meta_steps": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "calibration_share": [Interval(Real, 0, 1, closed="neither")],
        "history_columns": ["array-like"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_strategies: int = 10,
        *,
        n_steps: int = 4,
        n_meta_steps: int = 600,
        batch_size: int = 256,
        learning_rate: float = 0.02,
        calibration_share: float = 0.2,
        history_columns: Sequence[int] = (),
        random_state: int | None = None,
    ) -> None:
        self.n_strategies = n_strategies
        self.n_steps = n_steps
        self.n_meta_steps = n_meta_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.calibration_share = calibration_share
        self.history_columns = history_columns
        self.random_state = random_state

    # Fitting ---------------------------------------------------------------------------------
    def fit(self, log: SessionLog) -> OptimizationMetaLearner:
        log = self._check_fit_log(log)
        if log.outcome.min() < 0.0 or log.outcome.max() > 1.0:
            raise LogError("the optimization learner needs outcomes in [0, 1]")
        self.n_features_in_ = log.n_features
        order = np.argsort(log.learner, kind="stable")
        log = log.take(order)
        columns = _history.check_columns(self.history_columns, log.n_features)
        values = log.context[:, columns]
        self.history_center_ = values.mean(axis=0)
        self.history_shrink_, _ = _history.shrinkage(values, log.learner)
        raw = np.hstack([log.context, self._means(log)])
        self.center_, spread = column_moments(raw)
        self.scale_ = np.where(spread > 1e-12, spread, 1.0)
        tasks = _Tasks(log, self, self._centred(log.context))

        rng = np.random.default_rng(self.random_state)
        ids = rng.permutation(tasks.n_learners)
        n_cal = round(float(self.calibration_share) * ids.size) if ids.size > 1 else 0
        n_cal = min(max(n_cal, 1 if ids.size > 1 else 0), ids.size - 1)
        train, held = ids[n_cal:], ids[:n_cal] if n_cal else ids
        meta = self._initial_meta(tasks, train)
        meta = self._meta_train(meta, tasks, train, rng)
        self._store(meta)
        self._calibrate(tasks, held)
        return self

    def _initial_meta(self, tasks: _Tasks, train: np.ndarray) -> Meta:
        """The pooled logistic fit (every learner the same), and steps that start small."""
        rows = tasks.all_rows(train)
        s, d1 = int(self.n_strategies), rows.x.shape[1]
        init = np.zeros((s, d1))
        ybar = float(np.clip(rows.y.mean(), 0.02, 0.98))
        init[:, 0] = np.log(ybar / (1.0 - ybar))
        # Toward the overall mean, so a strategy few tried starts near it.
        centre = init[0].copy()
        penalty = np.full(d1, _RIDGE)
        for k in range(s):
            mask = rows.s == k
            x, y = rows.x[mask], rows.y[mask]
            for _ in range(12):
                p = sigmoid(x @ init[k])
                hess = (x * (p * (1.0 - p))[:, None]).T @ x + np.diag(penalty)
                step = np.linalg.solve(hess, x.T @ (p - y) + penalty * (init[k] - centre))
                init[k] -= step
                if np.max(np.abs(step)) < 1e-6:
                    break
        p = sigmoid(rows.eta(init[None]))
        noise = float(np.mean((rows.y - p) ** 2 / np.maximum(p * (1.0 - p), 1e-6)))
        # Prior covariance / noise on the logit scale: a spread of 0.3 between learners.
        a0 = 0.09 / max(noise, 1e-3)
        return Meta(
            init=init,
            a_int=np.eye(s) * a0,
            a_slope=np.full((s, d1 - 1), 0.05 * a0),
            eta=np.full(int(self.n_steps), 0.7),
            decay=0.01,
        )

    def _meta_train(self, meta: Meta, tasks: _Tasks, train: np.ndarray, rng: np.random.Generator) -> Meta:
        """Adam on the outer loss, over tasks drawn from the training learners."""
        s = int(self.n_strategies)
        lower = np.tril_indices(s)
        chol = np.linalg.cholesky(meta.a_int)
        params = [
            meta.init.copy(),
            chol[lower].copy(),
            np.log(meta.a_slope),
            np.log(meta.eta),
            np.array([np.log(meta.decay)]),
        ]
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        b1, b2, eps = _ADAM
        size = min(int(self.batch_size), train.size)
        n_outer = int(self.n_meta_steps)
        averaged = [p.copy() for p in params]
        first_averaged = int(_AVERAGE_FROM * n_outer) + 1
        for step in range(1, n_outer + 1):
            meta = _unpack(params, s)
            batch = rng.choice(train, size=size, replace=False)
            inner, outer, age, weight = tasks.split(batch, tasks.draw_cuts(batch, rng))
            theta, trace = adapt(meta, inner, age, size)
            _, v = outer_loss(theta, outer, weight)
            g = backward(meta, inner, trace, v)
            low = np.zeros((s, s))
            low[lower] = params[1]
            d_chol = ((g.a_int + g.a_int.T) @ low)[lower]
            grads = [
                g.init,
                d_chol,
                g.a_slope * meta.a_slope,
                g.eta * meta.eta,
                np.array([g.decay * meta.decay]),
            ]
            # Down to a tenth by the end: the last iterates settle instead of wandering by one
            # step, which is as large as the gaps between strategies' effects.
            rate = float(self.learning_rate) * (1.0 - 0.9 * (step - 1) / max(n_outer, 1))
            for p, (m, v2), dp in zip(params, moments, grads, strict=True):
                m *= b1
                m += (1.0 - b1) * dp
                v2 *= b2
                v2 += (1.0 - b2) * dp**2
                p -= rate * (m / (1.0 - b1**step)) / (np.sqrt(v2 / (1.0 - b2**step)) + eps)
            params[3] = np.minimum(params[3], np.log(1.5))  # a step longer than 1.5 overshoots
            if step >= first_averaged:
                for mean, p in zip(averaged, params, strict=True):
                    mean += (p - mean) / (step - first_averaged + 1)
        return _unpack(averaged if n_outer else params, s)

    def _store(self, meta: Meta) -> None:
        self.init_ = meta.init
        self.step_intercepts_ = meta.a_int
        self.step_slopes_ = meta.a_slope
        self.step_lengths_ = meta.eta
        self.decay_ = float(meta.decay)
        self.prior_precision_ = np.linalg.inv(meta.a_int)  # of the intercepts
        self.step_version_ = _STEP_VERSION

    def _calibrate(self, tasks: _Tasks, held: np.ndarray) -> None:
        """Noise, Laplace scale and an interval scale per history length, from held-out
        learners' later sessions: each held-out learner is cut at every length in
        `_CALIBRATION_CUTS` that leaves them a later session."""
        meta = self._meta()
        eta_all, v_all, y_all, cut_all = [], [], [], []
        for c, cut in enumerate(_CALIBRATION_CUTS):
            ids = held[tasks.counts[held] > cut]
            for lo in range(0, ids.size, _CALIBRATION_CHUNK):
                batch = ids[lo : lo + _CALIBRATION_CHUNK]
                inner, outer, age, _ = tasks.split(batch, np.full(batch.size, cut))
                theta, trace = adapt(meta, inner, age, batch.size)
                cov = self._laplace(theta, inner, trace.weights)
                v_all.append(np.einsum("ni,nij,nj->n", outer.x, cov[outer.b, outer.s], outer.x))
                eta_all.append(outer.eta(theta))
                y_all.append(outer.y)
                cut_all.append(np.full(outer.y.size, c))
        eta, v, y = np.concatenate(eta_all), np.concatenate(v_all), np.concatenate(y_all)
        p = sigmoid(eta)
        u = p * (1.0 - p)
        noise, scale = _nonnegative_fit(np.stack([u, u**2 * v], axis=1), (y - p) ** 2)
        self.noise_ = max(float(noise), 1e-6)
        self.laplace_scale_ = float(scale)
        pm = sigmoid(eta / np.sqrt(1.0 + np.pi * self.laplace_scale_ * v / 8.0))
        std = np.sqrt(self.noise_ * pm * (1.0 - pm) + self.laplace_scale_ * (pm * (1.0 - pm)) ** 2 * v)
        ratio = np.abs(y - pm) / std
        cuts = np.concatenate(cut_all)
        pooled = float(np.quantile(ratio, 0.9) / Z90)
        scales = np.full(len(_CALIBRATION_CUTS), pooled)
        for c in range(len(_CALIBRATION_CUTS)):
            # A length few held-out learners reached keeps the scale of the one before.
            here = ratio[cuts == c]
            if here.size >= _CALIBRATION_MIN_ROWS:
                scales[c] = np.quantile(here, 0.9) / Z90
            elif c:
                scales[c] = scales[c - 1]
        self.interval_scale_ = scales

    def _laplace(self, theta: np.ndarray, rows: Rows, weights: np.ndarray) -> np.ndarray:
        """Posterior covariance blocks (B, S, D1, D1) of each learner's theta, strategy by
        strategy: the inverse of the prior precision plus the Hessian of their weighted history
        loss. Only intercepts couple strategies, so the slopes of each strategy are eliminated
        first (Schur complement) and one S x S system remains."""
        n_learners, s, d1 = theta.shape
        p = sigmoid(rows.eta(theta))
        h = weights * p * (1.0 - p)
        outer = np.einsum("ni,nj->nij", rows.x * h[:, None], rows.x).reshape(-1, d1 * d1)
        hess = rows.scatter(outer).reshape(n_learners, s, d1, d1)
        slopes = hess[:, :, 1:, 1:] + np.eye(d1 - 1) / self.step_slopes_[None, :, :, None]
        k_inv = np.linalg.inv(slopes)  # (B, S, d, d)
        cross = hess[:, :, 1:, 0]  # (B, S, d)
        k_cross = np.einsum("bsij,bsj->bsi", k_inv, cross)
        own = hess[:, :, 0, 0] - np.einsum("bsi,bsi->bs", cross, k_cross)
        prec = np.broadcast_to(self.prior_precision_, (n_learners, s, s)).copy()
        prec[:, np.arange(s), np.arange(s)] += own
        var = np.diagonal(np.linalg.inv(prec), axis1=1, axis2=2)  # (B, S) intercepts
        cov = np.empty((n_learners, s, d1, d1))
        cov[:, :, 0, 0] = var
        cov[:, :, 0, 1:] = cov[:, :, 1:, 0] = -var[:, :, None] * k_cross
        cov[:, :, 1:, 1:] = k_inv + var[:, :, None, None] * np.einsum("bsi,bsj->bsij", k_cross, k_cross)
        return cov

    # Prediction ------------------------------------------------------------------------------
    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        history, context = self._check_predict_input(history, context)
        s = int(self.n_strategies)
        k = len(history)
        centred = self._centred(history.context)
        means = _history.running_means(centred, np.zeros(k, dtype=np.int64), self.history_shrink_)[0]
        x = _with_one(self._standardise(np.hstack([history.context, means])))
        rows = Rows.make(np.zeros(k, dtype=np.int64), history.strategy, x, history.outcome, 1, s)
        meta = self._meta()
        theta, trace = adapt(meta, rows, (k - 1.0 - np.arange(k)), 1)
        cov = self._laplace(theta, rows, trace.weights)[0]
        situation = _history.situation_means(
            self._centred(context), centred.sum(axis=0), k, self.history_shrink_
        )
        z = _with_one(self._standardise(np.hstack([context, situation])))
        eta = z @ theta[0].T
        v = self.laplace_scale_ * np.einsum("mi,sij,mj->ms", z, cov, z)
        p = sigmoid(eta / np.sqrt(1.0 + np.pi * v / 8.0))
        u = p * (1.0 - p)
        scale = self.interval_scale_[np.searchsorted(_CALIBRATION_CUTS, k, side="right") - 1]
        return p, scale * np.sqrt(self.noise_ * u + u**2 * v)

    # Helpers -----------------------------------------------------------------------------------
    def _meta(self) -> Meta:
        return Meta(
            self.init_,
            self.step_intercepts_,
            self.step_slopes_,
            self.step_lengths_,
            self.decay_,
            coupled=self.step_version_ >= 2,
        )

    def _centred(self, context: np.ndarray) -> np.ndarray:
        return _history.centred(context, self.history_columns, self.history_center_)

    def _means(self, log: SessionLog) -> np.ndarray:
        return _history.running_means(self._centred(log.context), log.learner, self.history_shrink_)[0]

    def _standardise(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.center_) / self.scale_

    # Persistence -------------------------------------------------------------------------------
    _ARRAYS: ClassVar[tuple[str, ...]] = (
        "init",
        "step_intercepts",
        "step_slopes",
        "step_lengths",
        "prior_precision",
        "center",
        "scale",
        "history_center",
        "history_shrink",
        "interval_scale",
    )
    _SCALARS: ClassVar[tuple[str, ...]] = ("decay", "noise", "laplace_scale")

    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "n_features_in": int(self.n_features_in_),
            "step_version": self.step_version_,
        }
        state.update({key: np.asarray(getattr(self, key + "_")) for key in self._ARRAYS})
        state.update({key: float(getattr(self, key + "_")) for key in self._SCALARS})
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.n_features_in_ = int(state["n_features_in"])
        self.step_version_ = int(state.get("step_version", 1))
        for key in self._ARRAYS:
            setattr(self, key + "_", np.asarray(state[key], dtype=np.float64))
        for key in ("history_center", "history_shrink", "interval_scale"):
            setattr(self, key + "_", self.__dict__[key + "_"].reshape(-1))
        for key in self._SCALARS:
            setattr(self, key + "_", float(state[key]))


class _Tasks:
    """Training learners' sessions, grouped by learner in time order, cut into tasks."""

    def __init__(self, log: SessionLog, owner: OptimizationMetaLearner, centred: np.ndarray) -> None:
        self.log = log
        self.owner = owner
        self.n_strategies = int(owner.n_strategies)
        self.x = _with_one(owner._standardise(np.hstack([log.context, owner._means(log)])))
        self.centred = centred
        # Sums of the history columns before each row, over the whole log.
        self.before = np.vstack([np.zeros((1, centred.shape[1])), np.cumsum(centred, axis=0)])
        first = np.r_[True, log.learner[1:] != log.learner[:-1]]
        self.starts = np.flatnonzero(first)
        self.counts = np.diff(np.r_[self.starts, len(log)])
        self.n_learners = self.starts.size

    def all_rows(self, ids: np.ndarray) -> Rows:
        idx = _ranges(self.starts[ids], self.counts[ids])
        log = self.log
        b = np.zeros(idx.size, dtype=np.int64)
        return Rows.make(b, log.strategy[idx], self.x[idx], log.outcome[idx], 1, self.n_strategies)

    def draw_cuts(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Where to cut each learner: log-uniform in 0..n-1, so short histories, where a
        prediction matters most, are drawn as often as long ones."""
        n = self.counts[ids]
        return np.clip(np.floor(np.exp(rng.random(ids.size) * np.log(n))).astype(np.int64) - 1, 0, n - 1)

    def split(self, ids: np.ndarray, k: np.ndarray) -> tuple[Rows, Rows, np.ndarray, np.ndarray]:
        """Each learner cut at k: their first k sessions (inner rows, with their age), the rest
        (outer rows, with weights that give every learner the same say)."""
        n = self.counts[ids]
        k = np.clip(k, 0, n - 1)
        starts = self.starts[ids]
        inner_idx = _ranges(starts, k)
        inner_b = np.repeat(np.arange(ids.size), k)
        age = (np.repeat(starts + k, k) - 1 - inner_idx).astype(np.float64)
        outer_idx = _ranges(starts + k, n - k)
        outer_b = np.repeat(np.arange(ids.size), n - k)
        # A later session sees the learner's first k sessions and itself, as a prediction does.
        sums = (self.before[starts + k] - self.before[starts])[outer_b]
        seen = k[outer_b][:, None] + 1.0 + self.owner.history_shrink_
        means = (sums + self.centred[outer_idx]) / seen
        outer_x = _with_one(self.owner._standardise(np.hstack([self.log.context[outer_idx], means])))
        log = self.log
        n_strategies = self.n_strategies
        inner = Rows.make(
            inner_b,
            log.strategy[inner_idx],
            self.x[inner_idx],
            log.outcome[inner_idx],
            ids.size,
            n_strategies,
        )
        outer = Rows.make(
            outer_b,
            log.strategy[outer_idx],
            outer_x,
            log.outcome[outer_idx],
            ids.size,
            n_strategies,
        )
        weight = 1.0 / (ids.size * np.repeat(n - k, n - k))
        return inner, outer, age, weight


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated aranges starts[i] .. starts[i] + lengths[i]."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total) + offsets


def _nonnegative_fit(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Least squares b ~ a @ (c0, c1) with c0, c1 >= 0 (two columns: try both, then each alone)."""
    coef = np.linalg.lstsq(a, b, rcond=None)[0]
    if np.all(coef >= 0.0):
        return float(coef[0]), float(coef[1])
    alone = [max(float(a[:, j] @ b) / max(float(a[:, j] @ a[:, j]), 1e-300), 0.0) for j in (0, 1)]
    errors = [float(np.sum((b - a[:, j] * alone[j]) ** 2)) for j in (0, 1)]
    return (alone[0], 0.0) if errors[0] <= errors[1] else (0.0, alone[1])


def _with_one(z: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((z.shape[0], 1)), z])


def _unpack(params: list[np.ndarray], s: int) -> Meta:
    low = np.zeros((s, s))
    low[np.tril_indices(s)] = params[1]
    return Meta(
        init=params[0].copy(),
        a_int=low @ low.T + 1e-6 * np.eye(s),
        a_slope=np.exp(params[2]),
        eta=np.exp(params[3]),
        decay=float(np.exp(params[4][0])),
    )
