"""Tests: the real Celery path (no eager mode); SQLite files under var/ unless DATABASE_URL is set."""

import os

from coach.settings.base import *  # noqa: F403
from coach.settings.base import VAR_DIR
from coach.settings.env import env

DEBUG = False
SECRET_KEY = "test-key-only-for-the-test-suite"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only

# A database file, a queue and a cache per test run, and per pytest-xdist process within it,
# shared with the Celery worker processes each starts (they inherit both ids from the
# environment), so concurrent runs on one machine, and a run's own processes, never meet.
_suffix = os.environ.setdefault("METACOACH_TEST_RUN_ID", str(os.getpid()))
if os.environ.get("PYTEST_XDIST_WORKER"):
    _suffix = f"{_suffix}-{os.environ['PYTEST_XDIST_WORKER']}"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_suffix}.sqlite3")}  # noqa: F405

if not env.str("CELERY_BROKER_URL", default=""):
    BROKER_DIR = VAR_DIR / f"test-broker-{_suffix}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # One Redis database for every process of every run: each keeps to keys of its own.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"metacoach-test-{_suffix}:",
    }
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / f"test-cache-{_suffix}"),
    }
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The API's request budget is tested on its own (tests/learners/api/test_errors_api.py); the
# schema tests send hundreds of requests a minute with one token.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"}}  # noqa: F405

# Playwright's sync API runs an event loop in the test thread while the live server answers it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Tests never run collectstatic: whitenoise looks files up per request instead of at start.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
