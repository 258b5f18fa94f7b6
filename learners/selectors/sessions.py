"""Reads for learners and their study sessions. Ownership is checked here, in one place."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, F, Max, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from coach.models import Strategy
from learners.models import Learner, Reflection, SelfReport, StudySession

# How the session list can be sorted: key -> ORDER BY; unscored sessions last when sorting by score.
SESSION_SORTS = {
    "newest": (F("started_at").desc(), F("id").desc()),
    "oldest": (F("started_at").asc(), F("id").asc()),
    "score": (F("score").desc(nulls_last=True), F("started_at").desc()),
    "minutes": (F("minutes").desc(), F("started_at").desc()),
}
SUBJECT_SUGGESTIONS_MAX = 50


@dataclass(frozen=True)
class SessionFilters:
    subject: str = ""
    strategy: Strategy | None = None
    date_from: date | None = None  # the learner's own calendar days, both included
    date_to: date | None = None
    search: str = ""
    sort: str = "newest"


def session_list(*, learner: Learner) -> QuerySet[StudySession]:
    return StudySession.objects.filter(learner=learner).select_related("strategy", "reflection")


def session_search(*, learner: Learner, filters: SessionFilters) -> QuerySet[StudySession]:
    """The learner's sessions narrowed and sorted as the session list's filter form asks."""
    sessions = session_list(learner=learner)
    if filters.subject:
        sessions = sessions.filter(subject__iexact=filters.subject.strip())
    if filters.strategy is not None:
        sessions = sessions.filter(strategy=filters.strategy)
    zone = _zone(learner)
    if filters.date_from is not None:
        sessions = sessions.filter(started_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone)
        sessions = sessions.filter(started_at__lt=end)
    if filters.search.strip():
        text = filters.search.strip()
        sessions = sessions.filter(Q(subject__icontains=text) | Q(notes__icontains=text))
    return sessions.order_by(*SESSION_SORTS.get(filters.sort, SESSION_SORTS["newest"]))


def learner_subjects(*, learner: Learner) -> list[str]:
    """The learner's subjects, most recently studied first, for the forms' suggestions."""
    rows = (
        StudySession.objects.filter(learner=learner)
        .values("subject")
        .annotate(latest=Max("started_at"), n=Count("id"))
        .order_by("-latest")[:SUBJECT_SUGGESTIONS_MAX]
    )
    return [row["subject"] for row in rows]


def learner_zone(*, learner: Learner) -> zoneinfo.ZoneInfo:
    """The learner's time zone; UTC for a name zoneinfo does not know."""
    return _zone(learner)


def learner_today(*, learner: Learner, now: datetime | None = None) -> date:
    """Today's date where the learner is."""
    return timezone.localtime(now or timezone.now(), _zone(learner)).date()


def _zone(learner: Learner) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(learner.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def session_get(*, learner: Learner, session_id: int) -> StudySession:
    """The learner's own session; anyone else's answers 404, as if it did not exist."""
    return get_object_or_404(session_list(learner=learner), pk=session_id)


def previous_next_time_plan(*, learner: Learner, subject: str = "") -> str:
    """The 'next time' plan of the learner's latest reflection, to check at the next session: of
    that subject when one is given, and if it has none, of any subject."""
    plans = StudySession.objects.filter(learner=learner, reflection__isnull=False).exclude(
        reflection__next_time=""
    )
    # One query: the subject's own plans sort first.
    same = Case(When(subject__iexact=subject.strip(), then=1), default=0) if subject.strip() else Value(0)
    plan = (
        plans.annotate(same_subject=same)
        .order_by("-same_subject", "-started_at", "-id")
        .values_list("reflection__next_time", flat=True)
        .first()
    )
    return plan or ""


def reflection_list(*, learner: Learner) -> QuerySet[Reflection]:
    """The learner's reflections, those of the latest sessions first."""
    return Reflection.objects.filter(session__learner=learner).order_by("-session__started_at", "-pk")


def selfreport_list(*, learner: Learner) -> QuerySet[SelfReport]:
    """The learner's self-reports, newest first."""
    return SelfReport.objects.filter(learner=learner).order_by("-created_at", "-id")
