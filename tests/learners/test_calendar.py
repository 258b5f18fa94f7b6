"""The private calendar feed: planned sessions and exams as all-day events at a secret address,
parsed back with icalendar; renewed or revoked in settings; any other address is a plain 404."""

from __future__ import annotations

import re
from datetime import date, timedelta

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coach.models import Strategy
from learners.models import Learner, PlannedSession, SubjectGoal
from learners.selectors.sessions import learner_today
from learners.services.calendar import calendar_token_renew, calendar_token_revoke

pytestmark = pytest.mark.django_db


def _plan(learner: Learner, day: date, subject: str = "Physics", **fields: object) -> PlannedSession:
    strategy = Strategy.objects.get(slug="distributed-practice")
    return PlannedSession.objects.create(
        learner=learner, subject=subject, strategy=strategy, planned_for=day, **fields
    )


def _feed(learner: Learner) -> icalendar.Calendar:
    assert learner.calendar_token
    response = Client().get(reverse("calendar-feed", args=[learner.calendar_token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def test_feed_holds_planned_sessions_and_exams_as_all_day_events(alice: Learner) -> None:
    today = learner_today(learner=alice)
    planned = _plan(alice, today + timedelta(days=2))
    goal = SubjectGoal.objects.create(
        learner=alice, subject="Physics", weekly_minutes=60, exam_date=today + timedelta(days=9)
    )
    calendar_token_renew(learner=alice)
    calendar = _feed(alice)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"planned-{planned.pk}@metacoach", f"exam-{goal.pk}@metacoach"}
    study = events[f"planned-{planned.pk}@metacoach"]
    assert study.decoded("DTSTART") == today + timedelta(days=2)
    assert study.decoded("DTEND") == today + timedelta(days=3)
    assert str(study["SUMMARY"]) == "Study Physics"
    assert "Distributed practice" in str(study["DESCRIPTION"])
    assert str(events[f"exam-{goal.pk}@metacoach"]["SUMMARY"]) == "Exam: Physics"
    assert all("DTSTAMP" in e for e in events.values())


def test_uids_stay_the_same_from_one_fetch_to_the_next(alice: Learner) -> None:
    _plan(alice, learner_today(learner=alice))
    calendar_token_renew(learner=alice)
    first = [str(e["UID"]) for e in _feed(alice).walk("VEVENT")]
    _plan(alice, learner_today(learner=alice) + timedelta(days=1), "Maths")
    second = [str(e["UID"]) for e in _feed(alice).walk("VEVENT")]
    assert set(first) < set(second)


def test_done_and_skipped_sessions_leave_the_feed(alice: Learner) -> None:
    today = learner_today(learner=alice)
    _plan(alice, today, status=PlannedSession.Status.DONE)
    _plan(alice, today + timedelta(days=1), status=PlannedSession.Status.SKIPPED)
    calendar_token_renew(learner=alice)
    assert _feed(alice).walk("VEVENT") == []


def test_feed_is_in_the_learners_language(alice: Learner) -> None:
    alice.language = "zh-hans"
    alice.save()
    _plan(alice, learner_today(learner=alice))
    calendar_token_renew(learner=alice)
    summary = str(_feed(alice).walk("VEVENT")[0]["SUMMARY"])
    assert "Physics" in summary and not summary.startswith("Study")


def test_feed_shows_only_its_own_learners_plan(alice: Learner, bob: Learner) -> None:
    _plan(bob, learner_today(learner=bob), "Bobs subject")
    calendar_token_renew(learner=alice)
    calendar_token_renew(learner=bob)
    assert [str(e["SUMMARY"]) for e in _feed(alice).walk("VEVENT")] == []


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 200, "not a token!"])
def test_a_guessed_token_is_a_plain_404(alice: Learner, token: str) -> None:
    calendar_token_renew(learner=alice)
    response = Client().get(f"/calendar/{token}.ics")
    assert response.status_code == 404


def test_a_revoked_or_renewed_token_is_the_same_404(alice: Learner) -> None:
    old = calendar_token_renew(learner=alice)
    guessed = Client().get(reverse("calendar-feed", args=["y" * 43]))
    calendar_token_renew(learner=alice)
    renewed = Client().get(reverse("calendar-feed", args=[old]))
    revoked_token = alice.calendar_token
    calendar_token_revoke(learner=alice)
    revoked = Client().get(reverse("calendar-feed", args=[revoked_token]))
    assert guessed.status_code == renewed.status_code == revoked.status_code == 404
    # The page names its own address and a fresh CSRF token; past those, the three are one page.
    pages = [re.sub(r'value="[^"]*"', "", r.content.decode()) for r in (guessed, renewed, revoked)]
    assert pages[0] == pages[1] == pages[2]


def test_settings_make_renew_and_revoke_the_address(alice: Learner, alice_client: Client) -> None:
    page = alice_client.get(reverse("account-settings")).content.decode()
    assert 'id="calendar-make"' in page
    alice_client.post(reverse("calendar-renew"))
    alice.refresh_from_db()
    first = alice.calendar_token
    assert (
        first
        and reverse("calendar-feed", args=[first])
        in alice_client.get(reverse("account-settings")).content.decode()
    )
    alice_client.post(reverse("calendar-renew"))
    alice.refresh_from_db()
    assert alice.calendar_token and alice.calendar_token != first
    alice_client.post(reverse("calendar-revoke"))
    alice.refresh_from_db()
    assert alice.calendar_token is None


def test_renewing_needs_a_post(alice: Learner, alice_client: Client) -> None:
    assert alice_client.get(reverse("calendar-renew")).status_code == 405
    alice.refresh_from_db()
    assert alice.calendar_token is None


def test_feed_query_count_does_not_grow_with_the_plan(alice: Learner) -> None:
    token = calendar_token_renew(learner=alice)
    today = learner_today(learner=alice)
    _plan(alice, today)
    client = Client()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("calendar-feed", args=[token]))
    for k in range(1, 8):
        _plan(alice, today + timedelta(days=k), f"Subject {k}")
        SubjectGoal.objects.create(
            learner=alice, subject=f"Subject {k}", weekly_minutes=60, exam_date=today + timedelta(days=20)
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("calendar-feed", args=[token]))
    assert len(many) == len(few)
