"""Writes of imports: upload, read in the worker into a preview, save on the learner's confirmation.

Nothing but the `ImportJob` is written before the learner confirms. The save is one transaction:
every session of the file that is not a duplicate, or none. A session counts as a duplicate when
the learner has one with the same import key (the same deck-day of Anki, the same CSV session),
or, from a CSV, one with the same start time, subject and strategy (a session logged here and
exported). A session the learner deleted after importing it comes back when the file is imported
again: nothing remembers it once deleted.

Imported sessions are the learner's own history: they fulfil no planned session, and the
recommendation is refreshed once, after the save.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from coach.models import Strategy
from learners import versions
from learners.imports.anki import anki_rows
from learners.imports.rows import ImportProblem, ImportRow
from learners.imports.sessions_csv import csv_rows
from learners.models import IMPORT_MAX_BYTES, ImportJob, Learner, Reflection, StudySession
from learners.services.recommendations import recommendation_request
from learners.services.xapi import xapi_request

logger = logging.getLogger(__name__)

READERS = {ImportJob.Kind.ANKI: anki_rows, ImportJob.Kind.CSV: csv_rows}
LOOKUP_CHUNK = 500  # keys or times per query: well under SQLite's limit on parameters
INSERT_BATCH = 500
# The read reports 0-95%, marking duplicates the rest; the save checks rows to 90%, then inserts.
READ_SHARE, CHECK_SHARE = 95, 90


def import_job_create(*, learner: Learner, kind: str, filename: str, data: bytes, language: str) -> ImportJob:
    """Keep the upload and ask the worker to read it once the job is committed."""
    if len(data) > IMPORT_MAX_BYTES:  # the upload form says so first; this guards the database
        raise ValidationError(_("This file is too large to import."), code="too_large")
    job = ImportJob(learner=learner, kind=kind, filename=filename[:255], language=language, upload=data)
    job.full_clean(exclude=["learner", "upload"])
    with transaction.atomic():
        job.save()
        _enqueue(job, "read")
    return job


def import_job_confirm(*, job: ImportJob) -> bool:
    """Start saving a job's preview; False when it is not waiting for confirmation (already confirmed)."""
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.READY).update(
            state=ImportJob.State.SAVING, progress=0
        )
        if claimed:
            _enqueue(job, "save")
    job.refresh_from_db()
    return bool(claimed)


def import_job_cancel(*, job: ImportJob) -> bool:
    """Forget a job that is not being saved; False for one the worker is saving."""
    with transaction.atomic():
        deleted, _ = ImportJob.objects.filter(pk=job.pk).exclude(state=ImportJob.State.SAVING).delete()
    return bool(deleted)


def _enqueue(job: ImportJob, step: str) -> None:
    from learners.tasks import import_job_read_task, import_job_save_task  # tasks import services

    task = import_job_read_task if step == "read" else import_job_save_task

    def send() -> None:
        try:
            task.delay(job.pk)
        except (BrokerError, OSError) as exc:
            logger.warning("Broker unavailable, import %s not started: %s", job.pk, exc)
            with translation.override(job.language):
                _finish(job.pk, error=_("The import could not be started. Try again in a few minutes."))

    transaction.on_commit(send)


def import_job_read(*, job_id: int) -> ImportJob | None:
    """Read the uploaded file into the job's preview, or the reason it cannot be imported.

    Safe to run twice: reading writes only to the job, and a job already read is left alone.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, state__in=[ImportJob.State.QUEUED, ImportJob.State.READING]
    ).update(state=ImportJob.State.READING, progress=0)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("learner").get(pk=job_id)
    zone = ZoneInfo(job.learner.timezone)

    def progress(done: int, total: int) -> None:
        percent = READ_SHARE * done // total if total else READ_SHARE
        ImportJob.objects.filter(pk=job_id).update(progress=percent, total=total)

    with translation.override(job.language):
        try:
            rows = READERS[ImportJob.Kind(job.kind)](bytes(job.upload or b""), zone=zone, progress=progress)
            strategies = _strategies()
            for row in rows:
                _session(row, learner=job.learner, strategies=strategies)
            duplicates = _duplicates(job.learner, rows, by_time=job.kind == ImportJob.Kind.CSV)
        except ImportProblem as problem:
            return _finish(job_id, error="\n".join([problem.message, *problem.details]))
        except DatabaseError:
            raise  # the task retries
        except Exception:
            logger.exception("Import %s could not be read", job_id)
            return _finish(
                job_id, error=_("This file could not be read. Check that it is the file you meant.")
            )
    preview = [{**row.to_json(), "duplicate": i in duplicates} for i, row in enumerate(rows)]
    ImportJob.objects.filter(pk=job_id, state=ImportJob.State.READING).update(
        state=ImportJob.State.READY, preview=preview, total=len(rows), progress=100, upload=None
    )
    return ImportJob.objects.filter(pk=job_id).first()  # None if cancelled meanwhile


def import_job_save(*, job_id: int) -> ImportJob | None:
    """Save the confirmed preview's new sessions, all in one transaction.

    Safe to run twice: the job is locked and must still be saving, and sessions are checked
    against the learner's import keys again inside the transaction.
    """
    job = ImportJob.objects.select_related("learner").filter(pk=job_id, state=ImportJob.State.SAVING).first()
    if job is None:
        return None
    rows = [ImportRow.from_json(item) for item in job.preview if not item.get("duplicate")]
    strategies = _strategies()
    with translation.override(job.language):
        try:
            sessions = []
            for done, row in enumerate(rows, start=1):
                sessions.append(_session(row, learner=job.learner, strategies=strategies))
                if done % INSERT_BATCH == 0:
                    ImportJob.objects.filter(pk=job_id).update(progress=CHECK_SHARE * done // len(rows))
        except ImportProblem as problem:
            return _finish(job_id, error=problem.message)
    with transaction.atomic():
        # Locks the job alone (not its learner): a second run waits here, then finds it done.
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("learner").get(pk=job_id)
        if job.state != ImportJob.State.SAVING:
            return None
        taken = _duplicates(job.learner, rows, by_time=job.kind == ImportJob.Kind.CSV)
        new = [
            (row, session)
            for i, (row, session) in enumerate(zip(rows, sessions, strict=True))
            if i not in taken
        ]
        StudySession.objects.bulk_create([session for _row, session in new], batch_size=INSERT_BATCH)
        reflections = [
            Reflection(session=session, **vars(row.reflection))
            for row, session in new
            if not row.reflection.is_empty()
        ]
        Reflection.objects.bulk_create(reflections, batch_size=INSERT_BATCH)
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.DONE,
            progress=100,
            created_count=len(new),
            skipped_count=len(job.preview) - len(new),
            preview=[],  # in the sessions now; a large file's rows need not stay twice
        )
        if new:
            # bulk_create sends no signal: the cached dashboard and cohort overviews are renewed here.
            versions.learner_changed(job.learner_id)
            recommendation_request(learner_id=job.learner_id)
            xapi_request(learner_id=job.learner_id)
    return ImportJob.objects.get(pk=job_id)


def import_job_fail(*, job_id: int) -> None:
    """The worker gave up on a job (its retries spent): say so on the page rather than wait forever."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or not job.active:
        return
    with translation.override(job.language):
        _finish(job_id, error=_("The import failed. Nothing was saved; try again in a few minutes."))


def _finish(job_id: int, *, error: str) -> ImportJob | None:
    ImportJob.objects.filter(pk=job_id).update(state=ImportJob.State.FAILED, error=error, upload=None)
    return ImportJob.objects.filter(pk=job_id).first()


def _strategies() -> dict[str, Strategy]:
    return {strategy.slug: strategy for strategy in Strategy.objects.all()}


def _session(row: ImportRow, *, learner: Learner, strategies: dict[str, Strategy]) -> StudySession:
    """The session a row makes, checked by the model's own rules; ImportProblem naming the row if not."""
    strategy = strategies.get(row.strategy)
    session = StudySession(
        learner=learner,
        subject=row.subject,
        task_kind=row.task_kind,
        strategy=strategy,
        started_at=row.started_at,
        minutes=row.minutes,
        difficulty=row.difficulty,
        confidence=row.confidence,
        score=row.score,
        focus=row.focus,
        notes=row.notes,
        import_key=row.key,
    )
    try:
        if strategy is None:
            raise ValidationError(
                {"strategy": _("“%(slug)s” is not a strategy we know.") % {"slug": row.strategy}}
            )
        # Constraints and uniqueness are the database's to check, in the save's one transaction.
        session.full_clean(validate_unique=False, validate_constraints=False)
        if not row.reflection.is_empty():
            Reflection(session=session, **vars(row.reflection)).full_clean(
                exclude=["session"], validate_unique=False
            )
    except ValidationError as exc:
        where = (
            _("Line %(line)d") % {"line": row.line}
            if row.line is not None
            else _("%(subject)s on %(day)s") % {"subject": row.subject, "day": row.day.isoformat()}
        )
        raise ImportProblem(f"{where}: {' '.join(exc.messages)}") from exc
    return session


def _duplicates(learner: Learner, rows: list[ImportRow], *, by_time: bool) -> set[int]:
    """Positions of the rows the learner already has (or that repeat an earlier row of the file)."""
    keys = _existing(learner, "import_key", [row.key for row in rows])
    sessions: set[tuple[datetime, str, str]] = set()
    if by_time:
        for chunk in _chunks(sorted({row.started_at for row in rows}), LOOKUP_CHUNK):
            found = StudySession.objects.filter(learner=learner, started_at__in=chunk).values_list(
                "started_at", "subject", "strategy__slug"
            )
            sessions.update(found)
    duplicates, seen = set(), set()
    for i, row in enumerate(rows):
        if row.key in keys or row.key in seen or (row.started_at, row.subject, row.strategy) in sessions:
            duplicates.add(i)
        seen.add(row.key)
    return duplicates


def _existing(learner: Learner, field: str, values: list[Any]) -> set[Any]:
    found: set[Any] = set()
    for chunk in _chunks(values, LOOKUP_CHUNK):
        found.update(
            StudySession.objects.filter(learner=learner, **{f"{field}__in": chunk}).values_list(
                field, flat=True
            )
        )
    return found


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
