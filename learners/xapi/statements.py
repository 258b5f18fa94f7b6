"""Statements built from plain rows; the same row always gives the same statement, id included.

Identity: the actor is an account on this instance (`homePage` is `XAPI_BASE_URL`), named by a
UUID derived from the learner's id — stable, and neither their e-mail address nor their name.

Ids: a uuid5 in the instance's namespace over the kind, the row's id, its revision (when it was
last saved) and a digest of the statement's content. Sending a statement again therefore never
duplicates it (the learning record store already has that id), and a changed statement — the
session edited, or free text present for one reader and not for another — is a new statement with
a new id, never a second version of an id, which xAPI forbids (statements are immutable). The
sending service voids the statement an edit or a deletion supersedes (`voiding_statement`); the
revision keeps an edit that puts the old values back from reusing an id already voided.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from learners.xapi.vocabulary import COMMENTED, COMPLETED, VOIDED, XAPI_VERSION, extension_iri

Statement = dict[str, Any]
PLATFORM = "Metacoach"
# The reflection prompts, in the order the form asks them (`what_worked` is from older forms).
REFLECTION_FIELDS = ("plan", "monitor", "evaluate", "what_worked", "next_time")


@dataclass(frozen=True)
class ReflectionRow:
    created_at: datetime
    revision: datetime
    # The answers by prompt; None when the reader may not read the learner's free text.
    answers: dict[str, str] | None
    kept_previous_plan: bool | None


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    revision: datetime
    learner_id: int
    subject: str
    task_kind: str
    strategy: str
    recommended_strategy: str | None
    started_at: datetime
    minutes: int
    difficulty: int
    confidence: int
    score: int | None
    focus: int
    # None when the reader may not read the learner's free text.
    notes: str | None
    reflection: ReflectionRow | None


def namespace(base_url: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, base_url)


def agent(*, base_url: str, learner_id: int) -> Statement:
    name = uuid.uuid5(namespace(base_url), f"learner:{learner_id}")
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": str(name)}}


def subject_activity(*, base_url: str, subject: str) -> Statement:
    # One activity per subject name on the instance, whoever studies it; the IRI holds a digest, so
    # it stays a valid IRI whatever the subject's characters.
    key = hashlib.sha256(subject.strip().casefold().encode()).hexdigest()[:20]
    return {
        "objectType": "Activity",
        "id": f"{base_url}/xapi/activities/subject/{key}",
        # "und": the subject is in whatever language the learner wrote it.
        "definition": {"name": {"und": subject}},
    }


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(minutes: int) -> str:
    """ISO 8601, as xAPI asks: 45 -> PT45M, 90 -> PT1H30M."""
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")


def _with_id(*, base_url: str, kind: str, key: object, body: Statement) -> Statement:
    digest = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    statement_id = uuid.uuid5(namespace(base_url), f"{kind}:{key}:{digest}")
    return {"id": str(statement_id), **body}


def session_statement(row: SessionRow, *, base_url: str) -> Statement:
    result: Statement = {"completion": True, "duration": duration(row.minutes)}
    if row.score is not None:
        result["score"] = {"scaled": row.score / 100, "raw": row.score, "min": 0, "max": 100}
    if row.notes:
        result["response"] = row.notes
    extensions: Statement = {
        extension_iri(base_url, "strategy"): row.strategy,
        extension_iri(base_url, "confidence-before"): row.confidence,
        extension_iri(base_url, "task-kind"): row.task_kind,
        extension_iri(base_url, "difficulty"): row.difficulty,
        extension_iri(base_url, "focus"): row.focus,
    }
    if row.recommended_strategy:
        extensions[extension_iri(base_url, "recommended-strategy")] = row.recommended_strategy
    body = {
        "actor": agent(base_url=base_url, learner_id=row.learner_id),
        "verb": COMPLETED.as_json(),
        "object": subject_activity(base_url=base_url, subject=row.subject),
        "result": result,
        "context": {"platform": PLATFORM, "extensions": extensions},
        "timestamp": timestamp(row.started_at),
        "version": XAPI_VERSION,
    }
    key = f"{row.session_id}:{row.revision.isoformat()}"
    return _with_id(base_url=base_url, kind="session", key=key, body=body)


def reflection_statement(row: SessionRow, *, base_url: str, session_statement_id: str) -> Statement | None:
    """The learner's reflection on the session, pointing at the session's statement; None when the
    reader would get nothing from it (no text they may read, no answer on the previous plan)."""
    reflection = row.reflection
    if reflection is None:
        return None
    answers = {k: v for k, v in (reflection.answers or {}).items() if v}
    result: Statement = {}
    extensions: Statement = {}
    if answers:
        result["response"] = "\n\n".join(answers[k] for k in REFLECTION_FIELDS if k in answers)
        extensions[extension_iri(base_url, "reflection")] = answers
    if reflection.kept_previous_plan is not None:
        extensions[extension_iri(base_url, "kept-previous-plan")] = reflection.kept_previous_plan
    if not extensions:
        return None
    result["extensions"] = extensions
    body = {
        "actor": agent(base_url=base_url, learner_id=row.learner_id),
        "verb": COMMENTED.as_json(),
        "object": subject_activity(base_url=base_url, subject=row.subject),
        "result": result,
        "context": {
            "platform": PLATFORM,
            "statement": {"objectType": "StatementRef", "id": session_statement_id},
        },
        "timestamp": timestamp(reflection.created_at),
        "version": XAPI_VERSION,
    }
    key = f"{row.session_id}:{reflection.revision.isoformat()}"
    return _with_id(base_url=base_url, kind="reflection", key=key, body=body)


def session_statements(row: SessionRow, *, base_url: str) -> list[Statement]:
    """The session's statement, then its reflection's when there is one for this reader."""
    session = session_statement(row, base_url=base_url)
    reflection = reflection_statement(row, base_url=base_url, session_statement_id=session["id"])
    return [session] if reflection is None else [session, reflection]


def voiding_statement(*, base_url: str, learner_id: int, statement_id: str) -> Statement:
    """Voids a statement an edit or a deletion superseded. No timestamp: the same voiding is the
    same statement whenever it is sent (the store stamps it)."""
    body = {
        "actor": agent(base_url=base_url, learner_id=learner_id),
        "verb": VOIDED.as_json(),
        "object": {"objectType": "StatementRef", "id": statement_id},
        "version": XAPI_VERSION,
    }
    return _with_id(base_url=base_url, kind="void", key=statement_id, body=body)
