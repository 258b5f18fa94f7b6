"""Rows written before the limits on text and dates migrate untouched: the limits are checked by
forms and services, and a migration that truncated or refused older rows would lose a learner's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("learners", "0005_recommendation_reason_facts")]
AFTER = [("learners", "0006_session_submission_key_text_limits")]


@pytest.mark.django_db(transaction=True)
def test_text_longer_than_the_new_limits_and_dates_before_2000_survive_the_migration() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="olga")
    learner = old.get_model("learners", "Learner").objects.create(user=user)
    session = old.get_model("learners", "StudySession").objects.create(
        learner=learner,
        subject="s" * 100,
        task_kind="memorise",
        strategy=old.get_model("coach", "Strategy").objects.order_by("pk").first(),
        started_at=datetime(1900, 1, 1, tzinfo=UTC),
        minutes=30,
        difficulty=3,
        confidence=60,
        focus=3,
        notes="n" * 5_000,
    )
    reflection = old.get_model("learners", "Reflection").objects.create(
        session=session, plan="p" * 100_000, what_worked="w" * 3_000, next_time="t" * 2_001
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    migrated = new.get_model("learners", "StudySession").objects.get(pk=session.pk)
    assert (len(migrated.subject), len(migrated.notes), migrated.started_at.year) == (100, 5_000, 1900)
    assert migrated.submission_key is None
    kept = new.get_model("learners", "Reflection").objects.get(pk=reflection.pk)
    assert (len(kept.plan), len(kept.what_worked), len(kept.next_time)) == (100_000, 3_000, 2_001)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
