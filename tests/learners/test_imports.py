"""Importing Anki collections: upload, preview, confirm, no duplicates, and errors that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners import versions
from learners.models import ImportJob, Learner, StudySession, XapiSync
from learners.services.imports import (
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_fail,
    import_job_read,
    import_job_save,
)
from learners.tasks import import_job_save_task
from tests.anki_collections import Card, Review, collection, package
from tests.factories import StudySessionFactory, UserFactory

DAY = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def anki_file(days: int = 2, *, decks: int = 1) -> bytes:
    cards = [Card(id=100 * d + c, deck=d) for d in range(1, decks + 1) for c in range(3)]
    reviews = [
        Review(at=DAY + timedelta(days=day, minutes=i), card=card.id, ease=1 if i == 0 else 3)
        for day in range(days)
        for i, card in enumerate(cards)
    ]
    return package(
        collection(decks={d: f"Deck {d}" for d in range(1, decks + 1)}, cards=cards, reviews=reviews)
    )


def read(
    learner: Learner, data: bytes, *, kind: str = ImportJob.Kind.ANKI, language: str = "en"
) -> ImportJob:
    job = import_job_create(learner=learner, kind=kind, filename="deck.apkg", data=data, language=language)
    result = import_job_read(job_id=job.pk)
    assert result is not None
    return result


def imported(learner: Learner, data: bytes, *, kind: str = ImportJob.Kind.ANKI) -> ImportJob:
    job = read(learner, data, kind=kind)
    assert job.state == ImportJob.State.READY, job.error
    assert import_job_confirm(job=job)
    saved = import_job_save(job_id=job.pk)
    assert saved is not None
    return saved


def test_reading_a_file_makes_a_preview_and_saves_no_session(alice: Learner) -> None:
    job = read(alice, anki_file(days=2))
    assert job.state == ImportJob.State.READY
    assert [row["subject"] for row in job.preview] == ["Deck 1", "Deck 1"]
    assert job.upload is None  # not kept once read
    assert not StudySession.objects.exists()


def test_confirming_saves_each_deck_day_as_a_session_with_its_import_key(alice: Learner) -> None:
    job = imported(alice, anki_file(days=2))
    assert (job.state, job.created_count, job.skipped_count) == (ImportJob.State.DONE, 2, 0)
    assert job.preview == []  # the rows live on as sessions
    sessions = StudySession.objects.filter(learner=alice).order_by("started_at")
    assert [s.import_key for s in sessions] == ["anki:1:2025-03-10", "anki:1:2025-03-11"]
    first = sessions[0]
    assert (first.subject, first.score, first.minutes, first.strategy.slug) == (
        "Deck 1",
        67,
        1,
        "practice-testing",
    )
    assert sessions[1].strategy.slug == "distributed-practice"  # the same cards a day later


def test_importing_the_same_file_again_creates_nothing(alice: Learner) -> None:
    imported(alice, anki_file(days=2))
    again = read(alice, anki_file(days=2))
    assert all(row["duplicate"] for row in again.preview)
    import_job_confirm(job=again)
    job = import_job_save(job_id=again.pk)
    assert job is not None and (job.created_count, job.skipped_count) == (0, 2)
    assert StudySession.objects.filter(learner=alice).count() == 2


def test_a_later_export_of_the_same_collection_adds_only_the_new_days(alice: Learner) -> None:
    imported(alice, anki_file(days=2))
    job = imported(alice, anki_file(days=3))
    assert (job.created_count, job.skipped_count) == (1, 2)
    assert StudySession.objects.filter(learner=alice).count() == 3


def test_another_learners_import_of_the_same_file_is_not_a_duplicate(alice: Learner, bob: Learner) -> None:
    imported(alice, anki_file())
    assert imported(bob, anki_file()).created_count == 2


def test_a_session_deleted_after_the_import_comes_back_on_a_new_import(alice: Learner) -> None:
    imported(alice, anki_file(days=2))
    StudySession.objects.filter(learner=alice).first().delete()  # type: ignore[union-attr]
    assert imported(alice, anki_file(days=2)).created_count == 1


def test_a_damaged_file_fails_with_a_reason_and_changes_nothing(alice: Learner) -> None:
    job = read(alice, b"PK\x03\x04 broken")
    assert job.state == ImportJob.State.FAILED
    assert "damaged" in job.error
    assert job.upload is None
    assert not StudySession.objects.exists()


def test_the_reason_is_written_in_the_language_of_the_page_that_uploaded(alice: Learner) -> None:
    job = read(alice, b"not a zip", language="zh-hans")
    assert job.state == ImportJob.State.FAILED
    assert "Anki" in job.error and "damaged" not in job.error


def test_a_save_that_fails_midway_leaves_no_session_and_can_run_again(alice: Learner) -> None:
    job = read(alice, anki_file(days=2))
    import_job_confirm(job=job)
    with (
        mock.patch("learners.services.imports.ImportJob.objects.filter", side_effect=DatabaseError("lost")),
        pytest.raises(DatabaseError),
    ):
        import_job_save(job_id=job.pk)
    with (
        mock.patch(
            "learners.models.StudySession.objects.bulk_create", side_effect=DatabaseError("disk full")
        ),
        pytest.raises(DatabaseError),
    ):
        import_job_save(job_id=job.pk)
    assert not StudySession.objects.exists()
    job.refresh_from_db()
    assert job.state == ImportJob.State.SAVING  # the task's retry saves it
    assert import_job_save(job_id=job.pk) is not None
    assert StudySession.objects.filter(learner=alice).count() == 2


def test_saving_twice_saves_once(alice: Learner) -> None:
    job = imported(alice, anki_file(days=2))
    assert import_job_save(job_id=job.pk) is None
    assert StudySession.objects.filter(learner=alice).count() == 2


def test_a_job_can_be_confirmed_once(alice: Learner) -> None:
    job = read(alice, anki_file())
    assert import_job_confirm(job=job)
    assert not import_job_confirm(job=job)


def test_a_job_the_worker_gave_up_on_is_failed(alice: Learner) -> None:
    job = import_job_create(learner=alice, kind="anki", filename="a.apkg", data=b"x", language="en")
    import_job_fail(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "Nothing was saved" in job.error


def test_a_task_whose_retries_are_spent_fails_its_job(alice: Learner) -> None:
    job = read(alice, anki_file())
    import_job_confirm(job=job)
    import_job_save_task.on_failure(DatabaseError("locked"), "task-id", (job.pk,), {}, None)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert not StudySession.objects.exists()


def test_a_job_being_saved_cannot_be_cancelled(alice: Learner) -> None:
    job = read(alice, anki_file())
    import_job_confirm(job=job)
    assert not import_job_cancel(job=job)
    ready = read(alice, anki_file())
    assert import_job_cancel(job=ready)
    assert not ImportJob.objects.filter(pk=ready.pk).exists()


# Pages


def upload(client: Client, data: bytes, name: str = "deck.apkg") -> object:
    return client.post(reverse("import"), {"file": SimpleUploadedFile(name, data)})


def test_uploading_a_package_keeps_it_for_the_worker_and_shows_the_progress(
    alice: Learner, alice_client: Client
) -> None:
    data = anki_file()
    response = upload(alice_client, data)
    job = ImportJob.objects.get(learner=alice)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.url == reverse("import-job", args=[job.pk])  # type: ignore[attr-defined]
    assert bytes(job.upload or b"") == data
    page = alice_client.get(reverse("import-job", args=[job.pk]))
    assert b'<progress id="import-progress-bar"' in page.content
    assert b"js/import.js" in page.content


def test_a_file_of_another_kind_is_refused_on_the_page(alice_client: Client) -> None:
    response = upload(alice_client, b"hello", name="notes.txt")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Choose an Anki package" in response.content.decode()  # type: ignore[attr-defined]
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_refused_on_the_page(alice_client: Client) -> None:
    with mock.patch("learners.import_forms.IMPORT_MAX_BYTES", 100):
        response = upload(alice_client, b"x" * 200)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "at most 100" in response.content.decode()  # type: ignore[attr-defined]
    assert not ImportJob.objects.exists()


def test_a_csv_file_is_read_as_a_sessions_csv(alice: Learner, alice_client: Client) -> None:
    upload(alice_client, b"started_at,subject\n", name="Metacoach-Sessions.CSV")
    assert ImportJob.objects.get(learner=alice).kind == ImportJob.Kind.CSV


def test_the_service_refuses_a_file_over_the_limit_too(alice: Learner) -> None:
    with mock.patch("learners.services.imports.IMPORT_MAX_BYTES", 10), pytest.raises(ValidationError):
        import_job_create(learner=alice, kind="anki", filename="a.apkg", data=b"x" * 11, language="en")
    assert not ImportJob.objects.exists()


def test_the_preview_lists_what_will_be_created_and_what_is_skipped(
    alice: Learner, alice_client: Client
) -> None:
    imported(alice, anki_file(days=1))
    job = read(alice, anki_file(days=2))
    page = alice_client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "1 new session will be created." in page
    assert "1 is already imported and will be skipped." in page
    assert "already imported: skipped" in page
    assert "Import 1 session" in page
    assert "middle of their scales" in page


def test_a_file_already_imported_offers_nothing_to_confirm(alice: Learner, alice_client: Client) -> None:
    imported(alice, anki_file())
    job = read(alice, anki_file())
    page = alice_client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "Everything in this file is already imported" in page
    assert 'id="import-confirm"' not in page


def test_confirming_on_the_page_starts_the_save(alice: Learner, alice_client: Client) -> None:
    job = read(alice, anki_file())
    response = alice_client.post(reverse("import-job-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302
    assert job.state == ImportJob.State.SAVING
    assert not StudySession.objects.exists()  # the worker saves


def test_the_status_says_how_far_the_worker_is(alice: Learner, alice_client: Client) -> None:
    job = import_job_create(learner=alice, kind="anki", filename="a.apkg", data=b"x", language="en")
    data = alice_client.get(reverse("import-job-status", args=[job.pk])).json()
    assert data == {"state": "queued", "state_label": "Waiting to be read", "progress": 0, "active": True}


def test_a_failed_import_shows_its_reason(alice: Learner, alice_client: Client) -> None:
    job = read(alice, b"broken")
    page = alice_client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert "damaged" in page and "Nothing was saved." in page


@pytest.mark.parametrize(
    "name", ["import-job", "import-job-status", "import-job-confirm", "import-job-cancel"]
)
def test_a_learner_cannot_reach_another_learners_import(
    bob: Learner, alice_client: Client, name: str
) -> None:
    job = read(bob, anki_file())
    method = alice_client.post if name.endswith(("confirm", "cancel")) else alice_client.get
    assert method(reverse(name, args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.state == ImportJob.State.READY


def test_an_educator_cannot_reach_a_learners_import(alice: Learner, dana_client: Client) -> None:
    job = read(alice, anki_file())
    assert dana_client.get(reverse("import-job", args=[job.pk])).status_code == 404


def test_the_import_page_is_linked_from_settings_and_the_session_list(
    alice: Learner, alice_client: Client
) -> None:
    read(alice, anki_file())
    settings_page = alice_client.get(reverse("account-settings")).content.decode()
    assert reverse("import") in settings_page and "deck.apkg" in settings_page
    assert reverse("import") in alice_client.get(reverse("session-list")).content.decode()


def test_the_preview_page_costs_the_same_queries_however_many_rows(
    alice: Learner, alice_client: Client
) -> None:
    def queries(days: int) -> int:
        job = read(alice, anki_file(days=days))
        with CaptureQueriesContext(connection) as context:
            assert alice_client.get(reverse("import-job", args=[job.pk])).status_code == 200
        return len(context.captured_queries)

    assert queries(1) == queries(20)


def test_existing_sessions_logged_here_are_kept(alice: Learner) -> None:
    StudySessionFactory(learner=alice)
    imported(alice, anki_file())
    assert StudySession.objects.filter(learner=alice, import_key__isnull=True).count() == 1


def test_saving_renews_the_learners_cached_pages(alice: Learner) -> None:
    before = versions.learner_version(alice.pk)
    imported(alice, anki_file())
    assert versions.learner_version(alice.pk) != before


def test_administrators_see_imports_without_their_files(alice: Learner) -> None:
    job = read(alice, anki_file())
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert "deck.apkg" in client.get(reverse("admin:learners_importjob_changelist")).content.decode()
    page = client.get(reverse("admin:learners_importjob_change", args=[job.pk])).content.decode()
    assert "Deck 1" not in page  # the preview is not shown


def test_imported_sessions_are_sent_to_a_learning_record_store(alice: Learner, settings: Any) -> None:
    settings.XAPI_LRS_URL = "http://127.0.0.1:9/xapi"
    imported(alice, anki_file(days=2))
    sync = XapiSync.objects.get(learner=alice)
    assert sync.synced_at is None  # asked for; the worker sends them
