"""What every meta-learner shares: the estimator contract and a safe, versioned file format."""

from __future__ import annotations

import io
import json
from abc import ABC, abstractmethod
from dataclasses import replace
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from coach.engine.log import SessionLog, check_context, check_log

FORMAT = "metacoach-engine"
# 2: learners saved with their training contexts' range, the memory learner's level parameters,
# history columns and outcome sums; older files are refused, and the next retrain replaces them.
FORMAT_VERSION = 2


class SnapshotError(ValueError):
    """A saved learner that cannot be loaded: wrong format, version or content."""


class MetaLearner(BaseEstimator, ABC):
    """Learns across learners (`fit`) how to predict a new one from a few sessions (`predict`).

    Subclasses store their constructor arguments unchanged (scikit-learn convention), set
    fitted attributes ending in `_` in `fit`, and describe their fitted state as plain arrays
    and scalars in `_get_state` / `_set_state` so it can be saved without pickle.
    """

    name: ClassVar[str]
    # Every concrete learner, by `name`, as classes are defined: loading needs no registry import.
    classes: ClassVar[dict[str, type[MetaLearner]]] = {}
    # Constructor arguments, checked by scikit-learn's parameter validation (InvalidParameterError).
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_strategies": [Interval(Integral, 2, None, closed="left")],
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            MetaLearner.classes[cls.name] = cls

    def __init__(self, n_strategies: int = 10) -> None:
        self.n_strategies = n_strategies

    # The contract -------------------------------------------------------------------------
    @abstractmethod
    def fit(self, log: SessionLog) -> MetaLearner:
        """Meta-train on the sessions of many learners; returns self."""

    @abstractmethod
    def predict(self, history: SessionLog, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected outcome and its standard deviation, both (m, n_strategies), for each of
        the m situations in `context`, given the `history` of one learner (0 rows allowed)."""

    # Validation shared by subclasses --------------------------------------------------------
    def _check_params(self) -> None:
        """Constructor arguments against `_parameter_constraints`: a bad one raises
        InvalidParameterError, a bad log LogError."""
        self._validate_params()
        self._check_more_params()

    def _check_more_params(self) -> None:
        """What a constraint cannot say (an array's shape, for instance)."""

    def _check_prior_gain(self, prior_gain: Any) -> np.ndarray:
        s = int(self.n_strategies)
        if prior_gain is None:
            return np.zeros(s)
        gain = np.asarray(prior_gain, dtype=np.float64)
        if gain.shape != (s,) or not np.all(np.isfinite(gain)):
            raise InvalidParameterError(f"prior_gain must be {s} finite numbers, got shape {gain.shape}")
        return gain

    def _check_fit_log(self, log: SessionLog) -> SessionLog:
        self._check_params()
        log = check_log(log, n_strategies=int(self.n_strategies))
        # What the training sessions spanned: predictions never extrapolate beyond it (below).
        self.context_low_ = log.context.min(axis=0)
        self.context_high_ = log.context.max(axis=0)
        return log

    def _check_predict_input(self, history: SessionLog, context: np.ndarray) -> tuple[SessionLog, np.ndarray]:
        check_is_fitted(self, "n_features_in_")
        d = int(self.n_features_in_)
        history = check_log(
            history,
            n_strategies=int(self.n_strategies),
            n_features=d,
            allow_empty=True,
            single_learner=True,
            name="history",
        )
        context = check_context(context, n_features=d)
        # A value beyond every training session's (an extreme self-report, a one-minute session)
        # is read as the nearest one seen: the fit says nothing about further out, and its
        # uncertainty there would swamp the range shown.
        low, high = self.context_low_, self.context_high_
        history = replace(history, context=np.clip(history.context, low, high))
        return history, np.clip(context, low, high)

    # Persistence ------------------------------------------------------------------------------
    @abstractmethod
    def _get_state(self) -> dict[str, Any]:
        """Fitted state: numpy arrays, ints, floats, strings, lists of those."""

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore what `_get_state` returned."""

    def to_bytes(self) -> bytes:
        """The fitted learner as an .npz archive: a JSON header plus numeric arrays only."""
        check_is_fitted(self, "n_features_in_")
        return self._archive(self._get_state())

    def _archive(self, state: dict[str, Any]) -> bytes:
        """`state`, with the training contexts' range, in the saved format."""
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, Any] = {}
        state = {**state, "context_low": self.context_low_, "context_high": self.context_high_}
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                if value.dtype == object:
                    raise SnapshotError(f"state {key!r} is an object array; only numeric arrays are saved")
                arrays[key] = value
            else:
                scalars[key] = value
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "learner": self.name,
            "params": _jsonable(self.get_params()),
            "scalars": _jsonable(scalars),
        }
        buffer = io.BytesIO()
        arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MetaLearner:
        """Load a learner saved by `to_bytes`; refuses anything else."""
        learner, state = cls._unarchive(data)
        try:
            learner._set_state(state)
        except KeyError as exc:
            raise SnapshotError(f"the file lacks {exc}; retrain the engine to replace it") from None
        return learner

    @classmethod
    def _unarchive(cls, data: bytes) -> tuple[MetaLearner, dict[str, Any]]:
        """The learner an archive holds, constructed with its parameters and its training
        contexts' range, and the rest of its saved state, not yet set."""
        try:
            archive = np.load(io.BytesIO(data), allow_pickle=False)
            header = json.loads(bytes(archive["__header__"]).decode())
        except (OSError, ValueError, KeyError) as exc:
            raise SnapshotError(f"not a saved engine learner: {exc}") from None
        if header.get("format") != FORMAT:
            raise SnapshotError("not a saved engine learner")
        if header.get("version") != FORMAT_VERSION:
            raise SnapshotError(
                f"saved with format version {header.get('version')}, this engine reads {FORMAT_VERSION}; "
                "retrain the engine to replace it"
            )
        klass = MetaLearner.classes.get(header.get("learner", ""))
        if klass is None:
            raise SnapshotError(f"the file holds an unknown learner {header.get('learner')!r}")
        if cls is not MetaLearner and not issubclass(klass, cls):
            raise SnapshotError(f"the file holds a {header['learner']!r} learner, not a {cls.name!r} one")
        learner = klass(**header["params"])
        state: dict[str, Any] = dict(header["scalars"])
        state.update({key: archive[key] for key in archive.files if key != "__header__"})
        try:
            learner.context_low_ = np.asarray(state.pop("context_low"), dtype=np.float64)
            learner.context_high_ = np.asarray(state.pop("context_high"), dtype=np.float64)
        except KeyError as exc:
            raise SnapshotError(f"the file lacks {exc}; retrain the engine to replace it") from None
        return learner, state


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise SnapshotError(f"cannot save a value of type {type(value).__name__}")
