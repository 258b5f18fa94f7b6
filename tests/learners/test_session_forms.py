"""The finished edges of the session forms: saved once, text within limits, sane dates, and the same
reflection prompts and rating controls in the log form and the timer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners import forms
from learners.models import Learner, Reflection, StudySession
from learners.services import sessions as session_services
from learners.services.sessions import ReflectionInput, SessionInput, session_create
from tests.factories import StudySessionFactory
from tests.learners.test_sessions import form_data
from tests.learners.test_timer import start_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker() -> Iterator[mock.MagicMock]:
    with mock.patch("learners.tasks.recommendation_refresh_task.delay") as delay:
        yield delay


def session_input(**overrides: object) -> SessionInput:
    data: dict[str, object] = {
        "subject": "Biology",
        "task_kind": "memorise",
        "strategy": StudySessionFactory.build().strategy,
        "started_at": timezone.now() - timedelta(hours=1),
        "minutes": 30,
        "difficulty": 3,
        "confidence": 60,
        "score": 50,
        "focus": 3,
    }
    data.update(overrides)
    return SessionInput(**data)  # type: ignore[arg-type]


def hidden_key(content: str) -> str:
    match = re.search(r'name="submission_key" value="([^"]*)"', content)
    assert match, "the form carries no one-time key"
    return match.group(1)


# Once only


def test_the_same_form_submitted_twice_saves_one_session(
    alice: Learner,
    alice_client: Client,
    _no_broker: mock.MagicMock,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    data = form_data()
    with django_capture_on_commit_callbacks(execute=True):
        first = alice_client.post(reverse("session-new"), data, follow=True)
        second = alice_client.post(reverse("session-new"), data, follow=True)
    session = StudySession.objects.get(learner=alice)
    assert first.redirect_chain[-1][0] == reverse("session-detail", args=[session.pk])
    assert second.redirect_chain[-1][0] == reverse("session-detail", args=[session.pk])
    assert "This session had already been saved; here it is." in second.content.decode()
    assert "Session saved." not in second.content.decode()
    _no_broker.assert_called_once()  # the second submission asks for no new recommendation


def test_two_pages_of_the_form_save_two_sessions(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("session-new"), form_data())
    alice_client.post(reverse("session-new"), form_data())
    assert StudySession.objects.filter(learner=alice).count() == 2


def test_each_rendering_of_the_form_issues_a_new_key(alice_client: Client) -> None:
    first = hidden_key(alice_client.get(reverse("session-new")).content.decode())
    second = hidden_key(alice_client.get(reverse("session-new")).content.decode())
    assert uuid.UUID(first) != uuid.UUID(second)


def test_a_refused_form_keeps_its_key_so_the_corrected_one_still_saves_once(
    alice: Learner, alice_client: Client
) -> None:
    data = form_data(minutes=0)
    response = alice_client.post(reverse("session-new"), data)
    assert hidden_key(response.content.decode()) == data["submission_key"]
    data["minutes"] = 30
    alice_client.post(reverse("session-new"), data)
    alice_client.post(reverse("session-new"), data)
    assert StudySession.objects.filter(learner=alice).count() == 1


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_a_form_without_its_key_saves_nothing_and_comes_back_with_a_new_one(
    alice_client: Client, key: str | None
) -> None:
    data = form_data()
    if key is None:
        del data["submission_key"]
    else:
        data["submission_key"] = key
    response = alice_client.post(reverse("session-new"), data)
    assert response.status_code == 200
    assert "This page was out of date, so nothing was saved." in response.content.decode()
    uuid.UUID(hidden_key(response.content.decode()))  # a fresh, valid key to save with
    assert 'value="Organic chemistry"' in response.content.decode()
    assert not StudySession.objects.exists()


def test_another_learners_key_neither_blocks_nor_shows_their_session(
    alice: Learner, bob: Learner, alice_client: Client
) -> None:
    key = uuid.uuid4()
    bobs = StudySessionFactory(learner=bob, subject="Bob's secret subject", submission_key=key)
    response = alice_client.post(reverse("session-new"), form_data(submission_key=str(key)), follow=True)
    assert "Bob's secret subject" not in response.content.decode()
    assert StudySession.objects.filter(learner=alice).count() == 1
    assert StudySession.objects.filter(pk=bobs.pk).exists()


def test_database_refuses_a_second_session_with_the_same_key(alice: Learner) -> None:
    key = uuid.uuid4()
    StudySessionFactory(learner=alice, submission_key=key)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudySessionFactory(learner=alice, submission_key=key)


def test_sessions_saved_without_a_form_need_no_key(alice: Learner) -> None:
    StudySessionFactory.create_batch(2, learner=alice, submission_key=None)
    assert StudySession.objects.filter(learner=alice).count() == 2


def test_two_submissions_at_once_save_one_session(alice: Learner) -> None:
    # The second request looked before the first had saved, then lost the race to the database.
    key = uuid.uuid4()
    first = session_create(learner=alice, data=session_input(), submission_key=key)
    real = session_services.session_submitted
    with mock.patch.object(session_services, "session_submitted", side_effect=[None, first.session]) as looks:
        second = session_create(learner=alice, data=session_input(), submission_key=key)
    assert looks.call_count == 2
    assert second.already_saved and second.session == first.session
    assert StudySession.objects.filter(learner=alice).count() == 1
    assert real(learner=alice, submission_key=key) == first.session


# Limits with a visible counter

LIMITS = [
    ("subject", 100),
    ("notes", 2000),
    ("plan", 2000),
    ("monitor", 2000),
    ("evaluate", 2000),
    ("next_time", 2000),
]


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_text_over_its_limit_is_refused_with_a_message_naming_the_limit(
    alice_client: Client, field: str, limit: int
) -> None:
    response = alice_client.post(reverse("session-new"), form_data(**{field: "x" * (limit + 5)}))
    assert response.status_code == 200
    errors = {**response.context["form"].errors, **response.context["reflection_form"].errors}
    assert errors[field] == [f"Shorten this to {limit} characters or fewer; it has {limit + 5}."]
    assert not StudySession.objects.exists()


@pytest.mark.parametrize(("field", "limit"), LIMITS)
def test_text_at_its_limit_is_saved(alice: Learner, alice_client: Client, field: str, limit: int) -> None:
    alice_client.post(reverse("session-new"), form_data(**{field: "x" * limit}))
    session = StudySession.objects.get(learner=alice)
    saved = getattr(session, field) if hasattr(session, field) else getattr(session.reflection, field)
    assert len(saved) == limit


def test_a_line_break_counts_as_one_character_as_on_the_page(alice: Learner, alice_client: Client) -> None:
    # Browsers send CR LF; 1,000 lines of one character and 999 breaks is 1,999 characters.
    text = "\r\n".join(["x"] * 1000)
    response = alice_client.post(reverse("session-new"), form_data(plan=text))
    assert response.status_code == 302
    assert StudySession.objects.get(learner=alice).reflection.plan == "\n".join(["x"] * 1000)


def test_every_free_text_field_has_a_counter_and_no_maxlength_that_would_cut_a_paste(
    alice_client: Client,
) -> None:
    content = alice_client.get(reverse("session-new")).content.decode()
    for field, limit in LIMITS:
        assert f'data-count-for="id_{field}" data-limit="{limit}" hidden>0 / {limit}</small>' in content
    assert "maxlength" not in content


def test_the_timer_counts_its_subject_and_reflections_too(alice_client: Client) -> None:
    start = alice_client.get(reverse("study")).content.decode()
    assert 'data-count-for="id_subject" data-limit="100"' in start
    alice_client.post(reverse("study"), start_data())
    running = alice_client.get(reverse("study")).content.decode()
    for field in ["plan", "monitor", "evaluate", "next_time"]:
        assert f'data-count-for="id_{field}" data-limit="2000"' in running
    assert "maxlength" not in running


def test_the_timer_refuses_a_subject_over_its_limit(alice: Learner, alice_client: Client) -> None:
    response = alice_client.post(reverse("study"), start_data(subject="x" * 101))
    assert response.context["form"].errors["subject"] == [
        "Shorten this to 100 characters or fewer; it has 101."
    ]
    assert not hasattr(Learner.objects.get(pk=alice.pk), "timer")


def test_the_service_refuses_text_over_the_limit_without_the_form(alice: Learner) -> None:
    with pytest.raises(ValidationError) as notes:
        session_create(learner=alice, data=session_input(notes="x" * 2001))
    assert "notes" in notes.value.message_dict
    with pytest.raises(ValidationError) as plan:
        session_create(learner=alice, data=session_input(), reflection=ReflectionInput(plan="x" * 2001))
    assert "plan" in plan.value.message_dict
    assert not StudySession.objects.exists()


# Sane dates


@pytest.mark.parametrize("started_at", ["1900-01-01T10:00", "1999-12-31T23:59", "0202-03-04T10:00"])
def test_a_start_before_2000_is_refused_with_the_bound_named(alice_client: Client, started_at: str) -> None:
    response = alice_client.post(reverse("session-new"), form_data(started_at=started_at))
    assert response.context["form"].errors["started_at"] == ["The start time cannot be before Jan. 1, 2000."]
    assert not StudySession.objects.exists()


def test_the_first_minute_of_2000_is_accepted(alice: Learner, alice_client: Client) -> None:
    alice_client.post(reverse("session-new"), form_data(started_at="2000-01-01T00:00"))
    assert timezone.localtime(StudySession.objects.get(learner=alice).started_at).year == 2000


def test_the_bound_is_the_date_in_the_learners_time_zone(alice: Learner, alice_client: Client) -> None:
    # 1 January 2000, 05:00 in Sydney is still 1999 in UTC: it is 2000 where the learner studied.
    alice.timezone = "Australia/Sydney"
    alice.save()
    response = alice_client.post(reverse("session-new"), form_data(started_at="2000-01-01T05:00"))
    assert response.status_code == 302


def test_the_service_refuses_a_start_before_2000_without_the_form(alice: Learner) -> None:
    early = datetime(1999, 12, 31, 12, tzinfo=UTC)
    with pytest.raises(ValidationError) as error:
        session_create(learner=alice, data=session_input(started_at=early))
    assert error.value.message_dict["started_at"] == ["The start time cannot be before Jan. 1, 2000."]


def test_the_date_picker_offers_neither_before_2000_nor_the_future(alice_client: Client) -> None:
    content = alice_client.get(reverse("session-new")).content.decode()
    picker = re.search(r'<input type="datetime-local"[^>]*>', content)
    assert picker is not None
    assert 'min="2000-01-01T00:00"' in picker.group(0)
    latest = re.search(r'max="([^"]+)"', picker.group(0))
    assert latest is not None
    assert datetime.fromisoformat(latest.group(1)) <= timezone.localtime().replace(tzinfo=None) + timedelta(
        minutes=6
    )


def test_an_older_session_before_2000_must_be_corrected_when_edited(
    alice: Learner, alice_client: Client
) -> None:
    session = StudySessionFactory(learner=alice)
    StudySession.objects.filter(pk=session.pk).update(started_at=datetime(1900, 1, 1, tzinfo=UTC))
    response = alice_client.get(reverse("session-edit", args=[session.pk]))
    assert response.status_code == 200
    response = alice_client.post(
        reverse("session-edit", args=[session.pk]), form_data(started_at="1900-01-01T00:00")
    )
    assert "started_at" in response.context["form"].errors


# One set of reflection prompts and controls


def test_the_log_form_and_the_timer_ask_the_same_reflection_prompts(alice_client: Client) -> None:
    log_form = alice_client.get(reverse("session-new")).context["reflection_form"]
    alice_client.post(reverse("study"), start_data())
    timer_form = alice_client.get(reverse("study")).context["form"]

    def prompts(form: object) -> list[tuple[str, str, str]]:
        return [
            (name, str(form.fields[name].label), str(form.fields[name].help_text))  # type: ignore[attr-defined]
            for name in forms.REFLECTION_PROMPTS
        ]

    assert prompts(log_form) == prompts(timer_form)
    assert [name for name, _, _ in prompts(log_form)] == ["plan", "monitor", "evaluate", "next_time"]
    assert "what_worked" not in log_form.fields


@pytest.mark.parametrize("name", ["difficulty", "focus"])
def test_difficulty_and_focus_are_the_same_labelled_select_in_both_forms(
    alice_client: Client, name: str
) -> None:
    log_field = alice_client.get(reverse("session-new")).context["form"].fields[name]
    alice_client.post(reverse("study"), start_data())
    timer_field = alice_client.get(reverse("study")).context["form"].fields[name]
    for field in (log_field, timer_field):
        assert type(field.widget).__name__ == "Select"
        assert [value for value, _ in field.choices] == [1, 2, 3, 4, 5]
    assert [str(label) for _, label in log_field.choices] == [str(label) for _, label in timer_field.choices]
    assert str(log_field.choices[0][1]) in {"1 · very easy", "1 · constantly distracted"}


def test_the_log_form_saves_all_four_prompts(alice: Learner, alice_client: Client) -> None:
    alice_client.post(
        reverse("session-new"),
        form_data(plan="Plan it", monitor="Watch it", evaluate="Judge it", next_time="Change it"),
    )
    reflection = StudySession.objects.get(learner=alice).reflection
    assert (reflection.plan, reflection.monitor, reflection.evaluate, reflection.next_time) == (
        "Plan it",
        "Watch it",
        "Judge it",
        "Change it",
    )


def test_editing_keeps_an_older_what_worked_answer_even_a_long_one(
    alice: Learner, alice_client: Client
) -> None:
    session = StudySessionFactory(learner=alice)
    long_answer = "Flashcards. " * 500  # longer than today's limit: written before it
    Reflection.objects.create(session=session, what_worked=long_answer, kept_previous_plan=True)
    response = alice_client.post(
        reverse("session-edit", args=[session.pk]), form_data(plan="", evaluate="", next_time="")
    )
    assert response.status_code == 302
    reflection = Reflection.objects.get(session=session)
    assert reflection.what_worked == long_answer and reflection.kept_previous_plan is True


def test_edit_form_shows_the_saved_prompts(alice: Learner, alice_client: Client) -> None:
    session = StudySessionFactory(learner=alice)
    Reflection.objects.create(session=session, monitor="Lost focus at 20 minutes")
    content = alice_client.get(reverse("session-edit", args=[session.pk])).content.decode()
    assert "Lost focus at 20 minutes" in content
    assert 'name="submission_key"' not in content  # an edit saves the same session however often
