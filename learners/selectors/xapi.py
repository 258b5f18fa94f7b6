"""Reads for xAPI: a reader's statements, lazily, with exactly the reader's permissions.

Three readers: the learner (everything of theirs), a cohort's educators (every member's sessions,
but session notes and reflections only of members who share them with that cohort, as the cohort
exports), and the learning record store (no free text at all: its readers are whoever runs it,
whom the learner never chose).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from django.conf import settings
from django.db.models import Q, QuerySet

from learners.models import (
    Cohort,
    Learner,
    Reflection,
    StudySession,
    XapiStatementSent,
    XapiSync,
)
from learners.selectors.export import cohort_sharing_learners
from learners.xapi.statements import (
    REFLECTION_FIELDS,
    ReflectionRow,
    SessionRow,
    Statement,
    session_statements,
)

CHUNK = 2000


class Reader(Enum):
    OWNER = "owner"  # all free text
    SHARED = "shared"  # free text: notes and reflections shared with the reader
    NO_TEXT = "no-text"  # no free text; whether the learner reflected, and on their last plan


def base_url() -> str:
    """The instance's address in actors and IRIs (`XAPI_BASE_URL`, else `SITE_URL`), without a slash."""
    return str(settings.XAPI_BASE_URL or settings.SITE_URL).rstrip("/")


def _sessions() -> QuerySet[StudySession]:
    return StudySession.objects.select_related("strategy", "recommendation__strategy", "reflection")


def _reflection(session: StudySession, reader: Reader) -> ReflectionRow | None:
    try:
        reflection: Reflection = session.reflection
    except Reflection.DoesNotExist:
        return None
    answers = {name: getattr(reflection, name) for name in REFLECTION_FIELDS}
    return ReflectionRow(
        created_at=reflection.created_at,
        revision=reflection.updated_at,
        answers=None if reader is Reader.NO_TEXT else answers,
        kept_previous_plan=reflection.kept_previous_plan,
    )


def _row(session: StudySession, reader: Reader) -> SessionRow:
    free_text = reader is not Reader.NO_TEXT
    recommendation = session.recommendation
    return SessionRow(
        session_id=session.pk,
        revision=session.updated_at,
        learner_id=session.learner_id,
        subject=session.subject,
        task_kind=session.task_kind,
        strategy=session.strategy.slug,
        recommended_strategy=recommendation.strategy.slug if recommendation is not None else None,
        started_at=session.started_at,
        minutes=session.minutes,
        difficulty=session.difficulty,
        confidence=session.confidence,
        score=session.score,
        focus=session.focus,
        notes=session.notes if free_text else None,
        reflection=_reflection(session, reader),
    )


def _statements(sessions: QuerySet[StudySession], reader: Reader) -> Iterator[Statement]:
    base = base_url()
    for session in sessions.iterator(chunk_size=CHUNK):
        yield from session_statements(_row(session, reader), base_url=base)


def learner_statements(*, learner: Learner) -> Iterator[Statement]:
    """The learner's own statements, with their notes and reflections, oldest first."""
    return _statements(_sessions().filter(learner=learner).order_by("started_at", "pk"), Reader.OWNER)


def cohort_statements(*, cohort: Cohort) -> Iterator[Statement]:
    """Statements of a cohort's members, as its export shows them: notes and reflections only of the
    members who share them with this cohort. The cohort is one `learners.permissions` let through."""
    sessions = (
        _sessions()
        .filter(learner__memberships__cohort=cohort)
        .annotate(shared=Q(learner_id__in=cohort_sharing_learners(cohort=cohort)))
        .order_by("learner__user__username", "started_at", "pk")
    )
    base = base_url()
    for session in sessions.iterator(chunk_size=CHUNK):
        row = _row(session, Reader.SHARED)
        if not session.shared:
            row = replace(row, notes=None, reflection=None)
        yield from session_statements(row, base_url=base)


def lrs_statements(*, learner_id: int) -> list[Statement]:
    """What the learning record store gets of a learner: no free text."""
    sessions = _sessions().filter(learner_id=learner_id).order_by("started_at", "pk")
    return list(_statements(sessions, Reader.NO_TEXT))


def lrs_configured() -> bool:
    return bool(settings.XAPI_LRS_URL)


@dataclass(frozen=True)
class XapiSection:
    """The settings page's xAPI section."""

    lrs_on: bool
    sent: int
    synced_at: datetime | None
    pending: bool


def xapi_section(*, learner: Learner) -> XapiSection:
    if not lrs_configured():
        return XapiSection(lrs_on=False, sent=0, synced_at=None, pending=False)
    sync = XapiSync.objects.filter(learner=learner).first()
    sent = XapiStatementSent.objects.filter(learner=learner, voided=False).count()
    pending = sync is not None and (sync.synced_at is None or sync.synced_at < sync.requested_at)
    return XapiSection(lrs_on=True, sent=sent, synced_at=sync.synced_at if sync else None, pending=pending)
