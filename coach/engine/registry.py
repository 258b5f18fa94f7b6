"""Names for the meta-learners, so callers outside the engine never import a concrete class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.engine.base import MetaLearner


def _classes() -> dict[str, type[MetaLearner]]:
    from coach.engine.memory import MemoryMetaLearner
    from coach.engine.model import ModelMetaLearner

    return {cls.name: cls for cls in (MemoryMetaLearner, ModelMetaLearner)}


def learner_names() -> list[str]:
    return sorted(_classes())


def learner_class(name: str) -> type[MetaLearner]:
    classes = _classes()
    if name not in classes:
        raise KeyError(f"unknown learner {name!r}; known: {', '.join(sorted(classes))}")
    return classes[name]


def make_learner(name: str, **params: Any) -> MetaLearner:
    return learner_class(name)(**params)
