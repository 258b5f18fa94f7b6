"""What the tests that start the app as `make run` does share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker import ROOT


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`manage.py collectstatic` once for the session: it compresses every file (most of a minute
    of CPU), and what it writes is the same for every test; each links it into its own var dir."""
    var_dir = tmp_path_factory.mktemp("static")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}} | {
        "DJANGO_SETTINGS_MODULE": "coach.settings.local",
        "METACOACH_VAR_DIR": str(var_dir),
    }
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return var_dir / "staticfiles"
