"""Personas shared by the suite: alice studies, bob studies too, dana teaches a cohort, charlie
teaches another."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from learners.demo import demo_create
from learners.models import Cohort, Learner
from learners.services import engine_runs
from tests.factories import CohortFactory, LearnerFactory, UserFactory, educator

PASSWORD = "correct horse battery staple"
_catalogue = importlib.import_module("coach.migrations.0003_strategy_catalogue")


@pytest.fixture(autouse=True)
def strategy_catalogue(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the database afterwards, the migrated catalogue with it: seed it again."""
    marker = request.node.get_closest_marker("django_db")
    wants = {"transactional_db", "live_server"} & set(request.fixturenames)
    if not (wants or (marker and marker.kwargs.get("transaction"))):
        return
    request.getfixturevalue("transactional_db")
    if not apps.get_model("coach", "Strategy").objects.exists():
        _catalogue.seed(apps, None)


@pytest.fixture
def alice(db: None) -> Learner:
    return LearnerFactory(user=UserFactory(username="alice"))


@pytest.fixture
def bob(db: None) -> Learner:
    return LearnerFactory(user=UserFactory(username="bob"))


@pytest.fixture
def charlie(db: None):  # type: ignore[no-untyped-def]
    """An educator who owns a cohort that neither alice nor bob belongs to."""
    user = educator("charlie")
    CohortFactory(owner=user)
    return user


@pytest.fixture
def alice_client(alice: Learner) -> Client:
    client = Client()
    client.force_login(alice.user)
    return client


@pytest.fixture
def charlie_client(charlie) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(charlie)
    return client


@pytest.fixture
def snapshot(db: None) -> None:
    """An engine snapshot trained on the demo cohort, as the nightly retrain would leave it."""
    demo_create(members=12, days=40, seed=3)
    with mock.patch("learners.tasks.engine_run_execute_task.delay"):
        run = engine_runs.engine_run_request(requested_by=None)
    with mock.patch("learners.tasks.recommendation_catch_up_task.delay"):
        engine_runs.engine_run_execute(run_id=run.pk)


@pytest.fixture
def dana(db: None) -> User:
    """An educator with a cohort of her own."""
    return educator("dana")


@pytest.fixture
def cohort(dana: User) -> Cohort:
    return CohortFactory(owner=dana, name="Biology 101")


@pytest.fixture
def dana_client(dana: User) -> Client:
    client = Client()
    client.force_login(dana)
    return client


@pytest.fixture(scope="session", autouse=True)
def _remove_test_queue() -> Iterator[None]:
    """Remove this run's file-system queue or Redis keys and its cache at the end; pytest-django
    removes the test database."""
    yield
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix")
    if prefix and settings.CELERY_BROKER_URL.startswith("redis"):
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    broker_dir = getattr(settings, "BROKER_DIR", None)
    if broker_dir is not None and broker_dir.name.startswith("test-broker-"):
        shutil.rmtree(broker_dir, ignore_errors=True)
    cache_dir = Path(settings.CACHES["default"]["LOCATION"])
    if cache_dir.name.startswith("test-cache-"):
        shutil.rmtree(cache_dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _english_between_tests() -> Iterator[None]:
    # A request in another language leaves it active in the thread; each test starts in English.
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Join-code failure counters and cached page parts live in the cache: one test's guesses must
    # not throttle the next, nor its pages show in another's (ids repeat between tests).
    cache.clear()
