"""Filling a scratch PostgreSQL database with simulated learners by COPY, for the scale bench.

Learners come from the engine's simulator (`coach.engine.simulate`, the "families" design), drawn
in chunks so the fill holds one chunk's arrays at a time. Each simulated session becomes a
`StudySession` row as the log form would store it: the kind of task; difficulty 1-5 from the
simulator's 0-1; confidence 0-100 from its 1-5 rating; minutes from its hours; the self-test
score in whole points; strategies in catalogue order (`Strategy.position`). The simulator's three
self-reported traits become the first three dimensions of the learner's self-report profile
(1-5 around the middle), the other two the middle. Sessions are a day or two apart, the last a
day ago. Users, learners and sessions are written with psycopg's `cursor.copy` (CSV), without
the ORM: the rows are what the product's models hold, but nothing is validated on the way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import psycopg

from coach.engine.simulate import Population, make_population

TASK_KINDS = ("memorise", "understand", "solve", "practise", "write")  # the simulator's order
PROFILE_KEYS = ("planning", "monitoring", "evaluating", "debugging", "information")
CHUNK_LEARNERS = 5000
SESSION_COLUMNS = (
    "learner_id, subject, task_kind, strategy_id, started_at, minutes, difficulty, confidence, score, "
    "focus, notes, created_at, updated_at"
)
SUBJECTS = ("Biology", "Calculus", "History", "Spanish", "Programming")


def fill(
    database_url: str, *, learners: int, sessions: int, heavy_sessions: int, seed: int = 0
) -> tuple[int, int, int]:
    """`learners` simulated learners with `sessions` scored sessions each, and one more with
    `heavy_sessions`; returns (learners, sessions, the heavy learner's id)."""
    rng = np.random.default_rng(seed)
    population = make_population(learners + 1, rng)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        strategies = [row[0] for row in cursor.execute("SELECT id FROM coach_strategy ORDER BY position, id")]
        first = _next_id(cursor, "auth_user")
        n_rows = 0
        for start in range(0, learners + 1, CHUNK_LEARNERS):
            ids = np.arange(start, min(start + CHUNK_LEARNERS, learners + 1))
            _copy_people(cursor, first, ids, population.profile[ids], now)
            plain = ids[ids < learners]
            if plain.size:
                n_rows += _copy_sessions(cursor, first, population, plain, sessions, strategies, now, rng)
        n_rows += _copy_sessions(
            cursor, first, population, np.array([learners]), heavy_sessions, strategies, now, rng
        )
        for table in ("auth_user", "learners_learner"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        connection.commit()
        connection.autocommit = True
        cursor.execute("ANALYZE")
    return learners + 1, n_rows, first + learners


def _next_id(cursor: psycopg.Cursor[tuple[int]], table: str) -> int:
    row = cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()
    return int(row[0]) if row else 1


def _copy_people(
    cursor: psycopg.Cursor[tuple[int]], first: int, ids: np.ndarray, traits: np.ndarray, now: datetime
) -> None:
    """A user and a learner per simulated person; learner id = user id = first + index."""
    joined = now.isoformat()
    users = io.StringIO()
    learners = io.StringIO()
    reported = np.clip(np.rint(4 * (3.0 + traits / (1.0 + traits.std(axis=0)))) / 4, 1.0, 5.0)
    for index, row in zip(ids.tolist(), reported.tolist(), strict=True):
        pk = first + index
        users.write(f'{pk},scale{index:06d},!,f,f,t,"","",scale{index:06d}@example.org,{joined}\n')
        profile = dict(zip(PROFILE_KEYS, [*row, 3.0, 3.0], strict=True))
        profile_csv = json.dumps(profile).replace('"', '""')
        learners.write(f'{pk},{pk},UTC,{joined},"","{profile_csv}","",[],{joined},f,18:00\n')
    with cursor.copy(
        "COPY auth_user (id, username, password, is_superuser, is_staff, is_active, first_name, last_name, "
        "email, date_joined) FROM STDIN (FORMAT csv)"
    ) as copy:
        copy.write(users.getvalue())
    with cursor.copy(
        "COPY learners_learner (id, user_id, timezone, email_verified_at, goals, profile, language, "
        "dismissed_nudges, created_at, reminder_enabled, reminder_time) FROM STDIN (FORMAT csv)"
    ) as copy:
        copy.write(learners.getvalue())


def _copy_sessions(
    cursor: psycopg.Cursor[tuple[int]],
    first: int,
    population: Population,
    ids: np.ndarray,
    n_sessions: int,
    strategies: list[int],
    now: datetime,
    rng: np.random.Generator,
) -> int:
    log = population.sessions(ids, n_sessions, rng)
    m = len(log)
    context = log.context
    kind = context[:, :5].argmax(axis=1)
    difficulty = np.rint(1 + 4 * context[:, 5]).astype(int)
    confidence = np.rint(100 * context[:, 6]).astype(int)
    minutes = np.clip(np.rint(60 * context[:, 10]), 1, 600).astype(int)
    score = np.rint(100 * log.outcome).astype(int)
    # Per learner, sessions from oldest to newest, 1-2 days apart, the newest a day ago.
    order = np.tile(np.arange(n_sessions)[::-1], ids.size)
    hours = 24 + order * 36 + rng.uniform(0, 12, m)
    text = "".join(
        _session_lines(
            first,
            log.learner,
            kind,
            log.strategy,
            strategies,
            hours,
            now,
            difficulty,
            confidence,
            minutes,
            score,
        )
    )
    with cursor.copy(f"COPY learners_studysession ({SESSION_COLUMNS}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(text)
    return m


def _session_lines(
    first: int,
    learner: np.ndarray,
    kind: np.ndarray,
    strategy: np.ndarray,
    strategies: list[int],
    hours: np.ndarray,
    now: datetime,
    *columns: np.ndarray,
) -> Iterator[str]:
    stamp = now.isoformat()
    starts = (np.datetime64(now.replace(tzinfo=None)) - (hours * 3600).astype("timedelta64[s]")).astype(str)
    for pk, k, s, start, difficulty, confidence, minutes, score in zip(
        (learner + first).tolist(),
        kind.tolist(),
        strategy.tolist(),
        starts.tolist(),
        *(c.tolist() for c in columns),
        strict=True,
    ):
        yield (
            f"{pk},{SUBJECTS[pk % len(SUBJECTS)]},{TASK_KINDS[k]},{strategies[s]},{start}+00,{minutes},"
            f'{difficulty},{confidence},{score},3,"",{stamp},{stamp}\n'
        )
