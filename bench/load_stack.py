"""The production stack on loopback for the load bench (bench/load.py).

A scratch PostgreSQL database of a unique name, created on the server at `--postgres` and
dropped at the end, also when anything fails; a Redis database number of the bench's own
(13 by default), emptied with FLUSHDB before and after, as Celery's broker and Django's cache;
gunicorn and Celery workers under `coach.settings.production`, each in a process group of its
own, so that stopping a group stops the children it forked (gunicorn's workers, Celery's pool).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis
from psycopg import sql

from bench.pages_server import PYTHON, ROOT, local_environment

GUNICORN = PYTHON.parent / "gunicorn"
CELERY = PYTHON.parent / "celery"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
CONNECT_SECONDS = 3
STOP_SECONDS = 20.0


def unavailable(*, postgres_url: str, redis_url: str) -> str | None:
    """Why the stack cannot run here (a service that does not answer), or None."""
    try:
        psycopg.connect(postgres_url, connect_timeout=CONNECT_SECONDS).close()
    except psycopg.Error as exc:
        return f"skipped: PostgreSQL at {_where(postgres_url)} does not answer ({_first_line(exc)})"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=CONNECT_SECONDS).ping()
    except redis.RedisError as exc:
        return f"skipped: Redis at {_where(redis_url)} does not answer ({_first_line(exc)})"
    return None


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def scratch_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the server of `postgres_url` (a URL the server's superuser can
    connect with); yields its URL and drops it on exit, closing the connections left to it."""
    name = f"metacoach_load_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=CONNECT_SECONDS) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(postgres_url, autocommit=True, connect_timeout=CONNECT_SECONDS) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_redis(redis_url: str) -> Iterator[str]:
    """The Redis database of `redis_url`, emptied (FLUSHDB) before and after: the bench's own
    number, so no other database on the server is touched."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=CONNECT_SECONDS)
    client.flushdb()
    try:
        yield redis_url
    finally:
        client.flushdb()
        client.close()


def local_env(var_dir: Path, *, database_url: str, redis_url: str) -> dict[str, str]:
    """`make run`'s settings on the scratch database and broker: what `manage.py demo` needs."""
    return local_environment(var_dir) | {"DATABASE_URL": database_url, "CELERY_BROKER_URL": redis_url}


def production_env(var_dir: Path, *, database_url: str, redis_url: str, site_url: str) -> dict[str, str]:
    """The production settings with the scratch services, over plain HTTP on loopback: no HTTPS
    redirect and no HSTS. The cookies stay Secure, as in production; the load client sends them
    back by hand. Mail goes nowhere (the in-memory backend)."""
    return local_env(var_dir, database_url=database_url, redis_url=redis_url) | {
        "DJANGO_SETTINGS_MODULE": "coach.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "METACOACH_SITE_URL": site_url,
    }


def gunicorn_command(port: int, *, workers: int) -> list[str]:
    """Sync workers: see bench/load.py for why."""
    return [str(GUNICORN), "coach.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]


def worker_command(queue: str, *, concurrency: int, hostname: str) -> list[str]:
    """A Celery worker for one queue, as the production docs start them (README, Production)."""
    command = [str(CELERY), "-A", "coach", "worker", "--queues", queue, "--hostname", hostname]
    command += ["--concurrency", str(concurrency), "--loglevel", "WARNING"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    return command + (["--max-tasks-per-child", "1"] if queue == "engine" else [])


@contextlib.contextmanager
def process_group(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`command` in a new session (its own process group), its output in `log`; on exit the whole
    group gets SIGTERM, then SIGKILL if it has not gone within STOP_SECONDS."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader has gone; children it left behind would still hold the group.
        if not _group_alive(process.pid):
            return
    process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
