"""From the database to the engine's arrays: the one place that decides what the engine sees.

`session_log_build` turns study sessions into a `SessionLog`:

- learner  := Learner id
- strategy := the strategy's index in the catalogue (its rank by `Strategy.position`)
- outcome  := self-test score / 100; sessions without a score yet are left out
- context  := what is known before the session, `FEATURES` in order:
    the kind of task, one-hot (5 columns);
    difficulty, 1-5 scaled to 0-1;
    confidence before, 0-100 scaled to 0-1;
    the learner's latest metacognition self-report, one column per dimension, 1-5 scaled to
    0-1 (0.5, the scale's middle, when the learner has not filled one in);
    minutes planned, log-scaled (log(minutes) / log(600)).
  The self-report is the learner's latest profile, applied to all their sessions: the engine
  learns how people with such a profile fare, not how a profile changes.

`situation_context` builds the same rows for a situation a learner asks a recommendation for:
what the learner has not said yet (difficulty, confidence, minutes) is taken from their recent
sessions, or the install's for a learner with none, one row each.

`HISTORY_COLUMNS` are the columns that are also a reading of the learner: both learners use
their mean over a learner's sessions too (how confident someone usually is says something
about what they already know).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from coach.engine import SessionLog
from learners.models import Learner, StudySession, TaskKind
from learners.selfreport import DIMENSIONS

PROFILE_DIMENSIONS = tuple(DIMENSIONS)  # the self-report's dimensions, in its order
FEATURES = (
    *(f"task:{kind}" for kind in TaskKind.values),
    "difficulty",
    "confidence",
    *(f"profile:{dimension}" for dimension in PROFILE_DIMENSIONS),
    "minutes",
)
N_FEATURES = len(FEATURES)
HISTORY_COLUMNS = (FEATURES.index("confidence"),)
TYPICAL = {"difficulty": 3.0, "confidence": 60.0, "minutes": 30.0}  # a brand-new install's assumptions
RECENT_OWN = 20  # a learner's sessions their usual values are taken from
RECENT_INSTALL = 200  # the install's, for a learner with few or none
_LOG_MINUTES_MAX = math.log(600)


@dataclass(frozen=True)
class Situation:
    task_kind: str
    difficulty: float
    confidence: float
    minutes: float


def feature_row(situation: Situation, profile: dict[str, float] | None) -> np.ndarray:
    """One context row in `FEATURES` order."""
    row = np.zeros(N_FEATURES)
    kinds = TaskKind.values
    if situation.task_kind in kinds:
        row[kinds.index(situation.task_kind)] = 1.0
    k = len(kinds)
    row[k] = (situation.difficulty - 1.0) / 4.0
    row[k + 1] = situation.confidence / 100.0
    row[k + 2 : k + 2 + len(PROFILE_DIMENSIONS)] = profile_columns(profile)
    row[-1] = math.log(max(situation.minutes, 1.0)) / _LOG_MINUTES_MAX
    return row


def profile_columns(profile: dict[str, float] | None) -> np.ndarray:
    """The profile's part of a context row: each dimension 1-5 scaled to 0-1, the middle (0.5)
    where the learner has given no number."""
    values = [(profile or {}).get(dimension) for dimension in PROFILE_DIMENSIONS]
    return np.array([(float(v) - 1.0) / 4.0 if isinstance(v, (int, float)) else 0.5 for v in values])


CHUNK_ROWS = 20_000  # rows fetched from the database at a time
# learner id, strategy id, kind of task, difficulty, confidence, minutes, score (never None here)
_Row = tuple[int, int, str, int, int, int, int | None]


def session_log_build(*, strategy_ids: Sequence[int], learner_ids: Iterable[int] | None = None) -> SessionLog:
    """Scored sessions as a SessionLog, time-ordered within each learner.

    `strategy_ids` is the catalogue in engine order (index i = strategy_ids[i]); sessions with a
    strategy outside it are left out.

    Rows are streamed (`iterator`, CHUNK_ROWS at a time; a server-side cursor on PostgreSQL)
    into arrays allocated for the count beforehand, and each profile is read once per learner
    rather than once per session: millions of sessions cost their arrays' memory (about 150
    bytes a row), not a Python object per row and field.
    """
    index = {pk: i for i, pk in enumerate(strategy_ids)}
    sessions = StudySession.objects.filter(score__isnull=False, strategy_id__in=list(index))
    people = Learner.objects.all()
    if learner_ids is not None:
        wanted = list(learner_ids)
        sessions, people = sessions.filter(learner_id__in=wanted), people.filter(pk__in=wanted)
    columns = _Columns(sessions.count())
    rows = sessions.order_by("learner_id", "started_at", "id").values_list(
        "learner_id", "strategy_id", "task_kind", "difficulty", "confidence", "minutes", "score"
    )
    chunk: list[_Row] = []
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            columns.add(chunk, index)
            chunk = []
    columns.add(chunk, index)
    if not columns.n:
        return SessionLog.empty(N_FEATURES)
    return columns.log(profiles=dict(people.values_list("pk", "profile").iterator(chunk_size=CHUNK_ROWS)))


class _Columns:
    """A SessionLog's arrays, filled chunk by chunk; grown if rows arrive after the count."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.learner = np.zeros(capacity, dtype=np.int64)
        self.strategy = np.zeros(capacity, dtype=np.int64)
        self.context = np.zeros((capacity, N_FEATURES))
        self.outcome = np.zeros(capacity)

    def add(self, chunk: list[_Row], index: dict[int, int]) -> None:
        if not chunk:
            return
        m = len(chunk)
        if self.n + m > self.learner.shape[0]:
            self._grow(self.n + m)
        learner, strategy, kind, difficulty, confidence, minutes, score = zip(*chunk, strict=True)
        rows = slice(self.n, self.n + m)
        self.learner[rows] = learner
        self.strategy[rows] = [index[pk] for pk in strategy]
        self.outcome[rows] = np.asarray(score, dtype=np.float64) / 100.0
        context = self.context[rows]
        kinds = {value: i for i, value in enumerate(TaskKind.values)}
        k = len(kinds)
        context[:, :k] = 0.0
        found = [(r, kinds[v]) for r, v in enumerate(kind) if v in kinds]
        if found:
            at, column = zip(*found, strict=True)
            context[list(at), list(column)] = 1.0
        context[:, k] = (np.asarray(difficulty, dtype=np.float64) - 1.0) / 4.0
        context[:, k + 1] = np.asarray(confidence, dtype=np.float64) / 100.0
        context[:, -1] = np.log(np.maximum(np.asarray(minutes, dtype=np.float64), 1.0)) / _LOG_MINUTES_MAX
        self.n += m

    def _grow(self, needed: int) -> None:
        size = max(needed, 2 * self.learner.shape[0])
        self.learner = np.resize(self.learner, size)
        self.strategy = np.resize(self.strategy, size)
        self.outcome = np.resize(self.outcome, size)
        self.context = np.resize(self.context, (size, N_FEATURES))

    def log(self, *, profiles: dict[int, dict[str, float]]) -> SessionLog:
        """The arrays, with each learner's latest profile (`profiles`, by learner id) spread
        over their rows."""
        n = self.n
        learner, context = self.learner[:n], self.context[:n]
        ids, inverse = np.unique(learner, return_inverse=True)
        table = np.array([profile_columns(profiles.get(pk)) for pk in ids.tolist()])
        k = len(TaskKind.values)
        context[:, k + 2 : k + 2 + len(PROFILE_DIMENSIONS)] = table[inverse]
        return SessionLog(
            learner=learner, strategy=self.strategy[:n], context=context, outcome=self.outcome[:n]
        )


def typical_situation(*, learner: Learner, task_kind: str = "") -> Situation:
    """The learner's usual difficulty, confidence and minutes (medians of `_recent_sessions`),
    with the kind of task asked for, else their most frequent."""
    recent, kind = _recent_sessions(learner=learner, task_kind=task_kind)
    if not recent:
        return Situation(kind, TYPICAL["difficulty"], TYPICAL["confidence"], TYPICAL["minutes"])
    return Situation(
        task_kind=kind,
        difficulty=float(np.median([r[1] for r in recent])),
        confidence=float(np.median([r[2] for r in recent])),
        minutes=float(np.median([r[3] for r in recent])),
    )


def situation_context(*, learner: Learner, task_kind: str = "") -> tuple[Situation, np.ndarray]:
    """The learner's typical situation and its (RECENT_OWN or fewer, d) contexts: the difficulty,
    confidence and minutes of the learner's recent sessions, with the kind of task asked for and
    the learner's profile.

    What the learner will say before the next session is not known yet; predictions over these
    rows, mixed (`coach.engine.policy.predict_mixed`), carry that into the range instead of betting on
    one guessed value. A learner with few sessions has shown little of how much they vary, so
    the rows are topped up with how the install's learners vary around their own usual values,
    centred on this learner's; a learner with none gets the install's recent sessions.
    """
    situation = typical_situation(learner=learner, task_kind=task_kind)
    recent, kind = _recent_sessions(learner=learner, task_kind=task_kind)
    values = [(float(d), float(c), float(m)) for _, d, c, m in recent] or [
        (situation.difficulty, situation.confidence, situation.minutes)
    ]
    own = StudySession.objects.filter(learner=learner).exists()
    if own and len(values) < RECENT_OWN:
        centre = np.array([situation.difficulty, situation.confidence, situation.minutes])
        spread = _install_deviations(exclude=learner.pk)[: RECENT_OWN - len(values)]
        topped = np.clip(centre + spread, [1.0, 0.0, 1.0], [5.0, 100.0, 600.0])
        values += [tuple(row) for row in topped]
    rows = [feature_row(Situation(kind, d, c, m), learner.profile) for d, c, m in values]
    return situation, np.array(rows)


def _recent_sessions(
    *, learner: Learner, task_kind: str
) -> tuple[list[tuple[str, float, float, float]], str]:
    """(task kind, difficulty, confidence, minutes) of the learner's recent sessions of any kind,
    or of the install's for a learner with none (the engine reads confidence as a sign of what a
    learner knows, so a made-up value would move every prediction); and the kind to advise for."""
    columns = ("task_kind", "difficulty", "confidence", "minutes")
    recent = list(
        StudySession.objects.filter(learner=learner)
        .order_by("-started_at")
        .values_list(*columns)[:RECENT_OWN]
    )
    if recent:
        kinds = [r[0] for r in recent]
        return recent, task_kind or max(set(kinds), key=kinds.count)
    install = StudySession.objects.order_by("-pk").values_list(*columns)[:RECENT_INSTALL]
    return list(install), task_kind or TaskKind.UNDERSTAND


def _install_deviations(*, exclude: int) -> np.ndarray:
    """(n, 3) differences of other learners' recent sessions from their own medians (difficulty,
    confidence, minutes): how much one person varies from session to session."""
    rows = (
        StudySession.objects.exclude(learner_id=exclude)
        .order_by("-pk")
        .values_list("learner_id", "difficulty", "confidence", "minutes")[:RECENT_INSTALL]
    )
    by_learner: dict[int, list[tuple[float, float, float]]] = {}
    for learner_id, *values in rows:
        by_learner.setdefault(learner_id, []).append(tuple(float(v) for v in values))  # type: ignore[arg-type]
    deviations = [
        np.array(values) - np.median(values, axis=0) for values in by_learner.values() if len(values) >= 2
    ]
    return np.concatenate(deviations) if deviations else np.zeros((0, 3))
