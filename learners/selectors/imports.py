"""Reads of imports: a learner's own jobs (404 for anyone else's) and what a preview will create."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.shortcuts import get_object_or_404

from coach.models import Strategy
from learners.imports.rows import ImportRow
from learners.models import ImportJob, Learner

PREVIEW_SHOWN = 200  # rows listed on the preview page; the counts cover them all
RECENT_JOBS = 5


def import_job_for_learner(*, learner: Learner, job_id: int) -> ImportJob:
    """The learner's own import; 404 for another learner's, as for every other object."""
    return get_object_or_404(ImportJob, pk=job_id, learner=learner)


@dataclass(frozen=True)
class PreviewRow:
    day: date
    subject: str
    strategy: str  # its label, in the reader's language
    minutes: int
    score: int | None
    reviews: int | None
    line: int | None
    duplicate: bool


@dataclass(frozen=True)
class ImportPreview:
    rows: list[PreviewRow]  # the first PREVIEW_SHOWN
    new: int
    duplicates: int
    hidden: int  # rows not listed
    from_anki: bool


def import_preview(*, job: ImportJob) -> ImportPreview:
    labels = {strategy.slug: strategy.label for strategy in Strategy.objects.all()}
    rows: list[PreviewRow] = []
    new = 0
    for item in job.preview:
        duplicate = bool(item.get("duplicate"))
        new += not duplicate
        if len(rows) < PREVIEW_SHOWN:
            row = ImportRow.from_json(item)
            rows.append(
                PreviewRow(
                    day=row.day,
                    subject=row.subject,
                    strategy=labels.get(row.strategy, row.strategy),
                    minutes=row.minutes,
                    score=row.score,
                    reviews=row.reviews,
                    line=row.line,
                    duplicate=duplicate,
                )
            )
    return ImportPreview(
        rows=rows,
        new=new,
        duplicates=len(job.preview) - new,
        hidden=len(job.preview) - len(rows),
        from_anki=job.kind == ImportJob.Kind.ANKI,
    )


def import_jobs_recent(*, learner: Learner) -> list[ImportJob]:
    """The learner's latest imports, for the settings page and the import page; without their
    previews and uploads, which can be large."""
    jobs = ImportJob.objects.filter(learner=learner).defer("preview", "upload", "error")
    return list(jobs[:RECENT_JOBS])
