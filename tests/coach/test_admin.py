"""The admin of the engine's records: snapshots are read, never edited, and their learners stay out."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from coach.models import EngineRun, EngineSnapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_snapshot_shows_read_only_without_its_learners_bytes() -> None:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    run = EngineRun.objects.create(status=EngineRun.Status.SUCCEEDED, active=False)
    snapshot = EngineSnapshot.objects.create(
        run=run,
        strategy_slugs=["a", "b"],
        feature_names=[],
        model_learner=b"model",
        memory_learner=b"memory",
        optimization_learner=b"optimization",
    )
    page = client.get(reverse("admin:coach_enginesnapshot_change", args=[snapshot.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "strategy_slugs" in content  # the other fields are shown, read-only
    # Megabytes of numbers an administrator cannot read: left out, the new learner as the others.
    assert all(f"{name}_learner" not in content for name in ("model", "memory", "optimization"))
