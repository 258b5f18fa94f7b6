"""The coaching engine: meta-learners that adapt to a new learner from a few sessions.

Pure Python, numpy and scikit-learn: arrays in, arrays out, no Django. A bad constructor
argument raises InvalidParameterError (scikit-learn's), a bad session log LogError.
"""

from sklearn.utils._param_validation import InvalidParameterError

from coach.engine.base import MetaLearner, SnapshotError
from coach.engine.combined import CombinedMetaLearner
from coach.engine.log import LogError, SessionLog
from coach.engine.memory import MemoryMetaLearner
from coach.engine.model import ModelMetaLearner
from coach.engine.optimization import OptimizationMetaLearner
from coach.engine.registry import learner_class, learner_names, make_learner

__all__ = [
    "CombinedMetaLearner",
    "InvalidParameterError",
    "LogError",
    "MemoryMetaLearner",
    "MetaLearner",
    "ModelMetaLearner",
    "OptimizationMetaLearner",
    "SessionLog",
    "SnapshotError",
    "learner_class",
    "learner_names",
    "make_learner",
]
