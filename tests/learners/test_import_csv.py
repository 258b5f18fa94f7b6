"""Importing the sessions CSV Metacoach exports: a round trip, duplicates, and rows it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coach.models import Strategy
from learners.models import Cohort, CohortMembership, ImportJob, Learner, Reflection, StudySession
from learners.selectors.export import cohort_sessions, learner_sessions
from learners.services.export import csv_stream
from learners.services.imports import import_job_confirm, import_job_create, import_job_read, import_job_save
from tests.factories import StudySessionFactory

COMPARED = [
    "started_at",
    "subject",
    "task_kind",
    "strategy_id",
    "minutes",
    "difficulty",
    "confidence",
    "score",
]
COMPARED += ["focus", "notes"]
REFLECTION = ["plan", "monitor", "evaluate", "what_worked", "next_time", "kept_previous_plan"]


def exported(learner: Learner) -> bytes:
    return "".join(csv_stream(learner_sessions(learner=learner))).encode()


def read(learner: Learner, data: bytes) -> ImportJob:
    job = import_job_create(
        learner=learner, kind=ImportJob.Kind.CSV, filename="s.csv", data=data, language="en"
    )
    result = import_job_read(job_id=job.pk)
    assert result is not None
    return result


def imported(learner: Learner, data: bytes) -> ImportJob:
    job = read(learner, data)
    assert job.state == ImportJob.State.READY, job.error
    import_job_confirm(job=job)
    saved = import_job_save(job_id=job.pk)
    assert saved is not None
    return saved


def sessions_of(learner: Learner) -> list[tuple[object, ...]]:
    return list(StudySession.objects.filter(learner=learner).order_by("started_at").values_list(*COMPARED))


def test_an_export_imported_into_a_fresh_learner_gives_the_same_sessions(
    alice: Learner, bob: Learner
) -> None:
    start = datetime(2025, 5, 1, 8, 30, 12, 345678, tzinfo=UTC)
    first = StudySessionFactory(
        learner=alice, started_at=start, notes="-5 points, =SUM() typed by hand\nline two"
    )
    StudySessionFactory(learner=alice, started_at=start + timedelta(days=1), score=None, subject="数学")
    StudySessionFactory(
        learner=alice, started_at=start + timedelta(days=2), strategy=Strategy.objects.get(slug="rereading")
    )
    Reflection.objects.create(
        session=first, plan="Test myself", next_time="+ more cards", kept_previous_plan=False
    )

    job = imported(bob, exported(alice))

    assert (job.created_count, job.skipped_count) == (3, 0)
    assert sessions_of(bob) == sessions_of(alice)
    assert len({row[3] for row in sessions_of(bob)}) == 2  # both strategies came through
    copied = Reflection.objects.get(session__learner=bob)
    assert [getattr(copied, f) for f in REFLECTION] == [getattr(first.reflection, f) for f in REFLECTION]
    assert exported(bob).split(b"\n")[1:] != exported(alice).split(b"\n")[1:]  # new ids
    assert StudySession.objects.filter(learner=bob, import_key__startswith="csv:").count() == 3


def test_importing_ones_own_export_finds_every_session_already_there(alice: Learner) -> None:
    StudySessionFactory.create_batch(2, learner=alice)
    job = read(alice, exported(alice))
    assert [row["duplicate"] for row in job.preview] == [True, True]


def test_importing_the_same_csv_twice_creates_nothing_the_second_time(alice: Learner, bob: Learner) -> None:
    StudySessionFactory(learner=alice)
    imported(bob, exported(alice))
    assert imported(bob, exported(alice)).created_count == 0
    assert StudySession.objects.filter(learner=bob).count() == 1


HEADER = "started_at,subject,task_kind,strategy,minutes,difficulty,confidence,score,focus,notes\n"


def test_bad_rows_are_listed_by_line_and_nothing_is_saved(bob: Learner) -> None:
    data = (
        HEADER
        + "2025-05-01T08:00:00+00:00,Biology,memorise,practice-testing,30,3,60,70,4,\n"
        + "2025-05-02T08:00:00+00:00,Biology,memorise,practice-testing,900,3,60,70,4,\n"
        + "2025-05-03T08:00:00+00:00,,memorise,no-such-strategy,30,3,60,70,4,\n"
    ).encode()
    job = read(bob, data)
    assert job.state == ImportJob.State.FAILED
    lines = job.error.splitlines()
    assert lines[0].startswith("Nothing was imported: 2 rows have problems.")
    assert lines[1].startswith("Line 3: minutes:")
    assert lines[2].startswith("Line 4: subject:") and "strategy:" in lines[2]
    assert not StudySession.objects.exists()


def test_a_start_time_without_an_offset_is_read_in_the_learners_time_zone(bob: Learner) -> None:
    bob.timezone = "Asia/Shanghai"
    bob.save()
    data = (HEADER + "2025-05-01 08:00,Biology,memorise,practice-testing,30,3,60,,4,\n").encode()
    imported(bob, data)
    session = StudySession.objects.get(learner=bob)
    assert session.started_at == datetime(2025, 5, 1, 0, 0, tzinfo=UTC)
    assert session.score is None


def test_a_csv_without_the_session_columns_is_refused(bob: Learner) -> None:
    job = read(bob, b"name,value\nx,1\n")
    assert job.state == ImportJob.State.FAILED
    assert "lacks the columns started_at, subject" in job.error


def test_a_csv_of_no_rows_is_refused(bob: Learner) -> None:
    assert "no sessions" in read(bob, HEADER.encode()).error


def test_a_file_that_is_not_utf8_is_refused(bob: Learner) -> None:
    assert "UTF-8" in read(bob, HEADER.encode() + b"\xff\xfe\x00").error


def test_a_cohorts_export_is_refused_rather_than_imported_into_one_account(
    alice: Learner, bob: Learner, cohort: Cohort
) -> None:
    CohortMembership.objects.create(cohort=cohort, learner=alice)
    StudySessionFactory(learner=alice)
    job = read(bob, "".join(csv_stream(cohort_sessions(cohort=cohort))).encode())
    assert job.state == ImportJob.State.FAILED
    assert "cohort's sessions CSV" in job.error
    assert not StudySession.objects.filter(learner=bob).exists()
