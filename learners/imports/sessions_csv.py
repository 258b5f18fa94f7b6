"""Metacoach's own sessions CSV (Settings, Your data) as sessions, so an export moves to another install.

The columns are the export's (`learners.selectors.export.learner_sessions`); ids and the
recommendation columns belong to the other install and are ignored. Each row is checked by
`SessionRowForm`, the log form's own fields and rules, in the learner's time zone for a start time
without an offset. All or nothing: if any row is refused, the import stops and every refused row
is listed by its line number, so a corrected file can be uploaded again in full.

A cell the export protected from spreadsheet formulas ("'=...", "'-...") is read back without
the leading apostrophe.

The key of each session is a hash of its start time (in UTC), subject and strategy: the same
session imported again, from this file or a later export, is found and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.import_forms import SessionRowForm
from learners.imports.rows import ImportProblem, ImportRow, ReflectionRow
from learners.services.export import FORMULA_START

REQUIRED = (
    "started_at",
    "subject",
    "task_kind",
    "strategy",
    "minutes",
    "difficulty",
    "confidence",
    "score",
    "focus",
)
REFLECTION_PREFIX = "reflection_"
PROGRESS_EVERY = 200  # rows between progress reports
DETAILS_SHOWN = 50  # refused rows listed on the page; the count says how many in all

Progress = Callable[[int, int], None]


def session_key(row: ImportRow) -> str:
    """The import key of a session: stable across installs, unlike its id."""
    started = row.started_at.astimezone(ZoneInfo("UTC")).isoformat()
    digest = hashlib.sha256(f"{started}\x1f{row.subject}\x1f{row.strategy}".encode()).hexdigest()
    return f"csv:{digest[:40]}"


def _unprotected(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _form_data(cells: dict[str, str | None]) -> dict[str, str]:
    data = {}
    for name, value in cells.items():
        if name is None:
            continue
        field = name.removeprefix(REFLECTION_PREFIX)
        data[field] = _unprotected(value or "")
    return data


def _row(form: SessionRowForm, *, line: int, zone: ZoneInfo) -> ImportRow:
    data = form.cleaned_data
    reflection = ReflectionRow(
        plan=data["plan"].strip(),
        monitor=data["monitor"].strip(),
        evaluate=data["evaluate"].strip(),
        what_worked=data["what_worked"].strip(),
        next_time=data["next_time"].strip(),
        kept_previous_plan=data["kept_previous_plan"],
    )
    row = ImportRow(
        key="",
        started_at=data["started_at"],
        day=data["started_at"].astimezone(zone).date(),
        subject=data["subject"],
        task_kind=data["task_kind"],
        strategy=data["strategy"].slug,
        minutes=data["minutes"],
        difficulty=data["difficulty"],
        confidence=data["confidence"],
        score=data["score"],
        focus=data["focus"],
        notes=data["notes"],
        line=line,
        reflection=reflection,
    )
    return ImportRow(**{**vars(row), "key": session_key(row)})


def _problems(form: SessionRowForm, line: int) -> str:
    fields = "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}"
        if name != "__all__"
        else " ".join(str(m) for m in messages)
        for name, messages in form.errors.items()
    )
    return _("Line %(line)d: %(problems)s") % {"line": line, "problems": fields}


def csv_rows(data: bytes, *, zone: ZoneInfo, progress: Progress | None = None) -> list[ImportRow]:
    """The sessions of a sessions CSV, in the file's order; ImportProblem if any row is refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem(
            _("This file is not a CSV file in UTF-8. Upload the sessions CSV as Metacoach exported it.")
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise ImportProblem(
                _(
                    "This CSV file lacks the columns %(columns)s. "
                    "Upload the sessions CSV as Metacoach exported it."
                )
                % {"columns": ", ".join(missing)}
            )
        if "learner" in (reader.fieldnames or []):
            # A cohort's export: its rows are many people's, none of them for one account.
            raise ImportProblem(
                _(
                    "This is a cohort's sessions CSV, with many learners' sessions. "
                    "Import the sessions CSV of your own account, from Settings, Your data."
                )
            )
        cells = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ImportProblem(_("This file is not a CSV file we can read: %(error)s") % {"error": exc}) from exc
    if not cells:
        raise ImportProblem(_("This CSV file has no sessions: there is nothing to import."))
    rows: list[ImportRow] = []
    refused: list[str] = []
    with timezone.override(zone):
        for done, (line, row) in enumerate(cells, start=1):
            form = SessionRowForm(data=_form_data(row))
            if form.is_valid():
                rows.append(_row(form, line=line, zone=zone))
            else:
                refused.append(_problems(form, line))
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(cells)):
                progress(done, len(cells))
    if refused:
        message = ngettext(
            "Nothing was imported: %(count)d row has a problem. Correct it and upload the file again.",
            "Nothing was imported: %(count)d rows have problems. Correct them and upload the file again.",
            len(refused),
        ) % {"count": len(refused)}
        raise ImportProblem(message, details=refused[:DETAILS_SHOWN])
    return rows
