"""Every save and delete of what the dashboard and the cohort pages show gives it a new version.

Deletions cascading from a learner, a session
or a cohort are covered by the signal of what was deleted (or by the membership going with it), so
the thousands of rows a deleted account takes along cost nothing here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from coach.models import Strategy
from learners import versions
from learners.models import (
    Cohort,
    CohortMembership,
    Learner,
    Recommendation,
    Reflection,
    SelfReport,
    StudySession,
    SubjectGoal,
)

# Learner fields that change what their pages show; other saves (a refresh request's time stamp,
# a dismissed nudge) leave the cached parts as they are.
LEARNER_PAGE_FIELDS = frozenset({"timezone", "language", "profile"})


def _cascaded(instance: Model, origin: Any) -> bool:
    """Deleted along with something else, whose own signal covers it."""
    if origin is None or origin is instance:
        return False
    return not (isinstance(origin, QuerySet) and origin.model is type(instance))


@receiver([post_save, post_delete], sender=StudySession)
@receiver([post_save, post_delete], sender=SelfReport)
@receiver([post_save, post_delete], sender=SubjectGoal)
def _learner_row_changed(
    sender: Any, instance: StudySession | SelfReport | SubjectGoal, origin: Any = None, **kwargs: Any
) -> None:
    if not _cascaded(instance, origin):
        versions.learner_changed(instance.learner_id)


@receiver([post_save, post_delete], sender=Reflection)
def _reflection_changed(sender: Any, instance: Reflection, origin: Any = None, **kwargs: Any) -> None:
    if _cascaded(instance, origin):
        return
    learner_id = (
        StudySession.objects.filter(pk=instance.session_id).values_list("learner_id", flat=True).first()
    )
    if learner_id is not None:
        versions.learner_changed(learner_id)


@receiver([post_save, post_delete], sender=Recommendation)
def _recommendation_changed(sender: Any, instance: Recommendation, origin: Any = None, **kwargs: Any) -> None:
    # What became of recommendations is on the cohort page, not on the learner's dashboard.
    if not _cascaded(instance, origin):
        versions.learner_changed(instance.learner_id, own_pages=False)


@receiver(post_save, sender=Learner)
def _learner_saved(
    sender: Any, instance: Learner, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    if update_fields is None or update_fields & LEARNER_PAGE_FIELDS:
        versions.learner_changed(instance.pk)


@receiver(post_save, sender=User)
def _user_saved(sender: Any, instance: User, update_fields: frozenset[str] | None, **kwargs: Any) -> None:
    # Members are listed by username; a login only stamps last_login.
    if update_fields is not None and "username" not in update_fields:
        return
    learner_id = Learner.objects.filter(user=instance).values_list("pk", flat=True).first()
    if learner_id is not None:
        versions.learner_changed(learner_id)


@receiver([post_save, post_delete], sender=CohortMembership)
def _membership_changed(sender: Any, instance: CohortMembership, **kwargs: Any) -> None:
    # A learner who joins or leaves changes their comparison group and the cohort's figures.
    versions.learner_changed(instance.learner_id)
    versions.cohort_changed(instance.cohort_id)


@receiver([post_save, post_delete], sender=Strategy)
def _strategy_changed(sender: Any, **kwargs: Any) -> None:
    versions.catalogue_changed()


@receiver(post_save, sender=Cohort)
def _cohort_saved(sender: Any, instance: Cohort, **kwargs: Any) -> None:
    # Archiving takes the cohort out of its members' comparisons.
    versions.cohort_changed(instance.pk)
    for learner_id in CohortMembership.objects.filter(cohort=instance).values_list("learner_id", flat=True):
        versions.learner_changed(learner_id)
