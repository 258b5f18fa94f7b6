"""Reads for learners and their study sessions. Ownership is checked here, in one place."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from learners.models import Learner, StudySession


def session_list(*, learner: Learner) -> QuerySet[StudySession]:
    return StudySession.objects.filter(learner=learner).select_related("strategy", "reflection")


def session_get(*, learner: Learner, session_id: int) -> StudySession:
    """The learner's own session; anyone else's answers 404, as if it did not exist."""
    return get_object_or_404(session_list(learner=learner), pk=session_id)


def previous_next_time_plan(*, learner: Learner) -> str:
    """The 'next time' plan of the learner's latest reflection, to check at the next session."""
    plan = (
        StudySession.objects.filter(learner=learner, reflection__isnull=False)
        .exclude(reflection__next_time="")
        .order_by("-started_at", "-id")
        .values_list("reflection__next_time", flat=True)
        .first()
    )
    return plan or ""
