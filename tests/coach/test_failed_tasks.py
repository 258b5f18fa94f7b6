"""A task that fails for good is recorded once, with ids only, and shown read-only in the admin."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.test import Client

from coach.models import FailedTask
from learners.tasks import RETRY


@shared_task(name="tests.always_fails", **{**RETRY, "max_retries": 2, "retry_backoff": False})
def always_fails(learner_id: int, subject: str) -> None:
    raise DatabaseError("the database went away")


@shared_task(name="tests.succeeds")
def succeeds(learner_id: int) -> None:
    pass


@pytest.mark.django_db
def test_a_task_failing_for_good_is_recorded_once_after_its_retries() -> None:
    always_fails.apply(args=[7, "Biology"])

    [failed] = FailedTask.objects.all()
    assert failed.task_name == "tests.always_fails"
    assert failed.retries == 2
    assert failed.args == [7, None]
    assert failed.exception_type == "django.db.utils.DatabaseError"
    assert failed.exception_message == "the database went away"


@pytest.mark.django_db
def test_a_task_that_succeeds_leaves_no_record() -> None:
    succeeds.apply(args=[7])

    assert not FailedTask.objects.exists()


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def test_administrators_read_failed_tasks_but_cannot_add_or_change_them(admin_client: Client) -> None:
    always_fails.apply(args=[7, "Biology"])
    failed = FailedTask.objects.get()

    listing = admin_client.get("/admin/coach/failedtask/")
    detail = admin_client.get(f"/admin/coach/failedtask/{failed.pk}/change/")

    assert listing.status_code == 200
    assert "tests.always_fails" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get("/admin/coach/failedtask/add/").status_code == 403
