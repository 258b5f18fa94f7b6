"""Writes for the study timer: its state lives on the server, so a reload or a closed tab loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from coach.models import Strategy
from learners.models import MINUTES_MAX, Learner, Recommendation, Reflection, StudyTimer
from learners.selectors.study import timer_elapsed_seconds
from learners.services.sessions import ReflectionInput, SessionInput, SessionSaved, session_create


@dataclass(frozen=True)
class TimerStart:
    subject: str
    task_kind: str
    strategy: Strategy
    confidence: int
    pomodoro: bool = False
    kept_previous_plan: bool | None = None
    recommendation: Recommendation | None = None


@dataclass(frozen=True)
class TimerFinish:
    minutes: int
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
    """Minutes studied so far, rounded, within what a session may record."""
    return min(MINUTES_MAX, max(1, round(timer_elapsed_seconds(timer=timer, now=now) / 60)))


def timer_finish(*, timer: StudyTimer, data: TimerFinish, reflection: ReflectionInput) -> SessionSaved:
    """Turn the timer into a logged session with its reflection, linked to the recommendation it followed."""
    with transaction.atomic():
        saved = session_create(
            learner=timer.learner,
            data=SessionInput(
                subject=timer.subject,
                task_kind=timer.task_kind,
                strategy=timer.strategy,
                started_at=timer.started_at,
                minutes=data.minutes,
                difficulty=data.difficulty,
                confidence=timer.confidence,
                score=data.score,
                focus=data.focus,
                notes=data.notes,
            ),
            reflection=reflection,
        )
        session = saved.session
        if timer.recommendation_id is not None:
            session.recommendation_id = timer.recommendation_id
            session.save(update_fields=["recommendation"])
        if timer.kept_previous_plan is not None:
            Reflection.objects.update_or_create(
                session=session, defaults={"kept_previous_plan": timer.kept_previous_plan}
            )
        timer.delete()
    return saved
