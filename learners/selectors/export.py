"""Rows for exports, read lazily in chunks so a large cohort never sits in memory at once.

Each function returns (header, rows). Cohort functions take a cohort already checked by
`learners.permissions` and select exactly its members' data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Case, F, Q, QuerySet, TextField, Value, When

from learners.models import (
    Cohort,
    CohortMembership,
    Learner,
    PlannedSession,
    Recommendation,
    Reflection,
    ReminderSent,
    SelfReport,
    StudySession,
    SubjectGoal,
)

CHUNK = 2000
Table = tuple[list[str], Iterable[tuple[Any, ...]]]

SESSION_COLUMNS = {
    "session_id": "pk",
    "started_at": "started_at",
    "subject": "subject",
    "task_kind": "task_kind",
    "strategy": "strategy__slug",
    "minutes": "minutes",
    "difficulty": "difficulty",
    "confidence": "confidence",
    "score": "score",
    "focus": "focus",
    "notes": "notes",
    "recommendation_id": "recommendation_id",
    "recommended_strategy": "recommendation__strategy__slug",
    "recommendation_status": "recommendation__status",
}
REFLECTION_COLUMNS = {
    "session_id": "session_id",
    "session_started_at": "session__started_at",
    "plan": "plan",
    "monitor": "monitor",
    "evaluate": "evaluate",
    "what_worked": "what_worked",
    "next_time": "next_time",
    "kept_previous_plan": "kept_previous_plan",
    "created_at": "created_at",
}
RECOMMENDATION_COLUMNS = {
    "recommendation_id": "pk",
    "created_at": "created_at",
    "subject": "subject",
    "task_kind": "task_kind",
    "strategy": "strategy__slug",
    "expected_score": "expected_score",
    "score_std": "score_std",
    "exploration": "exploration",
    "source": "source",
    "status": "status",
    "dismissed_reason": "dismissed_reason",
    "responded_at": "responded_at",
}
SELF_REPORT_COLUMNS = {
    "self_report_id": "pk",
    "created_at": "created_at",
    "scores": "scores",
    "answers": "answers",
}
# Decimals a CSV shows, by column, as people read the figures on the pages; the JSON export keeps
# every digit, for programs. Scores and their spreads are points out of 100: one decimal is finer
# than any self-test, and keeps close strategies apart. Self-report scores are means on 1 to 5,
# one decimal as the profile page shows them.
CSV_DECIMALS = {
    "expected_score": 1,
    "score_std": 1,
    "scores": 1,
}
# Any other figure with decimals: three, enough for a share or a probability (0.125).
CSV_DECIMALS_OTHER = 3
MEMBERSHIP_COLUMNS = {
    "cohort": "cohort__name",
    "educator": "cohort__owner__username",
    "joined_at": "joined_at",
    "share_reflections": "share_reflections",
}


def _table(
    queryset: QuerySet[Any], columns: dict[str, str], *, prefix: dict[str, str] | None = None
) -> Table:
    """Header and lazily fetched rows; `prefix` adds leading columns such as the learner's name."""
    prefix = prefix or {}
    header = [*prefix, *columns]
    fields = [*prefix.values(), *columns.values()]
    rows: Iterator[tuple[Any, ...]] = queryset.values_list(*fields).iterator(chunk_size=CHUNK)
    return header, rows


LEARNER = {"learner": "learner__user__username"}


# Session notes are free text like a reflection, so educators get them only from members who share
# their reflections with that cohort; everyone else's notes column is empty.
SHARED_SESSION_COLUMNS = {**SESSION_COLUMNS, "notes": "shared_notes"}


def _notes_if(condition: Q) -> Case:
    return Case(When(condition, then=F("notes")), default=Value(""), output_field=TextField())


def cohort_sharing_learners(*, cohort: Cohort) -> QuerySet[CohortMembership, Any]:
    """Ids of the members who share their notes and reflections with this cohort (a subquery):
    every cohort export (CSV, xAPI) shows free text of these learners only."""
    return CohortMembership.objects.filter(cohort=cohort, share_reflections=True).values("learner_id")


def cohort_sessions(*, cohort: Cohort) -> Table:
    sessions = (
        StudySession.objects.filter(learner__memberships__cohort=cohort)
        .annotate(shared_notes=_notes_if(Q(learner_id__in=cohort_sharing_learners(cohort=cohort))))
        .order_by("learner__user__username", "started_at", "pk")
    )
    return _table(sessions, SHARED_SESSION_COLUMNS, prefix=LEARNER)


def cohort_reflections(*, cohort: Cohort) -> Table:
    """Reflections of the members who share them with this cohort; nobody else's."""
    reflections = Reflection.objects.filter(
        session__learner__memberships__cohort=cohort,
        session__learner__memberships__share_reflections=True,
    ).order_by("session__learner__user__username", "session__started_at", "pk")
    return _table(reflections, REFLECTION_COLUMNS, prefix={"learner": "session__learner__user__username"})


def cohort_recommendations(*, cohort: Cohort) -> Table:
    recommendations = Recommendation.objects.filter(learner__memberships__cohort=cohort).order_by(
        "learner__user__username", "created_at", "pk"
    )
    return _table(recommendations, RECOMMENDATION_COLUMNS, prefix=LEARNER)


def cohorts_sessions(*, cohort_ids: list[int]) -> Table:
    """Sessions of the members of several cohorts, a row per cohort membership (for the admin)."""
    # The notes condition reuses the filter's membership join: each row follows its own cohort's choice.
    sessions = (
        StudySession.objects.filter(learner__memberships__cohort_id__in=cohort_ids)
        .annotate(shared_notes=_notes_if(Q(learner__memberships__share_reflections=True)))
        .order_by("learner__memberships__cohort__name", "learner__user__username", "started_at", "pk")
    )
    return _table(
        sessions, SHARED_SESSION_COLUMNS, prefix={"cohort": "learner__memberships__cohort__name", **LEARNER}
    )


_OWN_REFLECTION = ["plan", "monitor", "evaluate", "what_worked", "next_time", "kept_previous_plan"]


def learner_sessions(*, learner: Learner) -> Table:
    """The learner's own sessions with their reflection on the same row."""
    columns = {**SESSION_COLUMNS, **{f"reflection_{name}": f"reflection__{name}" for name in _OWN_REFLECTION}}
    sessions = StudySession.objects.filter(learner=learner).order_by("started_at", "pk")
    return _table(sessions, columns)


def learner_recommendations(*, learner: Learner) -> Table:
    recommendations = Recommendation.objects.filter(learner=learner).order_by("created_at", "pk")
    return _table(recommendations, RECOMMENDATION_COLUMNS)


def learner_self_reports(*, learner: Learner) -> Table:
    reports = SelfReport.objects.filter(learner=learner).order_by("created_at", "pk")
    return _table(reports, SELF_REPORT_COLUMNS)


def learner_memberships(*, learner: Learner) -> Table:
    memberships = CohortMembership.objects.filter(learner=learner).order_by("joined_at", "pk")
    return _table(memberships, MEMBERSHIP_COLUMNS)


GOAL_COLUMNS = {
    "subject": "subject",
    "weekly_minutes": "weekly_minutes",
    "exam_date": "exam_date",
    "created_at": "created_at",
}


def learner_goals(*, learner: Learner) -> Table:
    return _table(SubjectGoal.objects.filter(learner=learner).order_by("subject", "pk"), GOAL_COLUMNS)


PLANNED_COLUMNS = {
    "planned_id": "pk",
    "subject": "subject",
    "strategy": "strategy__slug",
    "planned_for": "planned_for",
    "status": "status",
    "session_id": "session_id",
    "recommendation_id": "recommendation_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
REMINDER_COLUMNS = {"day": "day", "sent_at": "sent_at"}


def learner_planned_sessions(*, learner: Learner) -> Table:
    planned = PlannedSession.objects.filter(learner=learner).order_by("planned_for", "pk")
    return _table(planned, PLANNED_COLUMNS)


def learner_reminders(*, learner: Learner) -> Table:
    """The days a reminder was sent (the settings themselves are in the account's part)."""
    return _table(ReminderSent.objects.filter(learner=learner).order_by("day"), REMINDER_COLUMNS)


LEARNER_TABLES = {
    "sessions": learner_sessions,
    "recommendations": learner_recommendations,
    "self_reports": learner_self_reports,
    "cohorts": learner_memberships,
    "goals": learner_goals,
    "planned_sessions": learner_planned_sessions,
    "reminders": learner_reminders,
}
COHORT_TABLES = {
    "sessions": cohort_sessions,
    "reflections": cohort_reflections,
    "recommendations": cohort_recommendations,
}
