"""Anki's review log as study sessions: one session per deck and local day.

An `.apkg` or `.colpkg` is a zip holding the collection, an SQLite database: `collection.anki21b`
(zstd-compressed, Anki 2.1.50 and later), `collection.anki21` or `collection.anki2` (older). A
file with several holds the newest format in full and a stub in the older ones, so the newest is
read. It is copied to a temporary file and opened read-only; media are not read.

Each review in `revlog` (id: the review's time in epoch milliseconds; cid: the card, whose deck is
`cards.did`, or `cards.odid` while the card sits in a filtered deck; ease: 1 = Again ... 4 = Easy,
0 for a rescheduling that is not a review and is skipped; time: milliseconds spent answering)
counts towards its deck's session on its local day, in the learner's time zone. A session has:

- subject: the deck's full name as Anki shows it, "Parent::Child" (the `decks` table of newer
  collections joins the levels with "\\x1f"; older ones keep the decks as JSON in `col.decks`),
  cut to the subject's maximum length;
- started at: the day's first review of that deck;
- minutes: the answer times added up, rounded up to a whole minute, at least 1 and at most the
  model's maximum (Anki counts answering time only, so time between cards is not included);
- self-test score: the share of reviews not answered Again, 0-100, rounded;
- strategy: distributed practice when the reviews were spaced, else practice testing. A review is
  spaced when the card came back after an interval: Anki logged it as a review of a learnt card
  (`type` 1), or the same file has a review of that card on an earlier local day. The session
  is distributed practice when more than half of its reviews are spaced; a first day of new
  cards is practice testing.
- kind of task: memorise facts (what flashcards are for);
- difficulty, focus and confidence before: Anki does not know them, so each is the middle of its
  scale (3 of 5, 3 of 5, 50 of 100), as the preview says. The engine reads difficulty and
  confidence as context; the middle value says nothing either way.

The key of each session, "anki:<deck id>:<local date>", is the same in a later export of the same
collection, so an import of it adds only days and decks not imported before.
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import zstandard
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.imports.rows import ImportProblem, ImportRow
from learners.models import MINUTES_MAX, SUBJECT_MAX_LENGTH, TaskKind

# Newest first: an export in the new format also holds a stub in the old one, saying "please update".
COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
# The collection unpacked: ample for a lifetime of reviews (a million take about 60 MB), and a
# bound on what a small crafted file could expand to on the worker's disk.
COLLECTION_MAX_BYTES = 1024 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
REVIEW_CHUNK = 5000  # reviews read from the collection at a time, between progress reports
# What Anki cannot know, each the middle of its scale.
NEUTRAL_DIFFICULTY, NEUTRAL_FOCUS, NEUTRAL_CONFIDENCE = 3, 3, 50
EASE_AGAIN = 1
TYPE_REVIEW = 1
DECK_SEPARATOR = "\x1f"

Progress = Callable[[int, int], None]  # (reviews read, reviews in all)


@dataclass
class DeckDay:
    """The reviews of one deck on one local day, as they add up."""

    deck_id: int
    day: date
    first_review_ms: int
    reviews: int = 0
    again: int = 0
    answer_ms: int = 0
    spaced: int = 0


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    written = 0
    while chunk := source.read(CHUNK_BYTES):
        written += len(chunk)
        if written > COLLECTION_MAX_BYTES:
            raise ImportProblem(_("The collection in this file is too large to import."))
        target.write(chunk)


def _unpack(data: bytes, target: IO[bytes]) -> None:
    """The newest collection in the package, uncompressed, into `target`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            name = next((n for n in COLLECTION_NAMES if n in names), None)
            if name is None:
                raise ImportProblem(
                    _(
                        "This file holds no Anki collection. "
                        "Export a deck or collection from Anki as .apkg or .colpkg."
                    )
                )
            with package.open(name) as member:
                if name.endswith("b"):
                    with zstandard.ZstdDecompressor().stream_reader(member) as reader:
                        _copy(reader, target)
                else:
                    _copy(member, target)
    except (zipfile.BadZipFile, zlib.error, EOFError, zstandard.ZstdError, NotImplementedError) as exc:
        raise ImportProblem(
            _("This file is damaged or is not an Anki package (.apkg or .colpkg). Export it from Anki again.")
        ) from exc


def _unicase(a: str, b: str) -> int:
    a, b = a.casefold(), b.casefold()
    return (a > b) - (a < b)


def _not_anki() -> ImportProblem:
    return ImportProblem(_("This file does not hold an Anki collection we can read."))


def _deck_names(db: sqlite3.Connection) -> dict[int, str]:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "decks" in tables:
        return {
            int(did): str(name).replace(DECK_SEPARATOR, "::")
            for did, name in db.execute("SELECT id, name FROM decks")
        }
    (decks,) = db.execute("SELECT decks FROM col").fetchone() or ("{}",)
    try:
        parsed = json.loads(decks or "{}")
        return {int(did): str(deck["name"]) for did, deck in parsed.items()}
    except (ValueError, TypeError, KeyError) as exc:
        raise _not_anki() from exc


def deck_days(
    db: sqlite3.Connection, *, zone: ZoneInfo, progress: Progress | None = None
) -> tuple[list[DeckDay], dict[int, str]]:
    """Every deck-day of the review log, in time order, and the decks' names by id."""
    try:
        names = _deck_names(db)
        (total,) = db.execute("SELECT count(*) FROM revlog").fetchone()
        cursor = db.execute(
            "SELECT r.id, r.cid, r.ease, r.time, r.type, CASE WHEN c.odid THEN c.odid ELSE c.did END"
            " FROM revlog r JOIN cards c ON c.id = r.cid WHERE r.ease > 0 ORDER BY r.id"
        )
    except sqlite3.DatabaseError as exc:
        raise _not_anki() from exc
    days: dict[tuple[int, date], DeckDay] = {}
    first_day: dict[int, date] = {}  # each card's first local day of review in this file
    read = 0
    while rows := cursor.fetchmany(REVIEW_CHUNK):
        for review_ms, card, ease, answer_ms, kind, deck in rows:
            day = datetime.fromtimestamp(review_ms / 1000, tz=zone).date()
            group = days.get((deck, day))
            if group is None:
                group = days[(deck, day)] = DeckDay(deck_id=deck, day=day, first_review_ms=review_ms)
            seen = first_day.setdefault(card, day)
            group.reviews += 1
            group.again += ease == EASE_AGAIN
            group.answer_ms += max(answer_ms, 0)
            group.spaced += kind == TYPE_REVIEW or seen < day
        read += len(rows)
        if progress is not None:
            progress(read, total)
    return list(days.values()), names


def session_row(group: DeckDay, deck_name: str) -> ImportRow:
    """The session a deck-day becomes, by the rules in the module's docstring."""
    minutes = min(max(math.ceil(group.answer_ms / 60_000), 1), MINUTES_MAX)
    spaced = group.spaced * 2 > group.reviews
    notes = ngettext(
        "From Anki: %(reviews)d review, %(again)d answered Again.",
        "From Anki: %(reviews)d reviews, %(again)d answered Again.",
        group.reviews,
    ) % {"reviews": group.reviews, "again": group.again}
    return ImportRow(
        key=f"anki:{group.deck_id}:{group.day.isoformat()}",
        started_at=datetime.fromtimestamp(group.first_review_ms / 1000, tz=UTC),
        day=group.day,
        subject=deck_name.strip()[:SUBJECT_MAX_LENGTH].strip() or _("Anki"),
        task_kind=TaskKind.MEMORISE,
        strategy="distributed-practice" if spaced else "practice-testing",
        minutes=minutes,
        score=round(100 * (group.reviews - group.again) / group.reviews),
        notes=notes,
        reviews=group.reviews,
        difficulty=NEUTRAL_DIFFICULTY,
        focus=NEUTRAL_FOCUS,
        confidence=NEUTRAL_CONFIDENCE,
    )


def anki_rows(data: bytes, *, zone: ZoneInfo, progress: Progress | None = None) -> list[ImportRow]:
    """The sessions an Anki package's review log makes, oldest first."""
    with tempfile.TemporaryDirectory(prefix="metacoach-anki-") as folder:
        path = Path(folder) / "collection.sqlite3"
        with path.open("wb") as target:
            _unpack(data, target)
        # immutable: SQLite neither locks nor looks for a journal beside the copy.
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        # Newer collections declare deck names COLLATE unicase, Anki's own collation; a query that
        # meets it fails without one of that name.
        db.create_collation("unicase", _unicase)
        try:
            groups, names = deck_days(db, zone=zone, progress=progress)
        finally:
            db.close()
    if not groups:
        raise ImportProblem(_("This collection has no reviews yet: there is nothing to import."))
    rows = [session_row(g, names.get(g.deck_id, "")) for g in groups]
    return sorted(rows, key=lambda row: (row.started_at, row.subject))
