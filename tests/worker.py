"""A real `celery worker` process for tests, on the same database and broker as the test run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url(config: dict[str, Any]) -> str:
    """The URL of the database the test run is using right now (the test database, not the base name)."""
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(config['NAME']).resolve()}"
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = f"{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{config['NAME']}"


def purge_filesystem_broker() -> None:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "control_folder"):
        if key in options:
            shutil.rmtree(options[key], ignore_errors=True)
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@contextmanager
def celery_worker(log_path: Path, *, timeout: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    # Messages left by earlier tests would run against this test's data: start from an empty queue.
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        purge_filesystem_broker()
    else:
        from coach.celery import app

        app.control.purge()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coach.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "coach",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
        # Every queue, so that a test's retrain and dashboard build run here too.
        "--queues",
        f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.ENGINE_QUEUE},{settings.LOW_QUEUE}",
        "--hostname",
        f"test-{os.getpid()}@%h",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"ready." in log_path.read_bytes() or process.poll() is not None, timeout=timeout)
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log_path.read_text()}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Any, *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
