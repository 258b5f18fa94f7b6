"""Demo data for development: a simulated cohort so every page has something to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, Learner, Reflection, StudySession, TaskKind
from learners.services.cohorts import educator_grant

SUBJECTS = ["Biology", "Calculus", "History", "Spanish", "Programming"]
# Typical gain in points of each utility level, and how often students pick each strategy:
# rereading and highlighting dominate, as surveys of students find.
GAIN = {"high": 12.0, "moderate": 6.0, "low": 0.0}
HABIT = {"rereading": 5.0, "highlighting": 3.0, "summarization": 2.0, "practice-testing": 1.5}


@dataclass(frozen=True)
class DemoAccounts:
    learner: str
    educator: str
    cohort: str
    members: int


def demo_create(*, members: int = 12, days: int = 28, seed: int = 7) -> DemoAccounts:
    """Create (or re-create) the demo learner, the educator and a cohort of simulated learners."""
    rng = np.random.default_rng(seed)
    strategies = list(Strategy.objects.order_by("position"))
    with transaction.atomic():
        teacher = _user("teacher", "teacher")
        educator_grant(user=teacher)
        cohort, _ = Cohort.objects.get_or_create(
            join_code="DEMO2026", defaults={"name": "Demo cohort", "owner": teacher}
        )
        names = ["demo"] + [f"student{i:02d}" for i in range(1, members)]
        for name in names:
            learner, _ = Learner.objects.get_or_create(user=_user(name, name if name == "demo" else None))
            CohortMembership.objects.get_or_create(
                cohort=cohort, learner=learner, defaults={"share_reflections": True}
            )
            StudySession.objects.filter(learner=learner).delete()
            _sessions(learner, strategies, rng, days=days)
    return DemoAccounts(learner="demo", educator="teacher", cohort=cohort.name, members=len(names))


def _user(username: str, password: str | None) -> User:
    user, _ = get_user_model().objects.get_or_create(username=username)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def _sessions(learner: Learner, strategies: list[Strategy], rng: np.random.Generator, *, days: int) -> None:
    ability = rng.normal(60, 10)
    overconfidence = rng.normal(10, 8)
    habit = np.array([HABIT.get(s.slug, 0.7) for s in strategies])
    now = timezone.now()
    for day in range(days, 0, -1):
        if rng.random() > 0.55:
            continue
        strategy = strategies[rng.choice(len(strategies), p=habit / habit.sum())]
        score = float(np.clip(ability + GAIN[strategy.utility] + rng.normal(0, 10), 0, 100))
        session = StudySession.objects.create(
            learner=learner,
            subject=str(rng.choice(SUBJECTS)),
            task_kind=str(rng.choice(TaskKind.values)),
            strategy=strategy,
            started_at=now - timedelta(days=day, hours=float(rng.uniform(0, 10))),
            minutes=int(rng.integers(15, 90)),
            difficulty=int(rng.integers(1, 6)),
            confidence=int(np.clip(score + overconfidence + rng.normal(0, 8), 0, 100)),
            score=round(score),
            focus=int(rng.integers(2, 6)),
        )
        if rng.random() < 0.4:
            Reflection.objects.create(
                session=session, what_worked="Short breaks helped.", next_time="Quiz myself before rereading."
            )
