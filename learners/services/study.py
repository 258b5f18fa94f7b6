"""Writes for the study timer: its state lives on the server, so a reload or a closed tab loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from coach.models import Strategy
from learners.models import MINUTES_MAX, Learner, PlannedSession, Recommendation, StudyTimer
from learners.selectors.study import timer_elapsed_seconds
from learners.services.recommendations import recommendation_request
from learners.services.sessions import (
    ReflectionInput,
    SessionInput,
    SessionSaved,
    session_insert,
    session_submitted,
)


@dataclass(frozen=True)
class TimerStart:
    subject: str
    task_kind: str
    strategy: Strategy
    confidence: int
    pomodoro: bool = False
    kept_previous_plan: bool | None = None
    recommendation: Recommendation | None = None
    planned: PlannedSession | None = None


@dataclass(frozen=True)
class TimerFinish:
    minutes: int | None  # None: the minutes the timer counted
    difficulty: int
    score: int | None
    focus: int
    notes: str = ""


def timer_start(*, learner: Learner, data: TimerStart, now: datetime | None = None) -> StudyTimer:
    """Start (or restart) the learner's timer; a learner has at most one running."""
    with transaction.atomic():
        StudyTimer.objects.filter(learner=learner).delete()
        timer = StudyTimer(learner=learner, started_at=now or timezone.now(), **vars(data))
        timer.full_clean()
        timer.save()
    return timer


def timer_pause(*, timer: StudyTimer, now: datetime | None = None) -> StudyTimer:
    if timer.paused_at is None:
        timer.paused_at = now or timezone.now()
        timer.save(update_fields=["paused_at", "updated_at"])
    return timer


def timer_resume(*, timer: StudyTimer, now: datetime | None = None) -> StudyTimer:
    if timer.paused_at is not None:
        paused = (now or timezone.now()) - timer.paused_at
        timer.paused_seconds += max(0, int(paused.total_seconds()))
        timer.paused_at = None
        timer.save(update_fields=["paused_at", "paused_seconds", "updated_at"])
    return timer


def timer_discard(*, timer: StudyTimer) -> None:
    timer.delete()


def timer_minutes(*, timer: StudyTimer, now: datetime | None = None) -> int:
    """Minutes studied so far, within what a session may record; halves round up, as the page's clock does."""
    return min(MINUTES_MAX, max(1, (timer_elapsed_seconds(timer=timer, now=now) + 30) // 60))


def timer_finish(
    *,
    learner: Learner,
    timer: StudyTimer | None,
    data: TimerFinish,
    reflection: ReflectionInput,
    submission_key: UUID | None = None,
    now: datetime | None = None,
) -> SessionSaved | None:
    """Turn the timer into a logged session with its reflection, linked to the recommendation it followed.

    A finish form submitted again returns the session it saved the first time; None when there is
    no timer to finish (it was finished or discarded meanwhile).
    """
    with transaction.atomic():
        earlier = session_submitted(learner=learner, submission_key=submission_key)
        if earlier is not None:
            return SessionSaved(session=earlier, refresh_queued=None, already_saved=True)
        # Claimed by deleting it: of two finishes at once, only one finds the row to delete.
        if timer is None or not StudyTimer.objects.filter(pk=timer.pk).delete()[0]:
            earlier = session_submitted(learner=learner, submission_key=submission_key)
            return SessionSaved(session=earlier, refresh_queued=None, already_saved=True) if earlier else None
        saved = session_insert(
            learner=learner,
            data=SessionInput(
                subject=timer.subject,
                task_kind=timer.task_kind,
                strategy=timer.strategy,
                started_at=timer.started_at,
                minutes=timer_minutes(timer=timer, now=now) if data.minutes is None else data.minutes,
                difficulty=data.difficulty,
                confidence=timer.confidence,
                score=data.score,
                focus=data.focus,
                notes=data.notes,
            ),
            reflection=reflection,
            submission_key=submission_key,
            kept_previous_plan=timer.kept_previous_plan,
            planned=timer.planned,
        )
        if saved.already_saved:  # the same form saved meanwhile: leave this timer as it was
            transaction.set_rollback(True)
            return saved
        session = saved.session
        if timer.recommendation_id is not None:
            session.recommendation_id = timer.recommendation_id
            session.save(update_fields=["recommendation"])
    # Asked once the session is committed, so a broker that is down is reported to the learner.
    return SessionSaved(session=session, refresh_queued=recommendation_request(learner_id=learner.pk))
