"""The product path: what a learner is told, measured through the product's own code.

    python -m bench.product [--quick] [--out FILE]

The engine's figures say what the learners can do; this says what the card shows. On a scratch
SQLite database, simulated people go through the services a browser would call
(`selfreport_submit`, `session_create`), the engine is meta-trained by `engine_run_execute`,
and every recommendation is `recommendation_refresh`'s, read as the card reads it
(`Recommendation.chosen`: its expected score and 90% range).

The world (documented so the figures can be read): a person's true mean with strategy s is
ability + the utility gain of s (high 12, moderate 6, low 0 points) + a personal quirk of s
(sd 6), and a session scores that plus noise (sd 10), clipped to 0-100. Ability is N(60, 10)
moved by 3 points per step of the person's mean self-report answer above the middle. A fifth
answer "very much like me" to every statement and a tenth "not like me at all", the others
spread over the scale. A fifth of sessions last one minute (the study timer's shortest); the
others 15-90 minutes. Confidence before a session is the person's true mean with the strategy,
plus their overconfidence (N(8, 8)) and noise (sd 8): it cannot know the session's luck.
Between the measured points a person picks strategies by habit (rereading and highlighting
most); at a measured point k they follow the card, and its range is checked against the score
of that very session.

Two phases: cold start (new learners before any snapshot: the evidence path), then new learners
after the first retrain on a training cohort entered the same way. Regret is in true-mean
points against the person's best strategy; beside the shown strategy's stands the engine-level
choice for the same learner and situation (the model learner's top prediction, no exploration).
Celery is not involved: the services' enqueue calls do nothing, and the refresh whose card is
read at a measured point is called directly, as the worker's own code path is measured, not its
transport. The product's clock is a fixed one (`Clock`), so runs repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

GAIN = {"high": 12.0, "moderate": 6.0, "low": 0.0}
HABIT = {"rereading": 5.0, "highlighting": 3.0, "summarization": 2.0, "practice-testing": 1.5}
QUIRK_SD, NOISE_SD = 6.0, 10.0
FULL = {"n_train": 300, "train_sessions": 20, "n_cold": 100, "n_new": 300, "ks": (0, 1, 2, 5, 10, 20)}
QUICK = {"n_train": 40, "train_sessions": 12, "n_cold": 8, "n_new": 12, "ks": (0, 1, 5)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Metacoach product-path bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="where to write the results (JSON)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metacoach-product-") as scratch:
        os.environ["DJANGO_SETTINGS_MODULE"] = "coach.settings.test"
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/product.sqlite3"
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ["METACOACH_TEST_RUN_ID"] = f"product-{os.getpid()}"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        results = run(seed=args.seed, **(QUICK if args.quick else FULL))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results))
    return 0


def run(
    *, seed: int, n_train: int, train_sessions: int, n_cold: int, n_new: int, ks: tuple[int, ...]
) -> dict[str, Any]:
    from unittest import mock

    from coach.models import Strategy

    strategies = list(Strategy.objects.order_by("position"))
    rng = np.random.default_rng(seed)
    queued = [
        mock.patch("learners.tasks.recommendation_refresh_task.delay"),
        mock.patch("learners.tasks.recommendation_catch_up_task.delay"),
        mock.patch("learners.tasks.engine_run_execute_task.delay"),
        mock.patch("django.utils.timezone.now", Clock()),
    ]
    for patch in queued:
        patch.start()
    try:
        world = World(strategies, rng)
        cold = _phase(world, "cold", n_cold, ks, engine=False)
        for i in range(n_train):
            person = world.person(f"train{i}")
            for _ in range(train_sessions):
                world.log(person, world.habit())
        from learners.services import engine_runs

        run_row = engine_runs.engine_run_request(requested_by=None)
        finished = engine_runs.engine_run_execute(run_id=run_row.pk)
        if finished is None or finished.status != "succeeded":
            raise RuntimeError(f"the retrain did not succeed: {finished and finished.error}")
        engine = _phase(world, "new", n_new, ks, engine=True)
    finally:
        for patch in queued:
            patch.stop()
    return {
        "ks": list(ks),
        "sizes": {"n_train": n_train, "train_sessions": train_sessions, "n_cold": n_cold, "n_new": n_new},
        "cold": cold,
        "engine": engine,
    }


class Clock:
    """The product's clock during the run: it starts at `START` and moves a millisecond each time
    it is read. A recommendation's draws are seeded by its record's last change (`updated_at`),
    so with the wall clock two runs would explore differently; with this one they repeat."""

    START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.START + timedelta(milliseconds=self.reads)


class World:
    """Simulated people entered through the product's services."""

    def __init__(self, strategies: list[Any], rng: np.random.Generator) -> None:
        self.strategies = strategies
        self.rng = rng
        self.gain = np.array([GAIN[s.utility] for s in strategies])
        habit = np.array([HABIT.get(s.slug, 0.7) for s in strategies])
        self.habit_p = habit / habit.sum()
        self.day = 0

    def person(self, name: str) -> dict[str, Any]:
        from learners.selfreport import ITEM_KEYS
        from learners.services.selfreport import selfreport_submit
        from learners.services.sessions import learner_signup

        learner = learner_signup(username=name, password=None)  # type: ignore[arg-type]
        draw = self.rng.random()
        keys = sorted(ITEM_KEYS)
        if draw < 0.2:
            answers = dict.fromkeys(keys, 5)
        elif draw < 0.3:
            answers = dict.fromkeys(keys, 1)
        else:
            answers = {key: int(self.rng.integers(1, 6)) for key in keys}
        selfreport_submit(learner=learner, answers=answers)
        ability = self.rng.normal(60, 10) + 3.0 * (np.mean(list(answers.values())) - 3.0)
        mean = ability + self.gain + self.rng.normal(0, QUIRK_SD, len(self.strategies))
        return {"learner": learner, "mean": mean, "over": self.rng.normal(8, 8), "n": 0}

    def habit(self) -> int:
        return int(self.rng.choice(len(self.strategies), p=self.habit_p))

    def score(self, person: dict[str, Any], s: int) -> int:
        return round(float(np.clip(person["mean"][s] + self.rng.normal(0, NOISE_SD), 0, 100)))

    def log(self, person: dict[str, Any], s: int, score: int | None = None, task_kind: str = "") -> int:
        from django.utils import timezone

        from learners.models import TaskKind
        from learners.services.sessions import SessionInput, session_create

        score = self.score(person, s) if score is None else score
        self.day += 1
        minutes = 1 if self.rng.random() < 0.2 else int(self.rng.integers(15, 91))
        # Confidence is stated before the session: it knows the person, not this session's luck.
        confidence = int(np.clip(person["mean"][s] + person["over"] + self.rng.normal(0, 8), 0, 100))
        data = SessionInput(
            subject="Biology",
            task_kind=task_kind or str(self.rng.choice(TaskKind.values)),
            strategy=self.strategies[s],
            started_at=timezone.now() - timedelta(days=400) + timedelta(minutes=self.day),
            minutes=minutes,
            difficulty=int(self.rng.integers(1, 6)),
            confidence=confidence,
            score=score,
            focus=int(self.rng.integers(2, 6)),
        )
        session_create(learner=person["learner"], data=data)
        person["n"] += 1
        return score


def _phase(world: World, prefix: str, n: int, ks: tuple[int, ...], *, engine: bool) -> dict[str, Any]:
    rows: dict[int, list[dict[str, float]]] = {k: [] for k in ks}
    for i in range(n):
        person = world.person(f"{prefix}{i}")
        for k in ks:
            while person["n"] < k:
                world.log(person, world.habit())
            rows[k].append(_measure(world, person, engine=engine))
    return {str(k): _summary(rows[k], world.rng) for k in ks}


def _measure(world: World, person: dict[str, Any], *, engine: bool) -> dict[str, float]:
    """One recommendation as the card shows it, and the session that follows it."""
    from learners.models import TaskKind
    from learners.services.recommendations import recommendation_refresh

    task_kind = str(world.rng.choice(TaskKind.values))
    learner = person["learner"]
    shown = recommendation_refresh(learner_id=learner.pk, subject="", task_kind=task_kind)
    assert shown is not None and shown.chosen is not None
    chosen = shown.chosen
    s = next(i for i, strategy in enumerate(world.strategies) if strategy.slug == chosen.slug)
    best = float(person["mean"].max())
    if engine:
        top = _engine_choice(learner, task_kind, world)
    else:  # before a snapshot the evidence's own first choice
        top = next(i for i, strategy in enumerate(world.strategies) if strategy.slug == shown.ranked[0].slug)
    score = world.log(person, s, task_kind=task_kind)
    return {
        "covered": float(chosen.low <= score <= chosen.high),
        "width": chosen.high - chosen.low,
        "regret": best - float(person["mean"][s]),
        "regret_engine": best - float(person["mean"][top]),
        "explored": float(shown.exploration),
        "price": float(shown.ranked[0].expected - chosen.expected),
    }


def _engine_choice(learner: Any, task_kind: str, world: World) -> int:
    """The model learner's top strategy for the same history and situation, without exploration."""
    from coach.advice import predict_mixed
    from coach.snapshots import snapshot_current
    from learners import dataset

    snapshot = snapshot_current()
    assert snapshot is not None
    history = dataset.session_log_build(
        strategy_ids=[s.pk for s in world.strategies], learner_ids=[learner.pk]
    )
    # The measured session is logged after this call, so the history is the one the card saw.
    _, context = dataset.situation_context(learner=learner, task_kind=task_kind)
    mean, _, _ = predict_mixed(snapshot.ranking, history, context)
    return int(np.argmax(mean[0]))


def _summary(rows: list[dict[str, float]], rng: np.random.Generator) -> dict[str, Any]:
    def column(key: str) -> np.ndarray:
        return np.array([row[key] for row in rows])

    width, explored = column("width"), column("explored")
    diff = column("regret") - column("regret_engine")
    draws = rng.integers(0, len(diff), size=(1000, len(diff)))
    return {
        "n": len(rows),
        "coverage": float(column("covered").mean()),
        "width_median": float(np.median(width)),
        "width_p95": float(np.percentile(width, 95)),
        "width_max": float(width.max()),
        "regret": float(column("regret").mean()),
        "regret_engine": float(column("regret_engine").mean()),
        "regret_diff_ci95": [float(v) for v in np.percentile(diff[draws].mean(axis=1), [2.5, 97.5])],
        "explore_share": float(explored.mean()),
        "explore_price": float(column("price")[explored > 0].mean()) if explored.any() else 0.0,
    }


if __name__ == "__main__":
    sys.exit(main())
