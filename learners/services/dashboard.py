"""Writes behind the dashboard: the learner's answers to nudges."""

from __future__ import annotations

from django.db import transaction

from learners.models import Learner

NUDGES = frozenset({"illusion-of-competence"})


def nudge_dismiss(*, learner: Learner, key: str) -> Learner:
    """Remember that the learner has seen a nudge, so it is never shown again."""
    if key not in NUDGES:
        raise ValueError(f"unknown nudge {key!r}")
    with transaction.atomic():
        fresh = Learner.objects.select_for_update().get(pk=learner.pk)
        if key not in fresh.dismissed_nudges:
            fresh.dismissed_nudges = [*fresh.dismissed_nudges, key]
            fresh.save(update_fields=["dismissed_nudges"])
        learner.dismissed_nudges = fresh.dismissed_nudges
    return learner
