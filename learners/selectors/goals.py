"""Reads on a learner's goals: each subject's minutes this week against its goal, and its exam."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from learners.models import Learner, StudySession, SubjectGoal


@dataclass(frozen=True)
class GoalProgress:
    goal_id: int
    subject: str
    weekly_minutes: int
    minutes_this_week: int
    exam_date: date | None
    days_to_exam: int | None  # 0 on the day of the exam

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.minutes_this_week / self.weekly_minutes))

    @property
    def reached(self) -> bool:
        return self.minutes_this_week >= self.weekly_minutes


def goal_list(*, learner: Learner) -> list[SubjectGoal]:
    return list(SubjectGoal.objects.filter(learner=learner).order_by("subject"))


def goal_progress(*, learner: Learner, now: datetime | None = None) -> list[GoalProgress]:
    """Two queries whatever the number of goals and sessions; weeks run Monday to Sunday, local."""
    try:
        zone = zoneinfo.ZoneInfo(learner.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    today = timezone.localtime(now or timezone.now(), zone).date()
    monday = today - timedelta(days=today.weekday())
    goals = goal_list(learner=learner)
    if not goals:
        return []
    start = datetime.combine(monday, time.min, tzinfo=zone)
    end = datetime.combine(monday + timedelta(weeks=1), time.min, tzinfo=zone)
    minutes: dict[str, int] = defaultdict(int)
    rows = StudySession.objects.filter(learner=learner, started_at__gte=start, started_at__lt=end)
    for subject, session_minutes in rows.values_list("subject", "minutes"):
        minutes[subject.strip().casefold()] += session_minutes
    return [
        GoalProgress(
            goal_id=goal.pk,
            subject=goal.subject,
            weekly_minutes=goal.weekly_minutes,
            minutes_this_week=minutes[goal.subject.strip().casefold()],
            exam_date=goal.exam_date,
            days_to_exam=(goal.exam_date - today).days
            if goal.exam_date and goal.exam_date >= today
            else None,
        )
        for goal in goals
    ]


@dataclass(frozen=True)
class SubjectFigures:
    subject: str
    sessions: int
    minutes: int
    mean_score: float | None  # over scored sessions only
    scored: int


def subject_figures(*, learner: Learner) -> list[SubjectFigures]:
    """Per subject (case folded, named as last studied): sessions, minutes and mean score; one query."""
    groups: dict[str, dict[str, Any]] = {}
    rows = StudySession.objects.filter(learner=learner).order_by("started_at", "id")
    for subject, minutes, score in rows.values_list("subject", "minutes", "score"):
        group = groups.setdefault(subject.strip().casefold(), {"n": 0, "minutes": 0, "scores": []})
        group["subject"] = subject.strip()
        group["n"] += 1
        group["minutes"] += minutes
        if score is not None:
            group["scores"].append(score)
    figures = [
        SubjectFigures(
            subject=g["subject"],
            sessions=g["n"],
            minutes=g["minutes"],
            mean_score=sum(g["scores"]) / len(g["scores"]) if g["scores"] else None,
            scored=len(g["scores"]),
        )
        for g in groups.values()
    ]
    return sorted(figures, key=lambda f: (-f.minutes, f.subject.casefold()))
