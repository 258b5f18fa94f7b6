"""Names for the meta-learners, so callers outside the engine never import a concrete class."""

from __future__ import annotations

from typing import Any

from coach.engine import combined, memory, model, optimization  # noqa: F401  (defining the classes registers them)
from coach.engine.base import MetaLearner


def learner_names() -> list[str]:
    return sorted(MetaLearner.classes)


def learner_class(name: str) -> type[MetaLearner]:
    classes = MetaLearner.classes
    if name not in classes:
        raise KeyError(f"unknown learner {name!r}; known: {', '.join(sorted(classes))}")
    return classes[name]


def make_learner(name: str, **params: Any) -> MetaLearner:
    return learner_class(name)(**params)
