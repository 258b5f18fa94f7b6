"""Writes on a learner's study plan: sessions planned from a spacing schedule, moved, skipped, done.

Planned dates are the learner's local dates; "today" is always today in their time zone.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from coach.engine.spacing import spacing_schedule
from coach.models import Strategy
from learners.models import Learner, PlannedSession, Recommendation, StudySession, SubjectGoal
from learners.selectors.sessions import learner_today, learner_zone

# The strategies a schedule serves: both are about coming back to the material after a gap.
PLAN_STRATEGY_SLUGS = ("distributed-practice", "practice-testing")


def plan_accept(
    *,
    learner: Learner,
    subject: str,
    strategy: Strategy,
    recommendation: Recommendation | None = None,
    today: date | None = None,
) -> list[PlannedSession]:
    """Plan the next sessions of a subject with a spacing schedule bounded by its exam.

    The subject's open plan, if any, is replaced; done and skipped sessions stay as a record.
    """
    subject = subject.strip()
    if strategy.slug not in PLAN_STRATEGY_SLUGS:
        raise ValidationError(
            {"strategy": _("A study plan is for spaced practice or practice testing.")}, code="strategy"
        )
    if not subject:
        raise ValidationError({"subject": _("Enter the subject to plan.")}, code="blank")
    if recommendation is not None and recommendation.learner_id != learner.pk:
        raise ValueError("the recommendation is another learner's")
    today = today or learner_today(learner=learner)
    exam = (
        SubjectGoal.objects.filter(learner=learner, subject__iexact=subject)
        .values_list("exam_date", flat=True)
        .first()
    )
    latest = (
        StudySession.objects.filter(learner=learner, subject__iexact=subject)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    last_studied = timezone.localtime(latest, learner_zone(learner=learner)).date() if latest else None
    dates = spacing_schedule(
        today=today, last_studied=last_studied, exam=exam if exam and exam > today else None
    )
    if not dates:
        raise ValidationError(
            {"subject": _("The exam is too close to plan: study today, and good luck.")}, code="too_late"
        )
    with transaction.atomic():
        _open(learner, subject).delete()
        planned = [
            PlannedSession(
                learner=learner,
                subject=subject,
                strategy=strategy,
                planned_for=day,
                recommendation=recommendation,
            )
            for day in dates
        ]
        for row in planned:
            row.full_clean(validate_constraints=False)
        return PlannedSession.objects.bulk_create(planned)


def plan_move(*, planned: PlannedSession, planned_for: date, today: date | None = None) -> PlannedSession:
    """Move an open planned session to another day, from the learner's today on."""
    today = today or learner_today(learner=planned.learner)
    if planned.status != PlannedSession.Status.PLANNED:
        raise ValidationError(_("This session is no longer planned, so it cannot be moved."), code="closed")
    if planned_for < today:
        raise ValidationError(
            {
                "planned_for": _("%(date)s has passed. Choose a day from today on.")
                % {"date": date_format(planned_for, "DATE_FORMAT")}
            },
            code="past",
        )
    planned.planned_for = planned_for
    try:
        with transaction.atomic():
            planned.save(update_fields=["planned_for", "updated_at"])
    except IntegrityError:
        raise ValidationError(
            {
                "planned_for": _("A session of %(subject)s is already planned on %(date)s.")
                % {"subject": planned.subject, "date": date_format(planned_for, "DATE_FORMAT")}
            },
            code="taken",
        ) from None
    return planned


def plan_skip(*, planned: PlannedSession) -> bool:
    """Skip an open planned session; False when it was done or skipped already."""
    updated = PlannedSession.objects.filter(pk=planned.pk, status=PlannedSession.Status.PLANNED).update(
        status=PlannedSession.Status.SKIPPED, updated_at=timezone.now()
    )
    return bool(updated)


def plan_fulfil(*, session: StudySession, planned: PlannedSession | None = None) -> PlannedSession | None:
    """Mark done the planned session a newly saved session fulfils: the one it was started from,
    if still open and of its subject (so a session studied early counts); else the earliest open
    one of its subject planned for its day or before (an overdue one is caught up first). Within
    the caller's transaction."""
    candidates = _open(session.learner, session.subject).select_for_update()
    chosen = candidates.filter(pk=planned.pk).first() if planned is not None else None
    if chosen is None:
        day = timezone.localtime(session.started_at, learner_zone(learner=session.learner)).date()
        chosen = candidates.filter(planned_for__lte=day).order_by("planned_for").first()
    planned = chosen
    if planned is None:
        return None
    planned.status, planned.session = PlannedSession.Status.DONE, session
    planned.save(update_fields=["status", "session", "updated_at"])
    return planned


def plan_rename_subject(*, learner: Learner, old: str, new: str) -> None:
    """Planned sessions follow a renamed subject; on a merge, a day both had planned keeps one."""
    taken = _open(learner, new).exclude(subject__iexact=old).values_list("planned_for", flat=True)
    _open(learner, old).filter(planned_for__in=list(taken)).delete()
    PlannedSession.objects.filter(learner=learner, subject__iexact=old.strip()).update(subject=new.strip())


def _open(learner: Learner, subject: str) -> QuerySet[PlannedSession]:
    return PlannedSession.objects.filter(
        learner=learner, subject__iexact=subject.strip(), status=PlannedSession.Status.PLANNED
    )
