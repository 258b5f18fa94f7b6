"""A database made by release 0.1 (demo cohort, an engine run and its snapshot) migrates to the
current layout with every row kept.

`data/main-0.1.json` is `dumpdata auth.group auth.user coach learners` of such a database. The test builds
the schema with 0.1's migrations, loads those rows through 0.1's historical models, and migrates
forward.
"""

from __future__ import annotations

import base64
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from coach import snapshots

FIXTURE = Path(__file__).parent / "data" / "main-0.1.json"
RELEASE_0_1 = [
    ("coach", "0004_enginerun_enginesnapshot_recommendation_snapshot_and_more"),
    ("learners", "0002_cohort_archived_cohort_co_teachers_and_more"),
]
MOVED = {"coach.recommendation": "learners.recommendation"}


def _load(old_apps: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the dumped rows as 0.1 stored them, auto_now fields and primary keys included."""
    with transaction.atomic():
        for row in rows:
            model = old_apps.get_model(row["model"])
            values: dict[str, Any] = {}
            many: dict[str, list[int]] = {}
            for name, value in row["fields"].items():
                field = model._meta.get_field(name)
                if field.many_to_many:
                    if field.related_model._meta.label != "auth.Permission":  # ids differ per database
                        many[name] = value
                elif field.is_relation:
                    values[field.attname] = value
                elif field.get_internal_type() == "BinaryField":
                    values[name] = base64.b64decode(value)
                else:
                    values[name] = value
            if not model.objects.filter(pk=row["pk"]).exists():  # the catalogue is seeded by 0.1's migrations
                model(pk=row["pk"], **values).save(force_insert=True)
            model.objects.filter(pk=row["pk"]).update(**values)  # update() leaves auto_now values alone
            for name, ids in many.items():
                through = getattr(model.objects.get(pk=row["pk"]), name).through
                if through._meta.auto_created:
                    getattr(model.objects.get(pk=row["pk"]), name).set(ids)


@pytest.mark.django_db(transaction=True)
def test_a_0_1_database_migrates_with_every_row_kept(caplog: pytest.LogCaptureFixture) -> None:
    rows = json.loads(FIXTURE.read_text())
    executor = MigrationExecutor(connection)
    executor.migrate([("learners", None), ("coach", None)])  # an empty database...
    executor = MigrationExecutor(connection)
    executor.migrate(RELEASE_0_1)  # ...built by 0.1's migrations, which seed the catalogue
    _load(executor.loader.project_state(RELEASE_0_1).apps, rows)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    counts = Counter(MOVED.get(row["model"], row["model"]) for row in rows)
    assert counts["learners.recommendation"] > 0 and counts["coach.enginesnapshot"] == 1
    for label, n in counts.items():
        assert apps.get_model(label).objects.count() == n, label

    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_model.setdefault(MOVED.get(row["model"], row["model"]), []).append(row)
    Recommendation = apps.get_model("learners", "Recommendation")
    for row in by_model["learners.recommendation"]:
        moved = Recommendation.objects.get(pk=row["pk"])
        fields = row["fields"]
        assert (moved.learner_id, moved.strategy_id, moved.snapshot_id) == (
            fields["learner"],
            fields["strategy"],
            fields["snapshot"],
        )
        assert (moved.reason, moved.ranking, moved.basis) == (
            fields["reason"],
            fields["ranking"],
            fields["basis"],
        )
        assert moved.created_at.isoformat().replace("+00:00", "Z")[:19] == fields["created_at"][:19]
    followed = [r for r in by_model["learners.studysession"] if r["fields"]["recommendation"]]
    assert followed, "the fixture links a session to the recommendation it followed"
    StudySession = apps.get_model("learners", "StudySession")
    for row in followed:
        session = StudySession.objects.get(pk=row["pk"])
        assert session.recommendation_id == row["fields"]["recommendation"]
        assert session.recommendation.sessions.filter(pk=session.pk).exists()
    (timer,) = by_model["learners.studytimer"]
    assert (
        apps.get_model("learners", "StudyTimer").objects.get(pk=timer["pk"]).recommendation_id
        == (timer["fields"]["recommendation"])
    )
    (snapshot,) = by_model["coach.enginesnapshot"]
    stored = apps.get_model("coach", "EngineSnapshot").objects.get(pk=snapshot["pk"])
    assert bytes(stored.model_learner) == base64.b64decode(snapshot["fields"]["model_learner"])
    assert stored.optimization_learner is None  # 0.1 fitted no optimization learner
    # Its engine snapshot is in format 1: refused with a warning, evidence advises until a retrain.
    snapshots._current = snapshots._unreadable = None  # ids repeat across test databases
    with caplog.at_level(logging.WARNING, logger="coach.snapshots"):
        assert snapshots.snapshot_current() is None
    assert "retrain the engine" in caplog.text
    assert connection.introspection.table_names().count("learners_recommendation") == 1
    assert "coach_recommendation" not in connection.introspection.table_names()
