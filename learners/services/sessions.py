"""Writes for learners and their study sessions. Every write is atomic and validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from coach.models import Strategy
from learners.models import Learner, Reflection, StudySession
from learners.services.recommendations import recommendation_request


@dataclass(frozen=True)
class SessionInput:
    subject: str
    task_kind: str
    strategy: Strategy
    started_at: datetime
    minutes: int
    difficulty: int
    confidence: int
    score: int | None
    focus: int
    notes: str = ""


@dataclass(frozen=True)
class ReflectionInput:
    what_worked: str = ""
    next_time: str = ""
    plan: str = ""
    monitor: str = ""
    evaluate: str = ""

    def is_empty(self) -> bool:
        return not any(v.strip() for v in vars(self).values())


@dataclass(frozen=True)
class SessionSaved:
    session: StudySession
    # False when the broker could not be reached: the session is saved, the refresh follows later.
    refresh_queued: bool | None


def learner_signup(*, username: str, password: str) -> Learner:
    """A new user and their learner profile, together or not at all."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        return Learner.objects.create(user=user)


def learner_ensure(*, user: User) -> Learner:
    """The user's learner profile; users made with createsuperuser or the admin get one on first use."""
    learner, _ = Learner.objects.get_or_create(user=user)
    return learner


def session_create(
    *, learner: Learner, data: SessionInput, reflection: ReflectionInput | None = None
) -> SessionSaved:
    with transaction.atomic():
        session = StudySession(learner=learner, **vars(data))
        session.full_clean()
        session.save()
        _reflection_save(session=session, data=reflection)
    return SessionSaved(session=session, refresh_queued=recommendation_request(learner_id=learner.pk))


def session_update(
    *, session: StudySession, data: SessionInput, reflection: ReflectionInput | None = None
) -> SessionSaved:
    with transaction.atomic():
        for field, value in vars(data).items():
            setattr(session, field, value)
        session.full_clean()
        session.save()
        _reflection_save(session=session, data=reflection)
    return SessionSaved(session=session, refresh_queued=recommendation_request(learner_id=session.learner_id))


def session_delete(*, session: StudySession) -> None:
    learner_id = session.learner_id
    with transaction.atomic():
        session.delete()
    recommendation_request(learner_id=learner_id)


def _reflection_save(*, session: StudySession, data: ReflectionInput | None) -> None:
    if data is None:
        return
    existing = Reflection.objects.filter(session=session).first()
    if data.is_empty():
        if existing is not None:
            existing.delete()
        return
    reflection = existing or Reflection(session=session)
    for field, value in vars(data).items():
        setattr(reflection, field, value.strip())
    reflection.full_clean()
    reflection.save()


def learner_language_set(*, learner: Learner, language: str) -> Learner:
    """The language the interface speaks to this learner, on every device."""
    learner.language = language
    learner.full_clean(exclude=["user"])
    learner.save(update_fields=["language"])
    # Nothing to recompute: reasons are stored as facts and shown in the language of the page.
    return learner
