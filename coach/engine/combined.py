"""Combined meta-learner: the model, memory and optimization learners' predictions, weighed by
how well each predicted held-out learners' later sessions after as many sessions as the learner
at hand has had.

The three learners are right in different places. The model learner's Gaussian posterior is
exact for a population that differs only in per-strategy offsets, and it is at its best with
few sessions; the memory learner reads what happened next to similar learners, which can follow
structure the model does not assume (non-linear traits, habits); the optimization learner
adapts per-learner context slopes and weighs recent sessions more. Which is best changes with
the number k of sessions the learner has had, so the weights do too: one set per k bucket
(`BUCKETS`: 0, 1-2, 3-5, 6-10, 11+).

How the weights are fitted. Some training learners are held out (`calibration_share`, at most
`n_calibration`); the bases are fitted on the others, and every held-out learner is cut after
0, 1, 2, 3, 5, 8, 13, 21, ... sessions, each base predicting that learner's later sessions from
the sessions before the cut. What is predicted (`objective`): by default a later outcome less
the mean of the same learner's later outcomes after that cut, and each prediction less its mean
likewise ("within_learner"). A recommendation picks the best strategy for the learner, so what
matters is how a base tells the strategies apart, not how high it puts the learner overall (the
memory learner weighs its neighbours by the same reasoning); with "outcome", the outcome itself.
Three combinations are then compared in each bucket, by that squared error under 5-fold
cross-validation over the held-out learners:
  - stacking: one weight per base, non-negative and summing to 1, minimising the squared error
    (exactly: the least-squares problem on the simplex is solved on every subset of the bases
    and the best non-negative solution kept; with three bases that is seven small systems);
  - inverse-variance weighting: each prediction weighed by 1 / its own std^2, no fitting;
  - the single base with the lowest squared error, alone.
Stacking is used in a bucket only when its cross-validated error is below the better of the
other two by more than one standard error of the difference (over held-out learners, whose
sessions are not independent of each other); otherwise the better of the other two (`method_`,
the three errors in `cv_mse_`). The rule is the "one standard error" rule of model selection:
weights fitted on a few hundred learners that only tie a simpler choice are mostly fitting
noise. Stacking learns from the outcomes which base is wrong; inverse-variance weighting cannot,
since the bases' stds are mostly the session noise, much the same for all three, but it has no
fitting noise, and can say which base knows more about this learner. On the simulated
population the three come within about a standard error of each other from k = 3 on. Where
they tie, fitted weights had given a poor base a share its squared error did not earn: on the
archetypes population the optimization learner a fifth of the new learner's weight, though its
choices there are much worse than the memory learner's (regret ratio 0.99 against 0.92 at
k = 0); the rule gives the memory learner alone.

The std. The prediction is read as the mixture of the bases' predictive distributions with
these weights: variance = sum_i w_i (std_i^2 + mean_i^2) - mean^2, which adds the bases'
disagreement to their own uncertainty. That spread is then scaled, per bucket, so that 90% of
the held-out later outcomes fall within +-1.645 std of the cross-validated predictions (the
weights used for a held-out learner were fitted without them), as the optimization learner
calibrates per history length. A bucket that fewer than `_MIN_ROWS` held-out later sessions
reach keeps the weights and scale of the bucket before it.

Last, the bases are fitted again on every training learner, and those are what `predict` uses:
the weights were measured on bases fitted on fewer learners, which are slightly worse; the
weights carry over as long as the bases' relative strengths do.

`from_fitted` builds the same combination from learners a caller has already fitted: the
product's retrain fits its learners on 80% of the learners, scores them on the other 20%, then
fits them on everyone; the weights are fitted on the first learners' predictions of that 20%,
and the final ones are combined, so nothing is fitted a third time (`rebased` puts weights
fitted over one set of bases over another). A store that keeps the bases already saves the
combination's own state alone (`combination_to_bytes`: weights, methods, interval scales,
buckets, the bases' names; a few kilobytes) and puts it back together with the loaded bases
(`from_combination_bytes`); `shares` tells how much each base weighs in a prediction.

Where it should help: when no single base is best at every k, and when the bases are
comparably good but wrong in different ways, since an average of errors that are not perfectly
correlated is smaller than either. Where it cannot: it is never better than what the bases can
say between them, costs their fits twice and three predictions per call, and its weights are
only as good as the held-out sessions show what a choice needs. They show the strategies each
learner habitually uses; a base that misjudges the ones a learner rarely uses is not caught.
Measured on the simulated population (`bench.simulated`, "families", 2,000 training and 500
test learners, two draws): the model learner is best at every k there, and the combination does
not beat it. On the first draw it is within the noise of it at every k (paired 95% intervals of
the difference in regret ratio all cover 0): 0.002-0.005 worse at k = 0-5, the same from k = 10
on, where the model learner alone is used. On the second it is 0.003-0.011 worse at k = 0-2,
beyond the noise at k = 2 (0.004-0.020), where inverse-variance weighting gives the memory and
optimization learners a share that habitual sessions cannot show they have not earned; the same
from k = 5 on. On the archetypes population, where the memory learner chooses best, it is within
the noise of it at every k on the first draw; on the second 0.010-0.016 worse at k = 1-5, beyond
the noise, for the same reason. Its intervals cover 88-91% of later outcomes.
With the "outcome" objective the new learner's weight goes to the optimization learner alone,
whose squared error is the lowest there and whose choices are the worst: 0.018 worse than the
model learner at k = 0 on the first draw (interval 0.003-0.034), 0.002 on the second
(-0.013-0.016), where "within_learner" is 0.004 and 0.003 worse; on archetypes 0.073 and 0.048
worse, where "within_learner" is as good as the model learner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from numbers import Integral, Real
from typing import Any, ClassVar, NamedTuple

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from coach.engine import memory, model, optimization  # noqa: F401  (the bases, registered by name)
from coach.engine.base import MetaLearner, SnapshotError
from coach.engine.log import LogError, SessionLog, check_log
from coach.engine.stats import Z90

# First k of each bucket of history lengths that has its own weights and interval scale.
BUCKETS = (0, 1, 3, 6, 11)
# Where held-out learners are cut: two or more lengths per bucket where learners reach them.
_CUTS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
_MIN_ROWS = 200  # held-out later sessions below which a bucket keeps the one before's
_N_FOLDS = 5
STACKING = "stacking"
SINGLE = "single"
WITHIN_LEARNER = "within_learner"
INVERSE_VARIANCE = "inverse_variance"
# Marks a file saved by `combination_to_bytes`, which holds no bases.
_BASES_APART = "apart"
_SHARED = ("n_strategies", "prior_gain", "history_columns", "random_state")


class HeldOutPredictions(NamedTuple):
    """Every base's prediction of the held-out learners' later sessions, one row per session."""

    mean: np.ndarray  # (n, B) each base's predicted outcome
    std: np.ndarray  # (n, B) each base's std
    outcome: np.ndarray  # (n,)
    bucket: np.ndarray  # (n,) the bucket of the history length the row was predicted from
    learner: np.ndarray  # (n,) the held-out learner, numbered 0..
    cut: np.ndarray  # (n,) the (learner, cut) the row was predicted at, numbered 0..


class BucketFit(NamedTuple):
    """How one bucket combines the bases."""

    weights: np.ndarray  # (B,) non-negative, summing to 1: stacking's, or 1 on the single base
    method: str  # STACKING, INVERSE_VARIANCE or SINGLE (see the module docstring)
    scale: float  # std scale that makes the 90% interval hold
    cv_mse: np.ndarray  # (3,) cross-validated squared error of stacking, inverse variance, single


class CombinedMetaLearner(MetaLearner):
    """The bases combined per history-length bucket; see the module docstring.

    Parameters
    ----------
    n_strategies : number of strategies S (>= 2).
    learners : names of the bases (at least two registered learners).
    prior_gain, history_columns, random_state : passed to every base that takes them.
    learner_params : {name: {parameter: value}} for a base, over the shared ones above.
    objective : what the weights are fitted to predict: "within_learner", a held-out later
        outcome less the mean of the same learner's later outcomes (what a choice between
        strategies rests on), or "outcome", the outcome itself.
    calibration_share : share of training learners held out to fit the weights and interval.
    n_calibration : most training learners held out (each costs a prediction per base and cut).
    """

    name: ClassVar[str] = "combined"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MetaLearner._parameter_constraints,
        "learners": ["array-like"],
        "prior_gain": ["array-like", None],
        "history_columns": ["array-like"],
        "learner_params": [dict, None],
        "objective": [StrOptions({WITHIN_LEARNER, "outcome"})],
        "calibration_share": [Interval(Real, 0, 1, closed="neither")],
        "n_calibration": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_strategies: int = 10,
        *,
        learners: Sequence[str] = ("model", "memory", "optimization"),
        prior_gain: np.ndarray | None = None,
        history_columns: Sequence[int] = (),
        learner_params: Mapping[str, Mapping[str, Any]] | None = None,
        objective: str = WITHIN_LEARNER,
        calibration_share: float = 0.2,
        n_calibration: int = 1000,
        random_state: int | None = None,
    ) -> None:
        self.n_strategies = n_strategies
        self.learners = learners
        self.prior_gain = prior_gain
        self.history_columns = history_columns
        self.learner_params = learner_params
        self.objective = objective
        self.calibration_share = calibration_share
        self.n_calibration = n_calibration
        self.random_state = random_state

    # Fitting ---------------------------------------------------------------------------------
    def fit(self, log: SessionLog, *, bases: Mapping[str, MetaLearner] | None = None) -> CombinedMetaLearner:
        """Fit the weights on held-out training learners, then the bases on all of `log`; or
        take `bases` ({name: learner}) as those last, when the caller has already fitted them
        on `log` as this combination would (the same kinds and parameters): the weights and the
        interval are then the same, at half the cost."""
        log = self._check_fit_log(log)
        self.n_features_in_ = log.n_features
        ids = np.unique(log.learner)
        if ids.size < 2:
            raise LogError(
                "the combined learner needs at least two learners: some are held out to weigh the rest"
            )
        rng = np.random.default_rng(self.random_state)
        n_held = round(float(self.calibration_share) * ids.size)
        n_held = min(max(n_held, 1), int(self.n_calibration), ids.size - 1)
        held = np.isin(log.learner, rng.choice(ids, size=n_held, replace=False))
        if bases is not None:
            self._check_given(bases, log)
        first = [self._make_base(name).fit(log.take(~held)) for name in self._names()]
        self._fit_combination(first, log.take(held), rng)
        if bases is None:
            bases = {name: self._make_base(name).fit(log) for name in self._names()}
        self._adopt(bases)
        return self

    def _check_given(self, bases: Mapping[str, MetaLearner], log: SessionLog) -> None:
        """`bases` are fitted learners of this combination's kinds and parameters, on `log`'s
        strategies and features."""
        for base in bases.values():
            if isinstance(base, MetaLearner):
                check_is_fitted(base, "n_features_in_")
        _check_bases(self, bases, InvalidParameterError)
        for name, base in bases.items():
            expected = self._make_base(name).get_params()
            if _params_key(base.get_params()) != _params_key(expected):
                raise InvalidParameterError(
                    f"bases[{name!r}] was built with other parameters than this combination's"
                )

    @classmethod
    def from_fitted(
        cls,
        weight_learners: Mapping[str, MetaLearner],
        held_out: SessionLog,
        final_learners: Mapping[str, MetaLearner],
        *,
        objective: str = WITHIN_LEARNER,
        random_state: int | None = 0,
        cross_fit: bool = False,
    ) -> CombinedMetaLearner:
        """The combination of `final_learners`, weighed by how `weight_learners` (the same
        kinds, fitted without the learners of `held_out`) predict `held_out`'s later sessions.
        Both are {name: fitted learner} with the same registered names, e.g. in a retrain:

            model.fit(training)  # and the others; scored on held_out
            combined = CombinedMetaLearner.from_fitted(
                {"model": model, "memory": memory}, held_out, {"model": final_model, ...})

        Every learner of `held_out` is predicted after 0, 1, 2, 3, 5, 8, ... sessions by every
        base: 40 s for 2,000 held-out learners of 30 sessions and the three bases.

        With `cross_fit`, the held-out learners are also split in two halves and the weights
        fitted on each half alone (from the same predictions, so at no further cost):
        `cross_fit_learners_[h]` are half h's learners and `cross_fit_[h]` the combination
        fitted without them, for scoring the combination on learners its weights did not see
        (`combine`)."""
        names = list(final_learners)
        if list(weight_learners) != names:
            raise InvalidParameterError(
                f"weight_learners {list(weight_learners)} and final_learners {names} "
                "must name the same learners"
            )
        for role, group in (("weight_learners", weight_learners), ("final_learners", final_learners)):
            for name, learner in group.items():
                if not isinstance(learner, MetaLearner) or learner.name != name:
                    raise InvalidParameterError(f"{role}[{name!r}] must be a fitted {name!r} learner")
                check_is_fitted(learner, "n_features_in_")
        everyone = [*weight_learners.values(), *final_learners.values()]
        sizes = {(int(b.n_strategies), int(b.n_features_in_)) for b in everyone}
        if len(sizes) != 1:
            raise InvalidParameterError(f"the learners differ in strategies or features: {sorted(sizes)}")
        (n_strategies, n_features) = sizes.pop()
        combined = cls(
            n_strategies,
            learners=tuple(names),
            learner_params={name: learner.get_params() for name, learner in final_learners.items()},
            objective=objective,
            random_state=random_state,
        )
        combined._check_params()
        held_out = check_log(held_out, n_strategies=n_strategies, n_features=n_features, name="held_out")
        combined.n_features_in_ = n_features
        rng = np.random.default_rng(random_state)
        rows = held_out_predictions(list(weight_learners.values()), held_out)
        combined._set_fits(combined._bucket_fits(rows, rng))
        combined._adopt(final_learners)
        ids = np.unique(held_out.learner)  # rows.learner numbers these in order
        if cross_fit and ids.size >= 2 * _N_FOLDS:
            half = rng.permutation(ids.size) % 2
            combined.cross_fit_learners_ = [ids[half == h] for h in (0, 1)]
            combined.cross_fit_ = []
            for h in (0, 1):
                others = half[rows.learner] != h
                part = HeldOutPredictions(*(column[others] for column in rows))
                part = part._replace(learner=np.unique(part.learner, return_inverse=True)[1])
                combined.cross_fit_.append(combined._bucket_fits(part, rng))
        return combined

    def rebased(self, bases: Mapping[str, MetaLearner]) -> CombinedMetaLearner:
        """This combination's weights and interval over other fitted learners of the same kinds,
        strategies and features ({name: learner}), e.g. the same learners fitted again on everyone
        after the weights were fitted on a held-out part."""
        check_is_fitted(self, "weights_")
        _check_bases(self, bases)
        combined = type(self)(**self.get_params())
        combined.set_params(learner_params={name: bases[name].get_params() for name in self._names()})
        combined.n_features_in_ = self.n_features_in_
        combined.bucket_starts_ = self.bucket_starts_.copy()
        combined.weights_ = self.weights_.copy()
        combined.interval_scale_ = self.interval_scale_.copy()
        combined.cv_mse_ = self.cv_mse_.copy()
        combined.method_ = list(self.method_)
        combined._adopt(bases)
        return combined

    def _adopt(self, bases: Mapping[str, MetaLearner]) -> None:
        """Predict with `bases` ({name: fitted learner}), over the contexts they were fitted on."""
        self.learners_ = {name: bases[name] for name in self._names()}
        finals = list(self.learners_.values())
        self.context_low_ = np.min([b.context_low_ for b in finals], axis=0)
        self.context_high_ = np.max([b.context_high_ for b in finals], axis=0)

    def _fit_combination(self, bases: list[MetaLearner], held: SessionLog, rng: np.random.Generator) -> None:
        """Weights, method and interval scale per bucket, from the bases' held-out predictions."""
        self._set_fits(self._bucket_fits(held_out_predictions(bases, held), rng))

    def _bucket_fits(self, rows: HeldOutPredictions, rng: np.random.Generator) -> list[BucketFit]:
        n_learners = int(rows.learner.max()) + 1
        fold = rng.permutation(n_learners)[rows.learner] % min(_N_FOLDS, n_learners)
        fits: list[BucketFit] = []
        for b in range(len(BUCKETS)):
            here = rows.bucket == b
            if b and here.sum() < _MIN_ROWS:
                fits.append(fits[-1])
                continue
            part = HeldOutPredictions(*(column[here] for column in rows))
            fits.append(fit_bucket(part, fold[here], str(self.objective)))
        return fits

    def _set_fits(self, fits: list[BucketFit]) -> None:
        self.bucket_starts_ = np.asarray(BUCKETS, dtype=np.int64)
        self.weights_ = np.stack([f.weights for f in fits])
        self.method_ = [f.method for f in fits]
        self.interval_scale_ = np.array([f.scale for f in fits])
        self.cv_mse_ = np.stack([f.cv_mse for f in fits])

    # Prediction ------------------------------------------------------------------------------
    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        history, context = self._check_predict_input(history, context)
        parts = [base.predict(history, context) for base in self.learners_.values()]
        return self.combine(len(history), parts)

    def combine(
        self, k: int, parts: Sequence[tuple[np.ndarray, np.ndarray]], fits: Sequence[BucketFit] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`predict`'s mean and std after `k` sessions from the bases' own predictions `parts`
        (mean, std) in the order of `learners_`; with `fits` (one of `cross_fit_`), those weights."""
        b = self.bucket_of(k)
        if fits is None:
            method, stacked, scale = self.method_[b], self.weights_[b], self.interval_scale_[b]
        else:
            method, stacked, scale = fits[b].method, fits[b].weights, fits[b].scale
        mean = np.stack([p[0] for p in parts], axis=-1)  # (m, S, B)
        std = np.stack([p[1] for p in parts], axis=-1)
        if method == INVERSE_VARIANCE:
            weights = inverse_variance_weights(std)
        else:
            weights = np.broadcast_to(stacked, mean.shape)
        combined, spread = mixture(weights, mean, std)
        return combined, scale * spread

    def shares(self, history: SessionLog, context: np.ndarray) -> dict[str, np.ndarray]:
        """{base name: its weight (m, S)} in `predict(history, context)`: the bucket's fitted
        weights, or in a bucket weighted by inverse variance, each base's own precision share
        (which needs the bases' predictions again)."""
        history, context = self._check_predict_input(history, context)
        b = self.bucket_of(len(history))
        shape = (context.shape[0], int(self.n_strategies))
        if self.method_[b] != INVERSE_VARIANCE:
            weights = np.broadcast_to(self.weights_[b], (*shape, len(self.learners_)))
        else:
            std = np.stack([base.predict(history, context)[1] for base in self.learners_.values()], axis=-1)
            weights = inverse_variance_weights(std)
        return {name: weights[..., i] for i, name in enumerate(self.learners_)}

    def bucket_of(self, k: int) -> int:
        """The bucket of a history of `k` sessions."""
        check_is_fitted(self, "bucket_starts_")
        return int(np.searchsorted(self.bucket_starts_, k, side="right")) - 1

    # Helpers -----------------------------------------------------------------------------------
    def _names(self) -> list[str]:
        return [str(name) for name in self.learners]

    def _make_base(self, name: str) -> MetaLearner:
        klass = MetaLearner.classes[name]
        accepted = klass._get_param_names()
        params = {key: getattr(self, key) for key in _SHARED if key in accepted}
        params.update((self.learner_params or {}).get(name, {}))
        return klass(**params)

    def _check_more_params(self) -> None:
        names = self._names()
        known = sorted(set(MetaLearner.classes) - {self.name})
        if len(names) < 2 or len(set(names)) != len(names) or not set(names) <= set(known):
            raise InvalidParameterError(
                f"learners must be two or more distinct names of {known}, got {list(self.learners)!r}"
            )
        for name, params in (self.learner_params or {}).items():
            if name not in names or not isinstance(params, Mapping):
                raise InvalidParameterError(
                    f"learner_params must map names of learners to their parameters, got {name!r}"
                )
            unknown = set(params) - set(MetaLearner.classes[name]._get_param_names())
            if unknown:
                raise InvalidParameterError(f"the {name!r} learner has no parameter {sorted(unknown)}")
            if int(params.get("n_strategies", self.n_strategies)) != int(self.n_strategies):
                raise InvalidParameterError(f"learner_params[{name!r}] sets another n_strategies")

    # Persistence -------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        state = self._combination_state()
        # Each base as its own saved file: the same checks on load as when saved alone.
        for name, base in self.learners_.items():
            state[f"base_{name}"] = np.frombuffer(base.to_bytes(), dtype=np.uint8)
        return state

    def _combination_state(self) -> dict[str, Any]:
        return {
            "n_features_in": int(self.n_features_in_),
            "bucket_starts": self.bucket_starts_,
            "weights": self.weights_,
            "method": list(self.method_),
            "interval_scale": self.interval_scale_,
            "cv_mse": self.cv_mse_,
        }

    def combination_to_bytes(self) -> bytes:
        """The combination without its bases (a few hundred bytes of weights, methods, interval
        scales and buckets, and the bases' names and parameters), for a store that keeps the
        bases already: `from_combination_bytes` puts it back together with them."""
        check_is_fitted(self, "learners_")
        return self._archive({**self._combination_state(), "bases": _BASES_APART})

    @classmethod
    def from_combination_bytes(cls, data: bytes, bases: Mapping[str, MetaLearner]) -> CombinedMetaLearner:
        """The combination saved by `combination_to_bytes`, over `bases` ({name: fitted learner},
        the learners it was fitted with, loaded on their own). Refuses a file of anything else
        and bases that are not the ones it names, or not of its strategies and features."""
        learner, state = cls._unarchive(data)
        if not isinstance(learner, CombinedMetaLearner) or state.get("bases") != _BASES_APART:
            raise SnapshotError("not a combination saved without its bases")
        try:
            learner._set_combination_state(state)
        except KeyError as exc:
            raise SnapshotError(f"the file lacks {exc}; retrain the engine to replace it") from None
        _check_bases(learner, bases)
        learner.learners_ = {name: bases[name] for name in learner._names()}
        return learner

    def _set_state(self, state: dict[str, Any]) -> None:
        if state.get("bases") == _BASES_APART:
            raise SnapshotError(
                "the combination was saved without its bases: load it with from_combination_bytes"
            )
        self._set_combination_state(state)
        self.learners_ = {}
        for name in self._names():
            base = MetaLearner.from_bytes(np.asarray(state[f"base_{name}"], dtype=np.uint8).tobytes())
            if base.name != name:
                raise SnapshotError(f"the saved base {name!r} holds a {base.name!r} learner")
            self.learners_[name] = base

    def _set_combination_state(self, state: dict[str, Any]) -> None:
        self.n_features_in_ = int(state["n_features_in"])
        self.bucket_starts_ = np.asarray(state["bucket_starts"], dtype=np.int64).reshape(-1)
        self.weights_ = np.asarray(state["weights"], dtype=np.float64)
        self.method_ = [str(m) for m in state["method"]]
        self.interval_scale_ = np.asarray(state["interval_scale"], dtype=np.float64).reshape(-1)
        self.cv_mse_ = np.asarray(state["cv_mse"], dtype=np.float64)
        names = self._names()
        n_buckets = self.bucket_starts_.size
        if self.weights_.shape != (n_buckets, len(names)) or len(self.method_) != n_buckets:
            raise SnapshotError(f"weights of shape {self.weights_.shape} do not fit {names} and the buckets")
        if not set(self.method_) <= {STACKING, INVERSE_VARIANCE, SINGLE}:
            raise SnapshotError(f"unknown combination methods {self.method_}")


def _params_key(params: Mapping[str, Any]) -> str:
    """Parameters as comparable text (arrays and tuples by their values)."""
    values = {key: None if value is None else np.asarray(value).tolist() for key, value in params.items()}
    return repr(sorted(values.items()))


def _check_bases(
    combined: CombinedMetaLearner,
    bases: Mapping[str, MetaLearner],
    error: type[Exception] = SnapshotError,
) -> None:
    """`bases` are learners of the kinds `combined` weighs, fitted on its strategies and
    features; `error` says what is wrong otherwise."""
    names = combined._names()
    if sorted(bases) != sorted(names):
        raise error(f"the combination weighs {names}: bases must be those, given {list(bases)}")
    for name in names:
        base = bases[name]
        if not isinstance(base, MetaLearner) or base.name != name:
            raise error(f"the base {name!r} must be a fitted {name!r} learner")
        fitted = getattr(base, "n_features_in_", None)
        if fitted != combined.n_features_in_ or int(base.n_strategies) != int(combined.n_strategies):
            raise error(f"the base {name!r} differs from the combination in strategies or features")


def held_out_predictions(bases: Sequence[MetaLearner], held: SessionLog) -> HeldOutPredictions:
    """Each held-out learner cut after every length in `_CUTS` that leaves a later session; every
    base predicts the later sessions from the ones before the cut."""
    order = np.argsort(held.learner, kind="stable")
    held = held.take(order)
    starts = np.flatnonzero(np.r_[True, held.learner[1:] != held.learner[:-1]])
    ends = np.r_[starts[1:], len(held)]
    mean, std, outcome, bucket, learner = [], [], [], [], []
    cuts: list[np.ndarray] = []
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        own = held.take(slice(int(start), int(end)))
        for cut in _CUTS:
            if cut >= len(own):
                break
            history, later = own.take(slice(0, cut)), own.take(slice(cut, len(own)))
            rows = np.arange(len(later))
            predictions = [base.predict(history, later.context) for base in bases]
            mean.append(np.stack([m[rows, later.strategy] for m, _ in predictions], axis=1))
            std.append(np.stack([s[rows, later.strategy] for _, s in predictions], axis=1))
            outcome.append(later.outcome)
            bucket.append(np.full(len(later), np.searchsorted(BUCKETS, cut, side="right") - 1))
            learner.append(np.full(len(later), i))
            cuts.append(np.full(len(later), len(cuts)))
    return HeldOutPredictions(
        np.concatenate(mean),
        np.concatenate(std),
        np.concatenate(outcome),
        np.concatenate(bucket),
        np.concatenate(learner),
        np.concatenate(cuts),
    )


def fit_bucket(rows: HeldOutPredictions, fold: np.ndarray, objective: str) -> BucketFit:
    """Stacking, inverse-variance weighting and the best single base by cross-validation over
    learners (`fold`), the chosen one's interval scale from its out-of-fold predictions. With
    the "within_learner" objective, predictions and outcomes are taken less their mean over the
    later sessions of the same learner and cut before they are compared."""

    def target(values: np.ndarray) -> np.ndarray:
        return _less_group_mean(values, rows.cut) if objective == WITHIN_LEARNER else values

    x, y = target(rows.mean), target(rows.outcome)
    n_folds = int(fold.max()) + 1
    stack_mean, stack_spread = np.empty_like(rows.outcome), np.empty_like(rows.outcome)
    single_mean, single_spread = np.empty_like(rows.outcome), np.empty_like(rows.outcome)
    # With one held-out learner there is nothing to validate on: in-sample stacking.
    for f in range(n_folds):
        test = fold == f
        train = ~test if n_folds > 1 else test
        w = np.broadcast_to(simplex_least_squares(x[train], y[train]), rows.mean[test].shape)
        stack_mean[test], stack_spread[test] = mixture(w, rows.mean[test], rows.std[test])
        best = _best_base(x[train], y[train])
        single_mean[test], single_spread[test] = rows.mean[test, best], rows.std[test, best]
    ivw_mean, ivw_spread = mixture(inverse_variance_weights(rows.std), rows.mean, rows.std)
    candidates = {
        STACKING: (stack_mean, stack_spread),
        INVERSE_VARIANCE: (ivw_mean, ivw_spread),
        SINGLE: (single_mean, single_spread),
    }
    errors = {method: target(mean - rows.outcome) ** 2 for method, (mean, _) in candidates.items()}
    plain = min((INVERSE_VARIANCE, SINGLE), key=lambda method: float(np.mean(errors[method])))
    method = STACKING if _clearly_lower(errors[STACKING], errors[plain], rows.learner) else plain
    mean, spread = candidates[method]
    # The interval is for the outcome itself, level and all.
    scale = float(np.quantile(np.abs(rows.outcome - mean) / spread, 0.9) / Z90)
    weights = np.eye(x.shape[1])[_best_base(x, y)] if method == SINGLE else simplex_least_squares(x, y)
    cv_mse = np.array([np.mean(errors[m]) for m in (STACKING, INVERSE_VARIANCE, SINGLE)])
    return BucketFit(weights, method, scale, cv_mse)


def _best_base(x: np.ndarray, y: np.ndarray) -> int:
    """The column of `x` (n, B) with the lowest squared error against `y`."""
    return int(np.argmin(np.mean((x - y[:, None]) ** 2, axis=0)))


def _clearly_lower(errors: np.ndarray, other: np.ndarray, learner: np.ndarray) -> bool:
    """Whether the mean of `errors` is below `other`'s by more than one standard error of the
    paired difference, with each learner's rows taken together."""
    _, index = np.unique(learner, return_inverse=True)
    by_learner = np.bincount(index, weights=errors - other)
    difference = by_learner.sum() / errors.size
    if by_learner.size < 2:
        return bool(difference < 0)
    standard_error = np.sqrt(by_learner.size) * by_learner.std(ddof=1) / errors.size
    return bool(difference < -standard_error)


def _less_group_mean(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """`values` (n,) or (n, B) less their mean over the rows of the same group."""
    _, index, counts = np.unique(group, return_inverse=True, return_counts=True)
    sums = np.zeros((counts.size, *values.shape[1:]))
    np.add.at(sums, index, values)
    return values - (sums / counts.reshape(-1, *([1] * (values.ndim - 1))))[index]


def simplex_least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ||y - x w||^2 over w >= 0, sum(w) = 1, exactly: the optimum solves the
    equality-constrained problem on its support, so solve that on every subset of the columns
    and keep the best solution that is non-negative (2^B - 1 systems; B is the few bases)."""
    n = x.shape[1]
    gram, cross = x.T @ x, x.T @ y
    best, best_loss = np.full(n, 1.0 / n), np.inf
    for size in range(1, n + 1):
        for subset in combinations(range(n), size):
            idx = list(subset)
            kkt = np.zeros((size + 1, size + 1))
            kkt[:size, :size] = gram[np.ix_(idx, idx)]
            kkt[:size, size] = kkt[size, :size] = 1.0
            solution = np.linalg.lstsq(kkt, np.r_[cross[idx], 1.0], rcond=None)[0][:size]
            if np.any(solution < -1e-10):
                continue
            w = np.zeros(n)
            w[idx] = np.clip(solution, 0.0, None)
            w /= w.sum()
            loss = float(w @ gram @ w - 2.0 * cross @ w)
            if loss < best_loss:
                best, best_loss = w, loss
    return best


def inverse_variance_weights(std: np.ndarray) -> np.ndarray:
    """Weights along the last axis proportional to 1 / std^2."""
    precision = 1.0 / np.maximum(std, 1e-12) ** 2
    return precision / precision.sum(axis=-1, keepdims=True)


def mixture(weights: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the mixture of normals (mean, std) with `weights`, over the last axis:
    the bases' own variances plus their spread around the combined mean."""
    combined = np.sum(weights * mean, axis=-1)
    second = np.sum(weights * (std**2 + mean**2), axis=-1)
    return combined, np.sqrt(np.maximum(second - combined**2, 1e-12))
