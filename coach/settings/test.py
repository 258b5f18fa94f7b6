"""Tests: the real Celery path (no eager mode); SQLite files under var/ unless DATABASE_URL is set."""

import os

from coach.settings.base import *  # noqa: F403
from coach.settings.base import VAR_DIR
from coach.settings.env import env

DEBUG = False
SECRET_KEY = "test-key-only-for-the-test-suite"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only

# One file per pytest-xdist worker, so a Celery worker process can open the same test database.
_suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
