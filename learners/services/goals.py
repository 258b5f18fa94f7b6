"""Writes on a learner's subjects: per subject a goal (minutes a week, an optional exam date), and
renaming or merging subjects."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from learners import versions
from learners.models import Learner, StudySession, StudyTimer, SubjectGoal
from learners.selectors.sessions import learner_today
from learners.services.plan import plan_rename_subject
from learners.services.xapi import xapi_request


def goal_save(*, learner: Learner, subject: str, weekly_minutes: int, exam_date: date | None) -> SubjectGoal:
    """Set the goal of a subject (the same subject whatever its case replaces the earlier goal).

    An exam date before the learner's today, in their own time zone, is refused.
    """
    subject = subject.strip()
    if exam_date is not None and exam_date < learner_today(learner=learner):
        raise ValidationError(
            {
                "exam_date": _("The exam date %(date)s has passed. Enter a date from today on.")
                % {"date": date_format(exam_date, "DATE_FORMAT")}
            },
            code="past",
        )
    with transaction.atomic():
        goal = (
            SubjectGoal.objects.select_for_update().filter(learner=learner, subject__iexact=subject).first()
        )
        goal = goal or SubjectGoal(learner=learner)
        goal.subject, goal.weekly_minutes, goal.exam_date = subject, weekly_minutes, exam_date
        goal.full_clean(validate_constraints=False)
        goal.save()
    return goal


def goal_delete(*, learner: Learner, goal_id: int) -> bool:
    deleted, _rows = SubjectGoal.objects.filter(learner=learner, pk=goal_id).delete()
    return bool(deleted)


def subject_rename(*, learner: Learner, old: str, new: str) -> int:
    """Rename a subject in every session, the running timer and its goal; renaming it to a subject
    that exists merges the two. A goal already set for the new name is the one kept. Returns the
    number of sessions renamed."""
    old, new = old.strip(), new.strip()
    if not new:
        raise ValidationError({"new": _("Enter the new name of the subject.")}, code="blank")
    with transaction.atomic():
        # A new revision of each session (update() leaves auto_now alone): its xAPI statements are new.
        now = timezone.now()
        moved = StudySession.objects.filter(learner=learner, subject__iexact=old).update(
            subject=new, updated_at=now
        )
        # The subject merged into takes the spelling typed too, so the two read as one.
        StudySession.objects.filter(learner=learner, subject__iexact=new).update(subject=new, updated_at=now)
        StudyTimer.objects.filter(learner=learner, subject__iexact=old).update(subject=new)
        plan_rename_subject(learner=learner, old=old, new=new)
        goals = SubjectGoal.objects.select_for_update().filter(learner=learner)
        kept = goals.filter(subject__iexact=new).exclude(subject__iexact=old).first()
        if kept is not None:
            goals.filter(subject__iexact=old).delete()
            kept.subject = new
            kept.save(update_fields=["subject"])
        else:
            goals.filter(subject__iexact=old).update(subject=new)
        # Bulk updates send no signals: the pages built from the old name are let go here.
        versions.learner_changed(learner.pk)
        xapi_request(learner_id=learner.pk)  # the renamed sessions' statements are new ones
    return moved
