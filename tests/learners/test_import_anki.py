"""The Anki reader: deck formats, package formats, the deck-day rules, and files it refuses."""

from __future__ import annotations

import io
import sqlite3
import tempfile
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from learners.imports.anki import anki_rows
from learners.imports.rows import ImportProblem
from learners.models import MINUTES_MAX, SUBJECT_MAX_LENGTH
from tests.anki_collections import Card, Review, collection, package

UTC_ZONE = ZoneInfo("UTC")
DAY = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def one_deck(reviews: list[Review], *, name: str = "Spanish", **kwargs: bool) -> bytes:
    cards = [Card(id=card, deck=7) for card in sorted({r.card for r in reviews})]
    return collection(decks={7: name}, cards=cards, reviews=reviews, **kwargs)


def test_a_new_format_package_makes_one_session_per_deck_and_day_named_as_anki_shows_it() -> None:
    data = collection(
        decks={1: "Languages::Spanish", 2: "Biology"},
        cards=[Card(id=10, deck=1), Card(id=20, deck=2)],
        reviews=[
            Review(at=DAY, card=10),
            Review(at=DAY + timedelta(minutes=5), card=20),
            Review(at=DAY + timedelta(minutes=6), card=10),
            Review(at=DAY + timedelta(days=1), card=20),
        ],
    )
    rows = anki_rows(package(data), zone=UTC_ZONE)
    assert [(r.subject, r.day, r.reviews) for r in rows] == [
        ("Languages::Spanish", date(2025, 3, 10), 2),
        ("Biology", date(2025, 3, 10), 1),
        ("Biology", date(2025, 3, 11), 1),
    ]
    assert rows[0].started_at == DAY
    assert rows[0].key == "anki:1:2025-03-10"


def test_an_old_collection_with_decks_in_the_col_table_is_read() -> None:
    data = one_deck([Review(at=DAY, card=1)], name="Parent::Child", new_decks_table=False)
    rows = anki_rows(package(data, name="collection.anki2"), zone=UTC_ZONE)
    assert [r.subject for r in rows] == ["Parent::Child"]


def test_the_newest_collection_in_a_package_is_read_rather_than_the_update_stub() -> None:
    stub = one_deck([Review(at=DAY, card=1)], name="Please update to the latest Anki version")
    real = one_deck([Review(at=DAY, card=1), Review(at=DAY + timedelta(seconds=9), card=2)], name="Real deck")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("collection.anki2", stub)
        zf.writestr("collection.anki21", real)
    rows = anki_rows(buffer.getvalue(), zone=UTC_ZONE)
    assert [(r.subject, r.reviews) for r in rows] == [("Real deck", 2)]


def test_reviews_are_split_into_days_in_the_learners_time_zone() -> None:
    late = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    data = package(one_deck([Review(at=late, card=1), Review(at=late + timedelta(hours=1), card=2)]))
    # 23:30 and 00:30 in UTC are two days; in Tokyo both are the morning of the 11th.
    assert [r.day for r in anki_rows(data, zone=UTC_ZONE)] == [date(2025, 3, 10), date(2025, 3, 11)]
    assert [r.day for r in anki_rows(data, zone=ZoneInfo("Asia/Tokyo"))] == [date(2025, 3, 11)]


def test_score_is_the_share_of_reviews_not_answered_again() -> None:
    reviews = [Review(at=DAY + timedelta(seconds=i), card=i, ease=1 if i == 0 else 3) for i in range(4)]
    (row,) = anki_rows(package(one_deck(reviews)), zone=UTC_ZONE)
    assert row.score == 75


def test_minutes_are_the_answer_times_rounded_up() -> None:
    reviews = [Review(at=DAY, card=1, ms=50_000), Review(at=DAY + timedelta(minutes=1), card=2, ms=20_000)]
    (row,) = anki_rows(package(one_deck(reviews)), zone=UTC_ZONE)
    assert row.minutes == 2  # 70 seconds


def test_minutes_are_at_least_one_and_at_most_the_models_maximum() -> None:
    short = anki_rows(package(one_deck([Review(at=DAY, card=1, ms=0)])), zone=UTC_ZONE)
    many = [Review(at=DAY + timedelta(seconds=i), card=i, ms=60_000) for i in range(MINUTES_MAX + 50)]
    long = anki_rows(package(one_deck(many)), zone=UTC_ZONE)
    assert short[0].minutes == 1
    assert long[0].minutes == MINUTES_MAX


def test_a_day_mostly_of_cards_seen_on_an_earlier_day_is_distributed_practice() -> None:
    first = [Review(at=DAY + timedelta(seconds=card), card=card) for card in (1, 2, 3)]
    second = [Review(at=DAY + timedelta(days=2, seconds=card), card=card) for card in (1, 2, 4)]
    rows = anki_rows(package(one_deck(first + second)), zone=UTC_ZONE)
    assert [r.strategy for r in rows] == ["practice-testing", "distributed-practice"]


def test_a_day_of_half_new_cards_is_practice_testing() -> None:
    first = [Review(at=DAY + timedelta(seconds=card), card=card) for card in (1, 2)]
    second = [Review(at=DAY + timedelta(days=1, seconds=card), card=card) for card in (1, 2, 3, 4)]
    rows = anki_rows(package(one_deck(first + second)), zone=UTC_ZONE)
    assert rows[1].strategy == "practice-testing"


def test_reviews_anki_logged_as_reviews_of_learnt_cards_count_as_spaced() -> None:
    # Their earlier days are in no file we were given, but Anki only shows a learnt card after days.
    reviews = [Review(at=DAY + timedelta(seconds=card), card=card, kind=1) for card in (1, 2)]
    (row,) = anki_rows(package(one_deck(reviews)), zone=UTC_ZONE)
    assert row.strategy == "distributed-practice"


def test_the_other_fields_are_the_neutral_middle_of_their_scales() -> None:
    (row,) = anki_rows(package(one_deck([Review(at=DAY, card=1)])), zone=UTC_ZONE)
    assert (row.task_kind, row.difficulty, row.focus, row.confidence) == ("memorise", 3, 3, 50)
    assert "1 review" in row.notes


def test_a_card_in_a_filtered_deck_counts_for_its_home_deck() -> None:
    data = collection(
        decks={1: "Home", 2: "Filtered"},
        cards=[Card(id=10, deck=2, original_deck=1)],
        reviews=[Review(at=DAY, card=10)],
    )
    assert [r.subject for r in anki_rows(package(data), zone=UTC_ZONE)] == ["Home"]


def test_reschedulings_that_are_not_reviews_are_left_out() -> None:
    reviews = [Review(at=DAY, card=1), Review(at=DAY + timedelta(seconds=1), card=2, ease=0, kind=4)]
    (row,) = anki_rows(package(one_deck(reviews)), zone=UTC_ZONE)
    assert row.reviews == 1


def test_a_long_deck_name_is_cut_to_the_subjects_length() -> None:
    (row,) = anki_rows(package(one_deck([Review(at=DAY, card=1)], name="A::" + "b" * 200)), zone=UTC_ZONE)
    assert len(row.subject) == SUBJECT_MAX_LENGTH


def test_progress_is_reported_as_reviews_are_read() -> None:
    reported: list[tuple[int, int]] = []
    anki_rows(
        package(one_deck([Review(at=DAY, card=1)])), zone=UTC_ZONE, progress=lambda *a: reported.append(a)
    )
    assert reported[-1] == (1, 1)


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


def other_sqlite() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "other.db"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE notes (id integer)")
        db.commit()
        db.close()
        return path.read_bytes()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 this is not really a zip", "damaged"),
        (zipped("notes.txt", b"hello"), "no Anki collection"),
        (zipped("collection.anki21", other_sqlite()), "does not hold an Anki collection"),
        (zipped("collection.anki21", b"not a database at all" * 100), "does not hold an Anki collection"),
        (zipped("collection.anki21b", b"not zstd"), "damaged"),
        (package(one_deck([])), "no reviews"),
    ],
    ids=["corrupt-zip", "no-collection", "other-sqlite", "not-sqlite", "bad-zstd", "empty-revlog"],
)
def test_files_that_are_not_readable_collections_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ImportProblem, match=message):
        anki_rows(data, zone=UTC_ZONE)
