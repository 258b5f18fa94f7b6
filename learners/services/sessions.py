"""Writes for learners and their study sessions. Every write is atomic and validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone as dj_timezone

from coach.models import Strategy
from learners.models import (
    Learner,
    PlannedSession,
    Recommendation,
    Reflection,
    StudySession,
    validate_timezone,
)
from learners.services.email_address import email_validate
from learners.services.plan import plan_fulfil
from learners.services.recommendations import recommendation_request
from learners.services.xapi import xapi_request

# A recommendation shown this long after a session's start time still counts as shown before it:
# start times are typed to the minute, often rounded, after reading the card.
FOLLOW_SLACK = timedelta(minutes=15)


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
    """The answers to the reflection prompts; `what_worked`, no longer asked, is left as it is."""

    plan: str = ""
    monitor: str = ""
    evaluate: str = ""
    next_time: str = ""


@dataclass(frozen=True)
class SessionSaved:
    session: StudySession
    # False when the broker could not be reached: the session is saved, the refresh follows later.
    refresh_queued: bool | None
    # True when the form had been submitted before: nothing new was saved, `session` is that one.
    already_saved: bool = False


def learner_signup(*, username: str, password: str, email: str = "", timezone: str = "UTC") -> Learner:
    """A new user and their learner profile, together or not at all; the e-mail address is
    confirmed later through its link (learners.services.email_address)."""
    if email:
        email = email_validate(email=email)
    validate_timezone(timezone)
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password, email=email)
        return Learner.objects.create(user=user, timezone=timezone)


def learner_ensure(*, user: User) -> Learner:
    """The user's learner profile; users made with createsuperuser or the admin get one on first use."""
    try:
        return user.learner  # already loaded by the middleware for the time zone and language
    except Learner.DoesNotExist:
        learner, _ = Learner.objects.get_or_create(user=user)
        return learner


def session_create(
    *,
    learner: Learner,
    data: SessionInput,
    reflection: ReflectionInput | None = None,
    submission_key: UUID | None = None,
    kept_previous_plan: bool | None = None,
    planned: PlannedSession | None = None,
) -> SessionSaved:
    """Save a session; a second call with the same `submission_key` returns the first one's session."""
    with transaction.atomic():
        saved = session_insert(
            learner=learner,
            data=data,
            reflection=reflection,
            submission_key=submission_key,
            kept_previous_plan=kept_previous_plan,
            planned=planned,
        )
    if saved.already_saved:
        return saved
    return SessionSaved(session=saved.session, refresh_queued=recommendation_request(learner_id=learner.pk))


def session_insert(
    *,
    learner: Learner,
    data: SessionInput,
    reflection: ReflectionInput | None = None,
    submission_key: UUID | None = None,
    kept_previous_plan: bool | None = None,
    planned: PlannedSession | None = None,
) -> SessionSaved:
    """`session_create` within the caller's transaction, without asking for a refresh.

    `kept_previous_plan`, the learner's answer on the last 'next time' plan, is kept on the new
    session's reflection: it is about this session. `planned`, the planned session it was started
    from, is the one it fulfils (else the earliest one due of its subject).
    """
    earlier = session_submitted(learner=learner, submission_key=submission_key)
    if earlier is not None:
        return SessionSaved(session=earlier, refresh_queued=None, already_saved=True)
    session = StudySession(learner=learner, submission_key=submission_key, **vars(data))
    # The key was looked up just above; the database's unique index settles a race. The field
    # validators check every range the check constraints hold; those are the database's, as
    # evaluating each in Python costs a query per constraint on every save.
    session.full_clean(exclude=["submission_key"], validate_constraints=False)
    try:
        with transaction.atomic():  # a savepoint: the outer transaction survives a lost race
            session.save()
    except IntegrityError:
        # The same form submitted twice at once: the other request saved it first.
        earlier = session_submitted(learner=learner, submission_key=submission_key)
        if earlier is None:
            raise
        return SessionSaved(session=earlier, refresh_queued=None, already_saved=True)
    _reflection_save(session=session, data=reflection)
    _recommendation_follow(session=session)
    if kept_previous_plan is not None:
        Reflection.objects.update_or_create(
            session=session, defaults={"kept_previous_plan": kept_previous_plan}
        )
    plan_fulfil(session=session, planned=planned)
    xapi_request(learner_id=learner.pk)
    return SessionSaved(session=session, refresh_queued=None)


def session_submitted(*, learner: Learner, submission_key: UUID | None) -> StudySession | None:
    """The session saved by the form with this one-time key, if it was saved."""
    if submission_key is None:
        return None
    return StudySession.objects.filter(learner=learner, submission_key=submission_key).first()


def session_update(
    *, session: StudySession, data: SessionInput, reflection: ReflectionInput | None = None
) -> SessionSaved:
    with transaction.atomic():
        for field, value in vars(data).items():
            setattr(session, field, value)
        session.full_clean(validate_constraints=False)  # as in session_insert
        session.save()
        _reflection_save(session=session, data=reflection)
        _recommendation_outcome_update(session=session)
        xapi_request(learner_id=session.learner_id)
    return SessionSaved(session=session, refresh_queued=recommendation_request(learner_id=session.learner_id))


def session_delete(*, session: StudySession) -> None:
    learner_id = session.learner_id
    with transaction.atomic():
        session.delete()
        xapi_request(learner_id=learner_id)  # its statements are voided
    recommendation_request(learner_id=learner_id)


def session_reflect(*, session: StudySession, reflection: ReflectionInput) -> Reflection | None:
    """Set the answers of a session's reflection on their own; all empty removes it. The
    recommendation does not read reflections: nothing is refreshed, but a learning record store
    gets the changed statements."""
    with transaction.atomic():
        _reflection_save(session=session, data=reflection)
        xapi_request(learner_id=session.learner_id)
    return Reflection.objects.filter(session=session).first()


def _outcome(strategy_id: int) -> Case:
    """What the learner did after a recommendation, from the strategy of the session that followed;
    a dismissal stays what it was."""
    return Case(
        When(status=Recommendation.Status.DISMISSED, then=F("status")),
        When(strategy_id=strategy_id, then=Value(Recommendation.Status.FOLLOWED)),
        default=Value(Recommendation.Status.OTHER),
    )


def _recommendation_follow(*, session: StudySession) -> None:
    """Link the session to the recommendation it followed: the learner's latest one shown by the
    session's start (FOLLOW_SLACK), unless another session followed that one already. One query.

    A recommendation replaced before any session started (by a refresh or a dismissal) keeps no
    session: the learner never studied under it. Imported sessions, written in bulk, link none.
    """
    in_force = (
        Recommendation.objects.filter(
            learner_id=session.learner_id, created_at__lte=session.started_at + FOLLOW_SLACK
        )
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    Recommendation.objects.filter(pk=Subquery(in_force), next_session__isnull=True).update(
        next_session=session,
        status=_outcome(session.strategy_id),
        responded_at=Coalesce(F("responded_at"), Value(dj_timezone.now())),
    )


def _recommendation_outcome_update(*, session: StudySession) -> None:
    """A session's strategy changed: so did what the learner did after the recommendation it followed."""
    Recommendation.objects.filter(next_session=session).update(status=_outcome(session.strategy_id))


def _reflection_save(*, session: StudySession, data: ReflectionInput | None) -> None:
    if data is None:
        return
    reflection = Reflection.objects.filter(session=session).first() or Reflection(session=session)
    answers = {field: value.strip() for field, value in vars(data).items()}
    for field, value in answers.items():
        setattr(reflection, field, value)
    # A reflection with nothing left in it goes, unless it still holds what no form edits now.
    holds_more = bool(reflection.what_worked) or reflection.kept_previous_plan is not None
    if not any(answers.values()) and not holds_more:
        if reflection.pk is not None:
            reflection.delete()
        return
    # Only what this write sets is checked: an older row may hold a longer `what_worked`.
    reflection.full_clean(exclude=["what_worked"])
    reflection.save()


def learner_language_set(*, learner: Learner, language: str) -> Learner:
    """The language the interface speaks to this learner, on every device."""
    learner.language = language
    learner.full_clean(exclude=["user"])
    learner.save(update_fields=["language"])
    # Nothing to recompute: reasons are stored as facts and shown in the language of the page.
    return learner
