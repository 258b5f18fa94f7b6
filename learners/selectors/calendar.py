"""Reads behind the private calendar feed: whose feed an address opens, and what goes in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.http import Http404

from learners.models import Learner, PlannedSession, SubjectGoal

# What learners.services.calendar makes; anything else is not looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,64}")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable: the same planned session or exam keeps it from one fetch to the next
    day: date
    kind: str  # "planned" or "exam"
    subject: str
    strategy: str  # the strategy's name, translated; "" for an exam
    changed_at: datetime


def calendar_learner(*, token: str) -> Learner:
    """The learner whose feed this is; a revoked, renewed or made-up token is simply not found."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise Http404
    learner = Learner.objects.filter(calendar_token=token).first()
    if learner is None:
        raise Http404
    return learner


def calendar_events(*, learner: Learner) -> list[CalendarEvent]:
    """Open planned sessions and exam dates, by day; two queries whatever their number."""
    planned = PlannedSession.objects.filter(learner=learner, status=PlannedSession.Status.PLANNED)
    events = [
        CalendarEvent(
            uid=f"planned-{row.pk}@metacoach",
            day=row.planned_for,
            kind="planned",
            subject=row.subject,
            strategy=row.strategy.label,
            changed_at=row.updated_at,
        )
        for row in planned.select_related("strategy")
    ]
    exams = SubjectGoal.objects.filter(learner=learner, exam_date__isnull=False)
    events += [
        CalendarEvent(
            uid=f"exam-{goal.pk}@metacoach",
            day=goal.exam_date,
            kind="exam",
            subject=goal.subject,
            strategy="",
            changed_at=goal.created_at,
        )
        for goal in exams
        if goal.exam_date is not None
    ]
    return sorted(events, key=lambda e: (e.day, e.kind, e.subject.casefold()))
