"""PostgreSQL restarted under a running app: requests recover without restarting the app.

The test runs a PostgreSQL server of its own (initdb in a scratch folder, a free loopback port),
so restarting it disturbs no other database on the machine, and gunicorn in front of it as in
production. The web worker keeps its connection between requests (CONN_MAX_AGE); after the
restart that connection is dead, and CONN_HEALTH_CHECKS replaces it at the next request.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.pages_server import free_port, login

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "restart-test-password"


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Postgres:
    bin: Path
    data: Path
    port: int
    as_user: list[str]  # initdb and the server refuse to run as root: they run as postgres
    log: Path

    def start(self, command: str = "start") -> None:
        # Always with a log file: without one the server writes to pg_ctl's output, and holds it.
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.data}"
        self.ctl("-o", options, "-l", str(self.log), "-m", "fast", command)

    def ctl(self, *args: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args]
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/metacoach"


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    pg_bin = _pg_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    as_user: list[str] = []
    # Not under pytest's tmp_path, which only its owner can enter.
    folder = Path(tempfile.mkdtemp(prefix="metacoach-pg-"))
    data = folder / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        try:
            postgres_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        for path in (folder, data):
            os.chown(path, postgres_user.pw_uid, postgres_user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    initdb = [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run([*as_user, *initdb], check=True, capture_output=True, timeout=120)
    server = Postgres(pg_bin, data, free_port(), as_user, folder / "postgres.log")
    server.start()
    try:
        createdb = [str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
        subprocess.run([*createdb, "metacoach"], check=True, capture_output=True, timeout=60)
        yield server
    finally:
        server.ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class App:
    base_url: str
    process: subprocess.Popen[bytes]
    session: str


@pytest.fixture
def app(postgres: Postgres, tmp_path: Path, collected_static: Path) -> Iterator[App]:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DJANGO_DEBUG"}} | {
        "DJANGO_SETTINGS_MODULE": "coach.settings.local",
        "DATABASE_URL": postgres.url,
        "METACOACH_VAR_DIR": str(tmp_path / "var"),
    }
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    (tmp_path / "var").mkdir(exist_ok=True)
    (tmp_path / "var" / "staticfiles").symlink_to(collected_static)
    create = (
        "from django.contrib.auth.models import User; from learners.models import Learner; "
        f"Learner.objects.create(user=User.objects.create_user('ada', password={PASSWORD!r}))"
    )
    subprocess.run([*manage, "shell", "-c", create], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    # One worker, so every request meets the same kept connection.
    command = [str(BIN / "gunicorn"), "coach.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _status(base_url + "/accounts/login/") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield App(base_url, process, login(base_url, "ada", PASSWORD))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _status(url: str, session: str = "") -> int:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"} if session else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as answer:
        return int(answer.code)
    except urllib.error.URLError:
        return 0


def test_requests_recover_after_postgresql_restarts(postgres: Postgres, app: App) -> None:
    dashboard = app.base_url + "/"
    assert _status(dashboard, app.session) == 200
    assert _status(dashboard, app.session) == 200  # the worker now holds a connection

    postgres.start("restart")

    # The first request after the restart already gets a fresh connection: no error page.
    assert _status(dashboard, app.session) == 200
    assert _status(app.base_url + "/health/") in {200, 503}  # answers, whatever the broker says
    assert app.process.poll() is None  # the app was not restarted


def test_while_postgresql_is_down_pages_fail_cleanly_then_recover(postgres: Postgres, app: App) -> None:
    dashboard = app.base_url + "/"
    assert _status(dashboard, app.session) == 200

    postgres.ctl("-m", "fast", "stop")
    assert _status(app.base_url + "/health/") == 503  # the load balancer takes it out
    assert _status(dashboard, app.session) == 500  # the app's own error page, no hang

    postgres.start()
    assert _status(dashboard, app.session) == 200
    assert _status(app.base_url + "/health/") == 200
    assert app.process.poll() is None
