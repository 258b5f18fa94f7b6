"""The product as `make run` starts it, on a scratch var/ with the demo data, for the pages bench.

`migrate`, `collectstatic --noinput`, `demo`, then `runserver 127.0.0.1:<free port> --noreload`
under `coach.settings.local`, with METACOACH_VAR_DIR a temporary folder: the developer's var/,
database and broker are never touched. Optionally a Celery worker first runs the engine run that
`demo` queues and the demo learner's recommendation, and is stopped before anything is measured,
so the pages show what a demo shows once its worker has caught up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
CELERY = PYTHON.parent / "celery"
LOGIN_PATH = "/accounts/login/"
# What `demo` creates (learners/demo.py): the accounts' passwords are their names.
LEARNER, EDUCATOR, COHORT = "demo", "teacher", "Demo cohort"
READY_TIMEOUT = 60.0
WORKER_TIMEOUT = 120.0

# The ids the page URLs need, read from the scratch database once the demo is loaded.
_IDS = f"""
import json
from coach.models import EngineRun
from learners.models import Cohort, Learner
cohort = Cohort.objects.get(name={COHORT!r})
member = Learner.objects.get(user__username={LEARNER!r})
run = EngineRun.objects.order_by("-pk").values_list("pk", flat=True).first()
print("IDS " + json.dumps({{"cohort": cohort.pk, "member": member.pk, "run": run}}))
"""


@dataclass(frozen=True)
class DemoIds:
    cohort: int
    member: int
    run: int | None


@dataclass(frozen=True)
class Server:
    base_url: str
    port: int
    var_dir: Path
    ids: DemoIds
    sessions: dict[str, str]  # username -> sessionid cookie
    worker: str  # what happened to the demo's queued engine run, for the output


def local_environment(var_dir: Path) -> dict[str, str]:
    """make run's environment on a scratch var/: SQLite and the file-system broker under it, and
    none of the developer's overrides (a DATABASE_URL would point the bench at their data)."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG"}
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "coach.settings.local",
        "METACOACH_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"manage.py {args[0]} failed: {last}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], log: Path, name: str = "runserver") -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.returncode}: {log_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + LOGIN_PATH, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} did not answer within {READY_TIMEOUT:g} s: {log_tail(log)}")


def log_tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def login(base_url: str, username: str, password: str) -> str:
    """Log in through the login form, as a browser does (CSRF cookie and token); the session id.
    The redirect after it is not followed: where a login lands is another page's business."""
    return login_cookies(base_url, username, password)["sessionid"]


def login_cookies(base_url: str, username: str, password: str) -> dict[str, str]:
    """`login`, returning every cookie the server set (session id, the CSRF cookie rotated at
    login). Cookies marked Secure, as production sets them, are sent back over loopback's plain
    HTTP too, where a browser's policy (and the standard library's by default) would keep them."""
    policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    jar = http.cookiejar.CookieJar(policy)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(base_url + LOGIN_PATH, timeout=30) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    request = urllib.request.Request(
        base_url + LOGIN_PATH,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": base_url + LOGIN_PATH},
    )
    try:
        opener.open(request, timeout=30).close()
    except urllib.error.HTTPError as answer:  # the 302 that a successful login answers
        if answer.code != 302:
            raise
    cookies = {c.name: c.value for c in jar if c.value is not None}
    if not cookies.get("sessionid"):
        raise RuntimeError(f"logging in as {username} did not start a session")
    return cookies


def get_json(base_url: str, path: str, session: str) -> dict[str, object]:
    request = urllib.request.Request(
        base_url + path, headers={"Cookie": f"sessionid={session}", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def _caught_up(server: Server) -> bool:
    """The engine run has finished, the demo learner's recommendation is shown, nothing is queued."""
    if server.ids.run is not None:
        run = get_json(
            server.base_url, f"/educator/engine/runs/{server.ids.run}/status/", server.sessions[EDUCATOR]
        )
        if run.get("active", True):
            return False
    if not get_json(server.base_url, "/recommendation/status/", server.sessions[LEARNER]).get("ready"):
        return False
    queue = server.var_dir / "broker" / "queue"
    return not any(queue.iterdir()) if queue.exists() else True


def _run_worker(server: Server, env: dict[str, str], log: Path) -> str:
    """One worker for both of supervisord.conf's queues (without beat: no periodic work while
    measuring), until the demo has caught up; then it is stopped."""
    command = [
        str(CELERY),
        "-A",
        "coach",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "2",
        "--queues",
        "celery,engine,low",
        "--loglevel",
        "INFO",
    ]
    tic = time.monotonic()
    with log.open("wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            # The dashboard's first visit asks for the learner's recommendation.
            urllib.request.urlopen(
                urllib.request.Request(
                    server.base_url + "/", headers={"Cookie": f"sessionid={server.sessions[LEARNER]}"}
                ),
                timeout=60,
            ).close()
            while not _caught_up(server):
                if worker.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited with {worker.returncode}: {log_tail(log)}")
                if time.monotonic() - tic > WORKER_TIMEOUT:
                    raise RuntimeError(
                        f"the worker had not caught up after {WORKER_TIMEOUT:g} s: {log_tail(log)}"
                    )
                time.sleep(0.5)
        finally:
            _stop(worker)
    seconds = time.monotonic() - tic
    return f"run by a Celery worker with the recommendations ({seconds:.0f} s), stopped before measuring"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def product_server(*, worker: bool = True) -> Iterator[Server]:
    """The server with the demo loaded and both demo accounts logged in; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="metacoach-pages-") as scratch:
        var_dir = Path(scratch)
        env = local_environment(var_dir)
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "demo")
        found = re.search(r"^IDS (.*)$", manage(env, "shell", "--no-imports", "-c", _IDS), re.MULTILINE)
        if found is None:
            raise RuntimeError("could not read the demo cohort's ids")
        ids = DemoIds(**json.loads(found.group(1)))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = var_dir / "runserver.log"
        command = [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_up(base_url, process, log)
            sessions = {name: login(base_url, name, name) for name in (LEARNER, EDUCATOR)}
            skipped = "skipped: left queued, so the pages show advice from the evidence"
            server = Server(base_url, port, var_dir, ids, sessions, skipped)
            if worker:
                done = _run_worker(server, env, var_dir / "worker.log")
                server = dataclasses.replace(server, worker=done)
            yield server
        finally:
            _stop(process)
