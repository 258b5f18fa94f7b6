"""The daily reminder e-mail: what is due today and the sessions still without a score, sent at the
learner's own local time, at most once a local day, with a one-click unsubscribe link.

Celery beat runs `reminder_dispatch` every few minutes; it queues `reminder_send_task(learner_id,
day)` for each learner whose time has come today. `reminder_send` writes the day's ReminderSent row
before it sends: of two workers (or a retry) only the first finds no row, so a day never gets two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learners.models import Learner, PlannedSession, ReminderSent, StudySession
from learners.selectors.sessions import learner_zone

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "learners.reminder-unsubscribe"
# Unscored sessions are followed up once, in the first reminder after they were saved, and only
# from the last week: older ones are unlikely to be scored now.
FOLLOW_UP_DAYS = 7


@dataclass(frozen=True)
class ReminderDue:
    learner_id: int
    day: date  # the learner's local date


def reminder_settings_save(*, learner: Learner, enabled: bool, at: time) -> Learner:
    learner.reminder_enabled, learner.reminder_time = enabled, at
    learner.save(update_fields=["reminder_enabled", "reminder_time"])
    return learner


def reminder_dispatch(*, now: datetime | None = None) -> list[ReminderDue]:
    """Queue today's reminder for every learner whose local reminder time has passed today and
    who has not had it. Returns what was queued."""
    from learners.tasks import reminder_send_task  # tasks import services; import late

    due = reminders_due(now=now)
    for item in due:
        reminder_send_task.delay(item.learner_id, item.day.isoformat())
    return due


def reminders_due(*, now: datetime | None = None) -> list[ReminderDue]:
    """Two queries whatever the number of learners: those with reminders on, a confirmed address
    and something to remind of, and the ones already reminded on their local today."""
    now = now or timezone.now()
    candidates = []
    for learner in reminder_candidates(now=now):
        local = timezone.localtime(now, learner_zone(learner=learner))
        if local.time() >= learner.reminder_time:
            candidates.append(ReminderDue(learner_id=learner.pk, day=local.date()))
    days = {item.day for item in candidates}
    sent = set(
        ReminderSent.objects.filter(
            learner_id__in=[c.learner_id for c in candidates], day__in=days
        ).values_list("learner_id", "day")
    )
    return [c for c in candidates if (c.learner_id, c.day) not in sent]


def reminder_candidates(*, now: datetime) -> QuerySet[Learner]:
    """Learners with reminders on, a confirmed address and something to remind of, whatever
    their local time; found through the partial index of learners with reminders on."""
    # Only learners with something to say: an open planned session by the latest today on Earth
    # (UTC+14), or a session without a score from the last week; reminder_send checks exactly.
    latest_today = (now + timedelta(hours=14)).date()
    has_due = Exists(
        PlannedSession.objects.filter(
            learner=OuterRef("pk"), status=PlannedSession.Status.PLANNED, planned_for__lte=latest_today
        )
    )
    has_unscored = Exists(
        StudySession.objects.filter(
            learner=OuterRef("pk"), score__isnull=True, created_at__gte=now - timedelta(days=FOLLOW_UP_DAYS)
        )
    )
    return (
        Learner.objects.filter(reminder_enabled=True, email_verified_at__isnull=False, user__is_active=True)
        .exclude(user__email="")
        .filter(has_due | has_unscored)
        .only("pk", "timezone", "reminder_time")
    )


@dataclass(frozen=True)
class ReminderContent:
    due: list[PlannedSession]
    unscored: list[StudySession]

    def __bool__(self) -> bool:
        return bool(self.due or self.unscored)


def reminder_content(*, learner: Learner, day: date, since: datetime | None) -> ReminderContent:
    """Open planned sessions due on `day` or earlier, and sessions saved without a score since the
    previous reminder (within the last week)."""
    due = PlannedSession.objects.filter(
        learner=learner, status=PlannedSession.Status.PLANNED, planned_for__lte=day
    ).select_related("strategy")
    earliest = timezone.now() - timedelta(days=FOLLOW_UP_DAYS)
    unscored = StudySession.objects.filter(
        learner=learner, score__isnull=True, created_at__gte=max(earliest, since) if since else earliest
    ).order_by("started_at")
    return ReminderContent(due=list(due.order_by("planned_for", "subject")), unscored=list(unscored))


def reminder_send(*, learner_id: int, day: date) -> bool:
    """Send the learner's reminder for their local `day` unless it went already; True when sent.

    Nothing is sent (and the day stays free) when reminders were turned off meanwhile or there is
    nothing to say.
    """
    learner = Learner.objects.select_related("user").filter(pk=learner_id, reminder_enabled=True).first()
    if learner is None or not learner.user.email:
        return False
    previous = ReminderSent.objects.filter(learner=learner).order_by("-day").values_list("sent_at", flat=True)
    content = reminder_content(learner=learner, day=day, since=previous.first())
    if not content:
        return False
    try:
        with transaction.atomic():
            ReminderSent.objects.create(learner=learner, day=day)
    except IntegrityError:
        return False  # another worker, or an earlier try of this task, has it
    _reminder_mail(learner=learner, day=day, content=content)
    return True


def unsubscribe_token(*, learner: Learner) -> str:
    return signing.dumps(learner.pk, salt=UNSUBSCRIBE_SALT)


def reminder_unsubscribe(*, token: str) -> Learner:
    """Turn reminders off for the learner the signed token names; a tampered token changes nothing."""
    try:
        learner_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise ValidationError(
            _(
                "This unsubscribe link is not valid: it may have been cut short or changed. "
                "Nothing was changed."
            ),
            code="bad_signature",
        ) from exc
    learner = Learner.objects.filter(pk=learner_id).first()
    if learner is None:
        raise ValidationError(
            _("This unsubscribe link is for an account that no longer exists."), code="gone"
        )
    if learner.reminder_enabled:
        learner.reminder_enabled = False
        learner.save(update_fields=["reminder_enabled"])
    return learner


def _reminder_mail(*, learner: Learner, day: date, content: ReminderContent) -> None:
    base = settings.SITE_URL.rstrip("/")
    unsubscribe = base + reverse("reminder-unsubscribe", args=[unsubscribe_token(learner=learner)])
    context = {
        "user": learner.user,
        "day": day,
        "due": content.due,
        "unscored": [(s, base + reverse("session-edit", args=[s.pk])) for s in content.unscored],
        "dashboard": base + reverse("home"),
        "settings_link": base + reverse("account-settings"),
        "unsubscribe": unsubscribe,
    }
    language = learner.language if learner.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(learner_zone(learner=learner)):
        subject = render_to_string("emails/reminder_subject.txt", context).strip()
        body = render_to_string("emails/reminder.txt", context)
    message = EmailMessage(
        subject,
        body,
        None,
        [learner.user.email],
        # RFC 8058: mail apps show their own one-click unsubscribe button, which POSTs to the link.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.send()
    logger.info("Reminder sent to learner %s for %s", learner.pk, day)
