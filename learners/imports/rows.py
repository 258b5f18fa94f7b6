"""What an import will save, one row per session, kept as JSON on the job between reading and saving."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils.functional import Promise


class ImportProblem(Exception):
    """A file that cannot be imported, with the message the learner sees (already translated)."""

    def __init__(self, message: str | Promise, *, details: list[str] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        # One line per bad row of a CSV file, each naming its line number.
        self.details = details or []


@dataclass(frozen=True)
class ReflectionRow:
    plan: str = ""
    monitor: str = ""
    evaluate: str = ""
    what_worked: str = ""
    next_time: str = ""
    kept_previous_plan: bool | None = None

    def is_empty(self) -> bool:
        return not any(vars(self).values()) and self.kept_previous_plan is None


@dataclass(frozen=True)
class ImportRow:
    """One session to create, its fields as the model names them, and where it came from."""

    key: str  # StudySession.import_key
    started_at: datetime  # aware
    day: date  # the learner's local date of `started_at`
    subject: str
    task_kind: str
    strategy: str  # the strategy's slug
    minutes: int
    difficulty: int
    confidence: int
    score: int | None
    focus: int
    notes: str = ""
    reviews: int | None = None  # Anki: the reviews the session was made from
    line: int | None = None  # CSV: the line of the file
    reflection: ReflectionRow = field(default_factory=ReflectionRow)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["day"] = self.day.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportRow:
        values = {name: value for name, value in data.items() if name in cls.__dataclass_fields__}
        values["started_at"] = datetime.fromisoformat(data["started_at"])
        values["day"] = date.fromisoformat(data["day"])
        values["reflection"] = ReflectionRow(**data.get("reflection") or {})
        return cls(**values)
