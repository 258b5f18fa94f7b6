"""Writes on a person's own account: their time zone, and deleting it with everything stored about them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from learners.models import Cohort, Learner, validate_timezone


def account_delete(*, user: User) -> None:
    """Delete the user, their learner profile and all their data, together or not at all.

    Sessions, reflections, self-reports, recommendations, memberships and the timer go with the
    learner profile (cascade). Cohorts the user owns pass to a co-teacher so a class keeps its
    educator; a cohort with no co-teacher is deleted with its memberships.
    """
    with transaction.atomic():
        for cohort in Cohort.objects.filter(owner=user).prefetch_related("co_teachers"):
            heirs = sorted((t for t in cohort.co_teachers.all() if t.pk != user.pk), key=lambda t: t.pk)
            if heirs:
                cohort.owner = heirs[0]
                cohort.save(update_fields=["owner"])
                cohort.co_teachers.remove(heirs[0])
            else:
                cohort.delete()
        user.delete()


def learner_set_timezone(*, learner: Learner, name: str) -> None:
    """Show and count the learner's times in the zone `name`; an unknown one raises ValidationError."""
    validate_timezone(name)
    learner.timezone = name
    learner.save(update_fields=["timezone"])
