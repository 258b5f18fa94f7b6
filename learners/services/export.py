"""Streams exports as CSV or JSON, a row at a time, so memory stays flat however large the data.

CSV figures are rounded as people read them (`CSV_DECIMALS`); JSON keeps full precision.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from learners.models import Learner
from learners.selectors.export import CSV_DECIMALS, CSV_DECIMALS_OTHER, LEARNER_TABLES, Table

# A cell starting with one of these runs as a formula in spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, for csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def _rounded(value: Any, decimals: int) -> Any:
    """Floats rounded, within lists and dicts too; everything else as it is."""
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, dict):
        return {key: _rounded(item, decimals) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item, decimals) for item in value]
    return value


def _cell(value: Any, decimals: int) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    value = _rounded(value, decimals)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if value is None:
        return ""
    return value


def csv_stream(table: Table) -> Iterator[str]:
    header, rows = table
    decimals = [CSV_DECIMALS.get(name, CSV_DECIMALS_OTHER) for name in header]
    writer = csv.writer(_Echo())
    yield "\ufeff"  # lets spreadsheet programs read UTF-8 names and notes correctly
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(v, d) for v, d in zip(row, decimals, strict=True)])


def _json_rows(header: list[str], rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    first = True
    for row in rows:
        item = json.dumps(dict(zip(header, row, strict=True)), cls=DjangoJSONEncoder, ensure_ascii=False)
        yield ("\n    " if first else ",\n    ") + item
        first = False


def learner_json_stream(*, learner: Learner) -> Iterator[str]:
    """Everything stored about a learner as one JSON document, table by table."""
    user = learner.user
    account = {
        "username": user.get_username(),
        "email": user.email,
        "email_verified_at": learner.email_verified_at,
        "date_joined": user.date_joined,
        "timezone": learner.timezone,
        "language": learner.language,
        "goals": learner.goals,
        "profile": learner.profile,
        "reminder_enabled": learner.reminder_enabled,
        "reminder_time": learner.reminder_time,
        # Whether the private calendar feed is on; its secret address is not repeated here.
        "calendar_feed": learner.calendar_token is not None,
    }
    yield '{\n  "account": ' + json.dumps(account, cls=DjangoJSONEncoder, ensure_ascii=False)
    for name, select in LEARNER_TABLES.items():
        header, rows = select(learner=learner)
        yield f',\n  "{name}": ['
        yield from _json_rows(header, rows)
        yield "\n  ]"
    yield "\n}\n"
