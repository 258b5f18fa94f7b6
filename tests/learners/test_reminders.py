"""Daily reminders: off by default, sent at the learner's local time, never twice for one local
day, with what is due and a follow-up for unscored sessions, and a one-click signed unsubscribe."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coach.models import Strategy
from learners.models import Learner, PlannedSession, ReminderSent
from learners.services.account import account_delete
from learners.services.reminders import (
    reminder_dispatch,
    reminder_send,
    reminders_due,
    unsubscribe_token,
)
from learners.tasks import reminder_send_task
from tests.factories import LearnerFactory, StudySessionFactory

pytestmark = pytest.mark.django_db


def _subscribe(learner: Learner, *, zone: str = "UTC", at: time = time(18, 0)) -> Learner:
    learner.user.email = f"{learner.user.username}@example.org"
    learner.user.save()
    learner.email_verified_at = timezone.now()
    learner.timezone, learner.reminder_enabled, learner.reminder_time = zone, True, at
    learner.save()
    return learner


def _plan(learner: Learner, day: date, subject: str = "Physics") -> PlannedSession:
    strategy = Strategy.objects.get(slug="practice-testing")
    return PlannedSession.objects.create(learner=learner, subject=subject, strategy=strategy, planned_for=day)


def test_reminders_are_off_by_default(alice: Learner) -> None:
    assert Learner.objects.get(pk=alice.pk).reminder_enabled is False
    assert reminders_due(now=datetime(2026, 3, 2, 23, 0, tzinfo=UTC)) == []


def test_due_at_the_learners_local_time_with_their_local_day(alice: Learner) -> None:
    _subscribe(alice, zone="Asia/Shanghai", at=time(8, 0))
    _plan(alice, date(2026, 3, 2))
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai: not yet.
    assert reminders_due(now=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == []
    # 00:05 UTC is 08:05 there, and the day is Shanghai's 2 March.
    [due] = reminders_due(now=datetime(2026, 3, 2, 0, 5, tzinfo=UTC))
    assert (due.learner_id, due.day) == (alice.pk, date(2026, 3, 2))


def test_due_across_a_daylight_saving_change(alice: Learner) -> None:
    # Los Angeles moves to UTC-7 on 8 March 2026: 18:00 local is 01:00 UTC the next day.
    _subscribe(alice, zone="America/Los_Angeles", at=time(18, 0))
    _plan(alice, date(2026, 3, 9))
    assert reminders_due(now=datetime(2026, 3, 10, 0, 55, tzinfo=UTC)) == []
    [due] = reminders_due(now=datetime(2026, 3, 10, 1, 5, tzinfo=UTC))
    assert due.day == date(2026, 3, 9)


def test_reminders_due_query_count_is_constant(alice: Learner, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _k in range(5):
        learner = _subscribe(LearnerFactory(), at=time(0, 0))
        _plan(learner, timezone.localdate())
    with django_assert_num_queries(2):
        assert len(reminders_due()) == 5


def test_no_reminder_to_an_unconfirmed_address(alice: Learner) -> None:
    _subscribe(alice, at=time(0, 0))
    _plan(alice, timezone.localdate())
    alice.email_verified_at = None
    alice.save()
    assert reminders_due() == []


def test_reminder_lists_what_is_due_and_follows_up_unscored_sessions(alice: Learner) -> None:
    _subscribe(alice)
    today = timezone.localdate()
    _plan(alice, today - timedelta(days=1), "Overdue physics")
    _plan(alice, today, "Chemistry")
    _plan(alice, today + timedelta(days=1), "Tomorrow's biology")
    session = StudySessionFactory(learner=alice, subject="History", score=None)
    StudySessionFactory(learner=alice, subject="Scored geography", score=80)
    assert reminder_send(learner_id=alice.pk, day=today)
    [message] = mail.outbox
    assert message.to == ["alice@example.org"]
    assert "2 study sessions due today" in message.subject
    assert "Chemistry" in message.body and "Overdue physics" in message.body
    assert "Tomorrow's biology" not in message.body
    assert "History" in message.body and reverse("session-edit", args=[session.pk]) in message.body
    assert "Scored geography" not in message.body
    unsubscribe = settings.SITE_URL + reverse("reminder-unsubscribe", args=[unsubscribe_token(learner=alice)])
    assert unsubscribe in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"


def test_never_two_reminders_for_one_day(alice: Learner) -> None:
    _subscribe(alice)
    today = timezone.localdate()
    _plan(alice, today)
    assert reminder_send(learner_id=alice.pk, day=today)
    assert not reminder_send(learner_id=alice.pk, day=today)
    reminder_send_task(alice.pk, today.isoformat())  # a retry, or a second worker
    assert len(mail.outbox) == 1
    assert ReminderSent.objects.filter(learner=alice, day=today).count() == 1


def test_a_day_claimed_by_another_worker_sends_nothing(alice: Learner) -> None:
    _subscribe(alice)
    today = timezone.localdate()
    _plan(alice, today)
    ReminderSent.objects.create(learner=alice, day=today)
    assert not reminder_send(learner_id=alice.pk, day=today)
    assert mail.outbox == []


def test_nothing_to_say_sends_nothing_and_leaves_the_day_free(alice: Learner) -> None:
    _subscribe(alice)
    assert not reminder_send(learner_id=alice.pk, day=timezone.localdate())
    assert mail.outbox == [] and not ReminderSent.objects.exists()


def test_an_unscored_session_is_followed_up_once(alice: Learner) -> None:
    _subscribe(alice)
    today = timezone.localdate()
    StudySessionFactory(learner=alice, subject="History", score=None)
    assert reminder_send(learner_id=alice.pk, day=today)
    assert mail.outbox[0].subject == "Metacoach: add the scores of your last sessions"
    assert not reminder_send(learner_id=alice.pk, day=today + timedelta(days=1))
    assert len(mail.outbox) == 1


def test_reminder_is_in_the_learners_language(alice: Learner) -> None:
    _subscribe(alice)
    alice.language = "zh-hans"
    alice.save()
    _plan(alice, timezone.localdate())
    reminder_send(learner_id=alice.pk, day=timezone.localdate())
    assert "Metacoach" in mail.outbox[0].subject and "due today" not in mail.outbox[0].subject


def test_dispatch_queues_one_task_per_learner_due(alice: Learner, bob: Learner) -> None:
    _subscribe(alice, at=time(0, 0))
    _subscribe(bob, at=time(0, 0))  # nothing due: not queued
    now = timezone.now()
    _plan(alice, timezone.localdate(now))
    with mock.patch("learners.tasks.reminder_send_task.delay") as delay:
        due = reminder_dispatch(now=now)
    day = timezone.localdate(now)
    delay.assert_called_once_with(alice.pk, day.isoformat())
    assert [d.learner_id for d in due] == [alice.pk]
    ReminderSent.objects.create(learner=alice, day=day)
    with mock.patch("learners.tasks.reminder_send_task.delay") as delay:
        reminder_dispatch(now=now)
    delay.assert_not_called()


def test_beat_runs_the_dispatch() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "learners.reminder_dispatch" in tasks


def test_one_click_unsubscribe(alice: Learner) -> None:
    _subscribe(alice)
    response = Client().get(reverse("reminder-unsubscribe", args=[unsubscribe_token(learner=alice)]))
    assert response.status_code == 200
    assert "Daily reminders are off" in response.content.decode()
    alice.refresh_from_db()
    assert alice.reminder_enabled is False


def test_mail_apps_unsubscribe_by_post_without_a_csrf_token(alice: Learner) -> None:
    _subscribe(alice)
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("reminder-unsubscribe", args=[unsubscribe_token(learner=alice)]))
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.reminder_enabled is False


def test_a_tampered_unsubscribe_link_changes_nothing(alice: Learner, bob: Learner) -> None:
    _subscribe(alice)
    _subscribe(bob)
    token = unsubscribe_token(learner=alice)
    # Bob's id under Alice's signature, whatever the ids (on PostgreSQL they need not appear in
    # the token as digits).
    forged = unsubscribe_token(learner=bob).rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]
    assert forged != unsubscribe_token(learner=bob)
    for bad in (forged, token[:-3] + "xyz", "nonsense"):
        response = Client().get(reverse("reminder-unsubscribe", args=[bad]))
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.reminder_enabled and bob.reminder_enabled


def test_settings_turn_reminders_on_at_a_time(alice: Learner, alice_client: Client) -> None:
    assert 'id="reminder-save"' in alice_client.get(reverse("account-settings")).content.decode()
    response = alice_client.post(
        reverse("reminder-update"), {"reminder_enabled": "on", "reminder_time": "07:30"}, follow=True
    )
    assert "You will get a reminder each day at" in response.content.decode()
    alice.refresh_from_db()
    assert alice.reminder_enabled and alice.reminder_time == time(7, 30)


def test_a_bad_reminder_time_is_refused_and_changes_nothing(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(
        reverse("reminder-update"), {"reminder_enabled": "on", "reminder_time": "25:99"}, follow=True
    )
    assert "Enter a time such as 18:00." in response.content.decode()
    alice.refresh_from_db()
    assert alice.reminder_enabled is False and alice.reminder_time == time(18, 0)


def test_reminder_settings_and_days_are_exported_and_removed_with_the_account(
    alice: Learner, alice_client: Client
) -> None:
    _subscribe(alice, at=time(7, 15))
    ReminderSent.objects.create(learner=alice, day=date(2026, 3, 2))
    body = b"".join(alice_client.get(reverse("account-export-json")).streaming_content)  # type: ignore[attr-defined]
    data = json.loads(body)
    assert (data["account"]["reminder_enabled"], data["account"]["reminder_time"]) == (True, "07:15:00")
    assert data["account"]["calendar_feed"] is False
    assert [row["day"] for row in data["reminders"]] == ["2026-03-02"]
    account_delete(user=alice.user)
    assert not ReminderSent.objects.exists()
