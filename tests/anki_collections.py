"""Small Anki packages built for tests: the tables and columns the importer reads, in both deck formats."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import zstandard


@dataclass(frozen=True)
class Review:
    at: datetime  # aware
    card: int
    ease: int = 3  # 1 = Again
    ms: int = 10_000  # answer time
    kind: int = 0  # 0 learn, 1 review, 2 relearn, 3 filtered


@dataclass(frozen=True)
class Card:
    id: int
    deck: int
    original_deck: int = 0  # the home deck of a card sitting in a filtered deck


def collection(
    *,
    decks: dict[int, str],
    cards: list[Card],
    reviews: list[Review],
    new_decks_table: bool = True,
) -> bytes:
    """An SQLite collection. Newer Anki keeps decks in a `decks` table, levels joined by \\x1f;
    older Anki as JSON in `col.decks`, levels joined by "::"."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        db = sqlite3.connect(path)
        db.executescript(
            """
            CREATE TABLE col (id integer primary key, crt integer, mod integer, scm integer, ver integer,
                dty integer, usn integer, ls integer, conf text, models text, decks text, dconf text,
                tags text);
            CREATE TABLE cards (id integer primary key, nid integer, did integer, ord integer, mod integer,
                usn integer, type integer, queue integer, due integer, ivl integer, factor integer,
                reps integer, lapses integer, left integer, odue integer, odid integer, flags integer,
                data text);
            CREATE TABLE revlog (id integer primary key, cid integer, usn integer, ease integer,
                ivl integer, lastIvl integer, factor integer, time integer, type integer);
            """
        )
        col_decks = (
            "" if new_decks_table else json.dumps({str(d): {"id": d, "name": n} for d, n in decks.items()})
        )
        db.execute("INSERT INTO col VALUES (1, 0, 0, 0, 18, 0, 0, 0, '{}', '{}', ?, '{}', '{}')", [col_decks])
        if new_decks_table:
            db.execute(
                "CREATE TABLE decks (id integer primary key, name text, mtime_secs integer, usn integer)"
            )
            db.executemany(
                "INSERT INTO decks VALUES (?, ?, 0, 0)",
                [(d, n.replace("::", "\x1f")) for d, n in decks.items()],
            )
        db.executemany(
            "INSERT INTO cards VALUES (?, ?, ?, 0, 0, 0, 2, 2, 0, 1, 2500, 1, 0, 0, 0, ?, 0, '')",
            [(c.id, c.id, c.deck, c.original_deck) for c in cards],
        )
        db.executemany(
            "INSERT INTO revlog VALUES (?, ?, 0, ?, 1, 0, 2500, ?, ?)",
            [(int(r.at.timestamp() * 1000), r.card, r.ease, r.ms, r.kind) for r in reviews],
        )
        db.commit()
        db.close()
        return path.read_bytes()


def package(data: bytes, *, name: str = "collection.anki21b", media: bool = True) -> bytes:
    """A package holding a collection; `.anki21b` members are zstd-compressed as Anki does."""
    if name.endswith("b"):
        data = zstandard.ZstdCompressor().compress(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
        if media:
            zf.writestr("media", b"")
    return buffer.getvalue()
