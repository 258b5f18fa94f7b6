"""Learners' own time zones: detected at sign-up, chosen in settings, and applied to every time
entered, shown and grouped (stored in UTC). Asia/Shanghai has no daylight saving; Los Angeles
moved its clocks forward on 8 March 2026, at 02:00 local time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from learners.models import Learner, StudySession
from learners.selectors.dashboard import dashboard_data
from learners.services.account import learner_set_timezone
from tests.factories import StudySessionFactory
from tests.learners.test_sessions import form_data

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture(autouse=True)
def _no_broker() -> object:
    with (
        mock.patch("learners.tasks.recommendation_refresh_task.delay"),
        mock.patch("learners.tasks.email_verification_send_task.delay"),
    ):
        yield


def _in(learner: Learner, zone: str) -> Learner:
    learner_set_timezone(learner=learner, name=zone)
    return learner


def _signup(zone: str) -> Learner:
    Client().post(
        reverse("signup"),
        {
            "username": "dana",
            "email": "dana@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "timezone": zone,
        },
    )
    return Learner.objects.get(user__username="dana")


def test_sign_up_keeps_the_zone_the_browser_reported() -> None:
    assert _signup("Asia/Shanghai").timezone == "Asia/Shanghai"


@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons", "localtime"])
def test_sign_up_with_no_or_an_unknown_zone_falls_back_to_utc(zone: str) -> None:
    assert _signup(zone).timezone == "UTC"


def test_the_sign_up_page_loads_the_detecting_script() -> None:
    content = Client().get(reverse("signup")).content.decode()
    assert "data-detect-timezone" in content
    assert "js/timezone.js" in content


def test_learner_chooses_a_zone_in_settings(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(
        reverse("account-timezone"), {"timezone": "America/Los_Angeles"}, follow=True
    )
    assert "Your time zone is now America/Los_Angeles." in response.content.decode()
    alice.refresh_from_db()
    assert alice.timezone == "America/Los_Angeles"
    assert '<option value="America/Los_Angeles" selected>' in response.content.decode()


def test_an_unknown_zone_in_settings_is_refused_and_changes_nothing(
    alice: Learner, alice_client: Client
) -> None:
    _in(alice, "Asia/Shanghai")
    response = alice_client.post(reverse("account-timezone"), {"timezone": "Asia/Atlantis"}, follow=True)
    assert "“Asia/Atlantis” is not a time zone we know." in response.content.decode()
    alice.refresh_from_db()
    assert alice.timezone == "Asia/Shanghai"


def test_the_service_refuses_an_unknown_zone(alice: Learner) -> None:
    with pytest.raises(ValidationError):
        learner_set_timezone(learner=alice, name="UTC+8")
    alice.refresh_from_db()
    assert alice.timezone == "UTC"


def test_a_time_typed_in_shanghai_is_stored_in_utc(alice: Learner, alice_client: Client) -> None:
    _in(alice, "Asia/Shanghai")
    alice_client.post(reverse("session-new"), form_data(started_at="2026-03-02T21:27"))
    session = StudySession.objects.get(learner=alice)
    assert session.started_at == datetime(2026, 3, 2, 13, 27, tzinfo=UTC)


def test_the_new_session_form_starts_at_the_learners_local_time(alice: Learner, alice_client: Client) -> None:
    _in(alice, "Asia/Shanghai")
    now = datetime(2026, 3, 2, 13, 27, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=now):
        content = alice_client.get(reverse("session-new")).content.decode()
    assert 'value="2026-03-02T21:27"' in content


def test_the_session_list_shows_local_times(alice: Learner, alice_client: Client) -> None:
    _in(alice, "America/Los_Angeles")
    StudySessionFactory(learner=alice, started_at=datetime(2026, 3, 9, 6, 30, tzinfo=UTC))
    content = alice_client.get(reverse("session-list")).content.decode()
    assert "03/08/2026 11:30 p.m." in content


def test_a_sunday_2330_session_counts_in_that_local_day_and_week(alice: Learner) -> None:
    # Sunday 8 March 23:30 in Los Angeles (PDT, after the change) is Monday 06:30 UTC.
    _in(alice, "America/Los_Angeles")
    StudySessionFactory(
        learner=alice, started_at=datetime(2026, 3, 8, 23, 30, tzinfo=LOS_ANGELES), minutes=40
    )
    data = dashboard_data(learner=alice, now=datetime(2026, 3, 9, 18, 0, tzinfo=UTC))  # Monday 11:00 local
    assert data.study_days == ((date(2026, 3, 8), 40),)
    assert data.weekly_minutes[-1].minutes == 0  # this week, from Monday 9 March
    assert (data.weekly_minutes[-2].week_start, data.weekly_minutes[-2].minutes) == (date(2026, 3, 2), 40)
    assert data.streak_days == 1  # yesterday, not broken by today not studied yet


def test_days_either_side_of_the_daylight_saving_change_are_both_counted(alice: Learner) -> None:
    # 23:30 on Saturday (PST, UTC-8) and on Sunday (PDT, UTC-7): two days, two UTC offsets.
    _in(alice, "America/Los_Angeles")
    for day in (7, 8):
        StudySessionFactory(learner=alice, started_at=datetime(2026, 3, day, 23, 30, tzinfo=LOS_ANGELES))
    stored = sorted(StudySession.objects.values_list("started_at", flat=True))
    assert stored == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC), datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]
    data = dashboard_data(learner=alice, now=datetime(2026, 3, 9, 18, 0, tzinfo=UTC))
    assert [day for day, _ in data.study_days] == [date(2026, 3, 7), date(2026, 3, 8)]
    assert data.streak_days == 2


def test_just_after_midnight_in_shanghai_is_the_next_day_and_week(alice: Learner) -> None:
    # Monday 9 March 00:30 in Shanghai is still Sunday 16:30 in UTC.
    _in(alice, "Asia/Shanghai")
    StudySessionFactory(learner=alice, started_at=datetime(2026, 3, 9, 0, 30, tzinfo=SHANGHAI), minutes=25)
    data = dashboard_data(learner=alice, now=datetime(2026, 3, 9, 2, 0, tzinfo=UTC))  # Monday 10:00 local
    assert data.study_days == ((date(2026, 3, 9), 25),)
    assert (data.weekly_minutes[-1].week_start, data.weekly_minutes[-1].minutes) == (date(2026, 3, 9), 25)
    assert data.today == date(2026, 3, 9)
    assert data.streak_days == 1


def test_the_export_names_the_learners_zone(alice: Learner, alice_client: Client) -> None:
    _in(alice, "Asia/Shanghai")
    body = b"".join(alice_client.get(reverse("account-export-json")).streaming_content)  # type: ignore[attr-defined]
    assert json.loads(body)["account"]["timezone"] == "Asia/Shanghai"
