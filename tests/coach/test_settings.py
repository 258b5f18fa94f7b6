"""Production settings refuse to start without their variables and pass Django's deploy checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "coach.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "metacoach.example.org",
    "DATABASE_URL": "postgres://metacoach:secret@127.0.0.1:5432/metacoach",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "METACOACH_SITE_URL": "https://metacoach.example.org",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "METACOACH_", "PYTEST_XDIST_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_check_is_clean_with_every_variable_set() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "METACOACH_SITE_URL"],
)
def test_start_up_fails_naming_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_sqlite() -> None:
    result = manage("check", env={**PRODUCTION, "DATABASE_URL": "sqlite:///tmp/x.sqlite3"})
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_a_mistyped_boolean_fails_at_start() -> None:
    result = manage("check", env={**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "flase"})
    assert result.returncode != 0
    assert "DJANGO_SECURE_SSL_REDIRECT" in result.stderr


def test_production_sets_the_security_headers_and_cookie_flags() -> None:
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, 'csrf_js': s.CSRF_COOKIE_HTTPONLY,"
        "'language': s.LANGUAGE_COOKIE_SECURE, 'session_js': s.SESSION_COOKIE_HTTPONLY,"
        "'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT, 'frame': s.X_FRAME_OPTIONS,"
        "'nosniff': s.SECURE_CONTENT_TYPE_NOSNIFF, 'referrer': s.SECURE_REFERRER_POLICY,"
        "'opener': s.SECURE_CROSS_ORIGIN_OPENER_POLICY,"
        "'script': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']}))"
    )
    result = manage("shell", "-c", script, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "session": True,
        "csrf": True,
        "csrf_js": True,
        "language": True,
        "session_js": True,
        "hsts": 31536000,
        "redirect": True,
        "frame": "DENY",
        "nosniff": True,
        "referrer": "same-origin",
        "opener": "same-origin",
        "script": ["'self'"],
    }


def _test_settings(worker: str, broker: str) -> dict[str, str]:
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'database': s.DATABASES['default'].get('TEST', {}).get('NAME', ''),"
        "'cache': s.CACHES['default']['LOCATION'],"
        "'broker': json.dumps(s.CELERY_BROKER_TRANSPORT_OPTIONS)}))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "coach.settings.test", "METACOACH_TEST_RUN_ID": "run7"}
    env |= {"PYTEST_XDIST_WORKER": worker} if worker else {}
    env |= {"CELERY_BROKER_URL": broker} if broker else {}
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # after the start-up log line


@pytest.mark.parametrize("broker", ["", "redis://127.0.0.1:6379/15"])
def test_each_test_process_has_a_database_queue_and_cache_of_its_own(broker: str) -> None:
    """make test runs the suite in two processes (pytest-xdist), each starting Celery workers:
    neither may read the other's database, tasks or cached pages."""
    gw0, gw1, alone = (_test_settings(worker, broker) for worker in ("gw0", "gw1", ""))
    for key in ("database", "cache", "broker"):
        assert len({gw0[key], gw1[key], alone[key]}) == 3, key
    assert "run7-gw1" in gw1["cache"]
    if broker:
        assert "metacoach-test-run7-gw1:" in gw1["broker"]
