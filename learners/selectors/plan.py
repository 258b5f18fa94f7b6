"""Reads on a learner's study plan: what is due today and in the coming week. Ownership is checked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from learners.models import Learner, PlannedSession
from learners.selectors.sessions import learner_today

WEEK_DAYS = 7


@dataclass(frozen=True)
class PlannedItem:
    id: int
    subject: str
    strategy_id: int
    strategy_slug: str
    strategy_name: str
    planned_for: date
    overdue: bool


@dataclass(frozen=True)
class PlanDue:
    today: date
    due: tuple[PlannedItem, ...]  # today's, and earlier ones neither done nor skipped
    this_week: tuple[PlannedItem, ...]  # from tomorrow to six days on

    def __bool__(self) -> bool:
        return bool(self.due or self.this_week)


def planned_open(*, learner: Learner) -> QuerySet[PlannedSession]:
    return PlannedSession.objects.filter(
        learner=learner, status=PlannedSession.Status.PLANNED
    ).select_related("strategy")


def planned_get(*, learner: Learner, planned_id: int) -> PlannedSession:
    """The learner's own planned session; anyone else's answers 404, as if it did not exist."""
    return get_object_or_404(
        PlannedSession.objects.select_related("strategy", "learner"), learner=learner, pk=planned_id
    )


def planned_or_none(*, learner: Learner, planned_id: object) -> PlannedSession | None:
    """The learner's planned session with this id from a form or a query string; None for an id
    that is not theirs, or not an id."""
    try:
        return planned_get(learner=learner, planned_id=int(str(planned_id)))
    except (TypeError, ValueError, Http404):
        return None


def planned_prefill(*, learner: Learner, planned_id: object) -> dict[str, object]:
    """A planned session started from the dashboard, as form initial values."""
    planned = planned_or_none(learner=learner, planned_id=planned_id)
    if planned is None:
        return {}
    return {
        "subject": planned.subject,
        "strategy": planned.strategy_id,
        "recommendation": planned.recommendation_id,
        "planned": planned.pk,
    }


def plan_due(*, learner: Learner, now: datetime | None = None) -> PlanDue:
    """One query whatever the number of planned sessions."""
    today = learner_today(learner=learner, now=now)
    rows = planned_open(learner=learner).filter(planned_for__lt=today + timedelta(days=WEEK_DAYS))
    items = [_item(row, today) for row in rows.order_by("planned_for", "subject")]
    return PlanDue(
        today=today,
        due=tuple(i for i in items if i.planned_for <= today),
        this_week=tuple(i for i in items if i.planned_for > today),
    )


def plan_upcoming(*, learner: Learner, now: datetime | None = None) -> tuple[PlannedItem, ...]:
    """Every open planned session, oldest first: the plan as a whole, for the goals page."""
    today = learner_today(learner=learner, now=now)
    return tuple(
        _item(row, today) for row in planned_open(learner=learner).order_by("planned_for", "subject")
    )


def _item(row: PlannedSession, today: date) -> PlannedItem:
    return PlannedItem(
        id=row.pk,
        subject=row.subject,
        strategy_id=row.strategy_id,
        strategy_slug=row.strategy.slug,
        strategy_name=row.strategy.label,
        planned_for=row.planned_for,
        overdue=row.planned_for < today,
    )
