"""`make run`'s process supervision for real: supervisord, the web server, a worker and beat.

The stack runs as `make run` starts it (local settings, SQLite and the file-system broker under a
fresh METACOACH_VAR_DIR, on a free port); a process killed with SIGKILL comes back while the
others keep working.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.worker import ROOT, wait_for

pytestmark = pytest.mark.slow

PROGRAMS = ("web", "worker", "worker-engine", "beat")


@dataclass(frozen=True)
class Stack:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    var_dir: Path
    log: Path
    url: str

    def pid(self, program: str) -> int:
        out = self._run("supervisorctl", "-c", "supervisord.conf", "pid", program, timeout=10, check=False)
        return int(out) if out.isdigit() else 0

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def send_task(self, name: str) -> str:
        """Queue a task on the stack's broker (its settings, its var dir) with `celery call`."""
        return self._run("celery", "-A", "coach", "call", name, timeout=60, check=True).splitlines()[-1]

    def _run(self, program: str, *args: str, timeout: float, check: bool) -> str:
        """One of the venv's commands, in the stack's environment; its output, stripped."""
        result = subprocess.run(
            [str(Path(sys.executable).parent / program), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )
        return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stack(tmp_path: Path, collected_static: Path) -> Iterator[Stack]:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "staticfiles").symlink_to(collected_static)
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        METACOACH_VAR_DIR=str(var_dir),
        PORT=str(port),
        DJANGO_SETTINGS_MODULE="coach.settings.local",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    # What `make run` does first: migrate, and the static files (collected once for the session).
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, timeout=120)
    log = tmp_path / "supervisord.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "supervisord"), "-c", "supervisord.conf"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(process, env, var_dir, log, f"http://127.0.0.1:{port}")
    try:
        assert wait_for(stack.answers, timeout=60), log.read_text()
        # Both workers: the learners' queue and the engine's.
        assert wait_for(lambda: log.read_bytes().count(b"ready.") >= 2, timeout=60), log.read_text()
        yield stack
    finally:
        if process.poll() is None:
            # supervisord starts each program in a process group of its own: asked to stop, it
            # stops them; killed outright, it would leave them running.
            pids = [stack.pid(program) for program in PROGRAMS]
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                for pid in [process.pid, *pids]:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                process.wait()


def test_killed_worker_is_restarted_while_the_web_keeps_serving_then_killed_web_returns(stack: Stack) -> None:
    worker = stack.pid("worker")
    web = stack.pid("web")
    assert worker and web

    os.kill(worker, signal.SIGKILL)
    assert wait_for(lambda: stack.pid("worker") not in {0, worker}, timeout=15), stack.log.read_text()
    assert stack.answers(), "the web app stopped answering when the worker died"
    assert stack.pid("web") == web
    # The new worker takes work from the broker.
    task_id = stack.send_task("learners.recommendation_catch_up")
    assert wait_for(lambda: f"[{task_id}] succeeded".encode() in stack.log.read_bytes(), timeout=30), (
        stack.log.read_text()
    )

    os.kill(web, signal.SIGKILL)
    assert wait_for(lambda: stack.pid("web") not in {0, web}, timeout=15), stack.log.read_text()
    assert wait_for(stack.answers, timeout=30), stack.log.read_text()
    assert stack.pid("worker") not in {0, worker}


def test_interrupt_stops_every_process(stack: Stack) -> None:
    pids = [stack.pid(program) for program in PROGRAMS]
    assert all(pids)
    # Ctrl-C in a terminal signals the whole foreground process group.
    os.killpg(stack.process.pid, signal.SIGINT)
    assert stack.process.wait(timeout=40) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
