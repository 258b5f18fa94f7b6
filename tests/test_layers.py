"""The layers hold for foreign keys too; import-linter (make lint) checks the imports."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

from django.apps import apps

import coach

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["learners", "coach"]  # highest first, as in pyproject.toml


def test_foreign_keys_point_down_the_layers_only() -> None:
    upward = []
    for model in apps.get_models():
        label = model._meta.app_label
        if label not in LAYERS:
            continue
        for field in model._meta.get_fields():
            target = field.related_model
            if not field.is_relation or field.auto_created or target is None:
                continue
            other = target._meta.app_label
            if other in LAYERS and LAYERS.index(other) < LAYERS.index(label):
                upward.append(f"{model.__name__}.{field.name} -> {other}.{target.__name__}")
    assert upward == []


def test_the_engine_contract_forbids_every_other_module_of_coach() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (engine,) = [c for c in contracts if c["name"].startswith("The engine imports nothing")]
    modules = {f"coach.{m.name}" for m in pkgutil.iter_modules(coach.__path__) if m.name != "engine"}
    assert set(engine["forbidden_modules"]) == modules
