"""Learners, cohorts, their study sessions and reflections, and the recommendations they get."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from coach.advice import DEFAULT_MAX_COST, MAX_COST_LIMIT, RankedStrategy
from coach.models import AdviceSource, Policy
from coach.reasons import reason_text

MINUTES_MAX = 600
FUTURE_SLACK = timedelta(minutes=5)
# The subject's column has always been 100 wide; the timer and recommendations use the same width.
SUBJECT_MAX_LENGTH = 100
# Notes and each reflection answer: a few paragraphs. Checked by forms and full_clean(), not by the
# database: rows written before the limit may be longer, and a migration must keep them.
TEXT_MAX_LENGTH = 2000
# A validator rather than max_length, which on a TextField reaches only form fields (and on SQLite
# would make the migration rebuild each table).
TEXT_LIMIT = MaxLengthValidator(TEXT_MAX_LENGTH)
# No one logs study from further back; a fixed date is one the message can name. Dates before it
# are typing slips (1900, 0202) that would sit first in every chart and in the engine's history.
EARLIEST_SESSION_DATE = date(2000, 1, 1)


# The IANA names Python's zoneinfo knows (the tzdata package where the system has none).
TIMEZONE_NAMES = frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def validate_timezone(value: str) -> None:
    if value not in TIMEZONE_NAMES:
        raise ValidationError(
            _("“%(value)s” is not a time zone we know. Choose one from the list, such as Europe/London."),
            code="unknown_timezone",
            params={"value": value},
        )


def validate_not_future(value: datetime) -> None:
    # A little slack for clocks that disagree between the browser and the server.
    if value > timezone.now() + FUTURE_SLACK:
        raise ValidationError(_("The start time cannot be in the future."), code="future")


def validate_not_too_early(value: datetime) -> None:
    # The date as the learner reads it, in their time zone, so the bound means what the message says.
    if timezone.localtime(value).date() < EARLIEST_SESSION_DATE:
        raise ValidationError(
            _("The start time cannot be before %(date)s."),
            code="too_early",
            params={"date": date_format(EARLIEST_SESSION_DATE, "DATE_FORMAT")},
        )


class TaskKind(models.TextChoices):
    MEMORISE = "memorise", _("Memorise facts")
    UNDERSTAND = "understand", _("Understand concepts")
    SOLVE = "solve", _("Solve problems")
    PRACTISE = "practise", _("Practise a skill")
    WRITE = "write", _("Write")


class Learner(models.Model):
    """The learning profile of a user; created when they sign up."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner")
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    # When the user's current e-mail address was confirmed through its signed link; cleared on change.
    email_verified_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    goals = models.TextField(_("goals"), blank=True)
    # Scores from the latest metacognition self-report, by dimension.
    profile = models.JSONField(default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Dashboard nudges the learner has dismissed, by key; each is shown once.
    dismissed_nudges = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    # The secret in the private calendar feed's address (learners.services.calendar); null: no feed.
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # The daily reminder e-mail (learners.services.reminders): off until the learner turns it on.
    reminder_enabled = models.BooleanField(_("daily reminder"), default=False)
    reminder_time = models.TimeField(_("reminder time"), default=time(18, 0))

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")
        # The reminder dispatch every five minutes reads only the few learners with reminders on.
        indexes = [
            models.Index(
                fields=["reminder_time"], condition=Q(reminder_enabled=True), name="learner_reminder_enabled"
            )
        ]

    def __str__(self) -> str:
        return self.user.get_username()


class Cohort(models.Model):
    """A class or study group run by an educator; learners join with its code."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cohorts"
    )
    co_teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="co_taught_cohorts", verbose_name=_("co-teachers")
    )
    # Null once revoked: nobody can join until a new code is made.
    join_code = models.CharField(max_length=16, unique=True, null=True, blank=True)
    join_code_expires_at = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(Learner, through="CohortMembership", related_name="cohorts")
    # How the engine chooses for the members (coach.advice.PolicySetting); a learner in several
    # cohorts follows the one they joined last among those set apart from the default.
    policy_rule = models.CharField(
        _("recommendation rule"),
        max_length=10,
        choices=[(Policy.THOMPSON, Policy.THOMPSON.label), (Policy.GREEDY, Policy.GREEDY.label)],
        default=Policy.THOMPSON,
    )
    policy_max_cost = models.PositiveSmallIntegerField(
        _("exploration cap (points)"),
        default=DEFAULT_MAX_COST,
        validators=[MaxValueValidator(MAX_COST_LIMIT)],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        constraints = [
            models.CheckConstraint(
                condition=Q(policy_rule__in=[Policy.THOMPSON, Policy.GREEDY]), name="cohort_policy_rule_valid"
            ),
            models.CheckConstraint(
                condition=Q(policy_max_cost__lte=MAX_COST_LIMIT), name="cohort_policy_max_cost_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CohortMembership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    share_reflections = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "learner"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.learner} in {self.cohort}"


class Recommendation(models.Model):
    """Ranked strategies for a learner's next session, with the reason the learner is shown."""

    class Status(models.TextChoices):
        SHOWN = "shown", _("Shown")
        FOLLOWED = "followed", _("Followed")
        DISMISSED = "dismissed", _("Dismissed")
        OTHER = "other", _("Studied something else")

    Source = AdviceSource

    # Indexed first in recommendation_learner_created (and recommendation_unique_basis), which
    # serve a lookup by learner alone too: no index of its own.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=100, blank=True)
    task_kind = models.CharField(_("kind of task"), max_length=20, blank=True)
    strategy = models.ForeignKey("coach.Strategy", on_delete=models.PROTECT, related_name="+")
    expected_score = models.FloatField()
    score_std = models.FloatField()
    exploration = models.BooleanField(default=False)
    # The reason as facts, rendered in the reader's language (`reason_text`); `reason` is its
    # English rendering, for the admin and for recommendations stored before facts were kept.
    reason_facts = models.JSONField(default=list, blank=True)
    reason = models.TextField()
    # coach.advice.RankedStrategy rows, best first; read them through `ranked` and `chosen`.
    ranking = models.JSONField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # What the recommendation was computed from; a refresh with the same basis is a no-op.
    basis = models.CharField(max_length=120)
    snapshot = models.ForeignKey(
        "coach.EngineSnapshot",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    # Shown, then followed or dismissed by the learner's answer; the next session saved sets it
    # to followed or other by its strategy (a dismissal stays).
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SHOWN)
    dismissed_reason = models.CharField(max_length=200, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # The learner's next session after it was shown (learners.services.sessions): its self-test
    # score is what the recommendation is judged by.
    next_session = models.OneToOneField(
        "StudySession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The rule that chose it (coach.advice.Propensities): "" for recommendations stored before
    # rules were logged, which policy evaluation leaves out.
    policy = models.CharField(max_length=10, choices=Policy.choices, blank=True)
    policy_version = models.PositiveSmallIntegerField(default=0)
    policy_max_cost = models.FloatField(null=True, blank=True)  # points, where a price cap applied
    # Slug -> probability that the rule chose that strategy here, over the strategies it chose
    # among (those set aside are left out: 0); empty when unknown. Standard errors likewise.
    propensities = models.JSONField(default=dict, blank=True)
    propensity_stderr = models.JSONField(default=dict, blank=True)
    propensity_draws = models.PositiveIntegerField(default=0)  # 0: exact

    class Meta:
        ordering = ["-created_at", "-id"]
        # A learner's latest recommendation (the dashboard, the card, the catch-up) without a sort.
        indexes = [
            models.Index(fields=["learner", "-created_at", "-id"], name="recommendation_learner_created")
        ]
        constraints = [
            models.UniqueConstraint(fields=["learner", "basis"], name="recommendation_unique_basis"),
            models.CheckConstraint(
                condition=Q(expected_score__gte=0) & Q(expected_score__lte=100),
                name="recommendation_score_range",
            ),
            models.CheckConstraint(condition=Q(score_std__gte=0), name="recommendation_std_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} for {self.learner} ({self.created_at:%Y-%m-%d %H:%M})"

    @cached_property
    def ranked(self) -> list[RankedStrategy]:
        return [RankedStrategy.from_json(row) for row in self.ranking]

    @property
    def chosen(self) -> RankedStrategy | None:
        """The recommended strategy's own row: its figures, whether it is first or explored."""
        return next((row for row in self.ranked if row.slug == self.strategy.slug), None)

    @property
    def reason_text(self) -> str:
        if not self.reason_facts:
            return self.reason
        return reason_text(self.reason_facts, {row.slug: row.name for row in self.ranked})


class StudySession(models.Model):
    """One study session; its self-test score is the outcome the engine learns from."""

    # Indexed first in session_learner_started, which serves a lookup by learner alone too: a
    # second index of its own would cost every insert and leave the planner that narrower one.
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="sessions", db_index=False)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    task_kind = models.CharField(_("kind of task"), max_length=20, choices=TaskKind.choices)
    strategy = models.ForeignKey(
        "coach.Strategy", on_delete=models.PROTECT, related_name="sessions", verbose_name=_("strategy")
    )
    started_at = models.DateTimeField(
        _("started at"), validators=[validate_not_too_early, validate_not_future]
    )
    minutes = models.PositiveSmallIntegerField(
        _("minutes"), validators=[MinValueValidator(1), MaxValueValidator(MINUTES_MAX)]
    )
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    confidence = models.PositiveSmallIntegerField(
        _("confidence before"),
        validators=[MaxValueValidator(100)],
        help_text=_("The share of questions you expect to answer right in a self-test afterwards (0–100)."),
    )
    score = models.PositiveSmallIntegerField(
        _("self-test score"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("Your self-test result afterwards (0–100); you can fill it in later."),
    )
    focus = models.PositiveSmallIntegerField(
        _("focus"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    notes = models.TextField(_("notes"), blank=True, validators=[TEXT_LIMIT])
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    # The one-time key of the form that saved the session: a second submission of that form
    # (back and resubmit, a double click) finds this session instead of saving another.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    # Where an imported session came from (learners.imports: "anki:<deck>:<day>", "csv:<hash>"):
    # importing the same file again finds it and adds nothing. Null, not "", for sessions logged
    # here, as the submission key: the unique constraint skips them.
    import_key = models.CharField(max_length=80, null=True, blank=True, editable=False)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["learner", "-started_at"], name="session_learner_started")]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=MINUTES_MAX), name="session_minutes_range"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=1) & Q(difficulty__lte=5), name="session_difficulty_range"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=100), name="session_confidence_range"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="session_score_range",
            ),
            models.CheckConstraint(condition=Q(focus__gte=1) & Q(focus__lte=5), name="session_focus_range"),
            models.CheckConstraint(
                condition=Q(task_kind__in=TaskKind.values), name="session_task_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["learner", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="session_submission_once",
            ),
            models.UniqueConstraint(
                fields=["learner", "import_key"],
                condition=Q(import_key__isnull=False),
                name="session_import_once",
            ),
        ]
        verbose_name = _("study session")
        verbose_name_plural = _("study sessions")

    def __str__(self) -> str:
        return f"{self.subject} ({self.started_at:%Y-%m-%d})"


class Reflection(models.Model):
    """Metacognitive reflection on one session; `next_time` is checked at the next session."""

    session = models.OneToOneField(StudySession, on_delete=models.CASCADE, related_name="reflection")
    plan = models.TextField(_("plan"), blank=True, validators=[TEXT_LIMIT])
    monitor = models.TextField(_("monitor"), blank=True, validators=[TEXT_LIMIT])
    evaluate = models.TextField(_("evaluate"), blank=True, validators=[TEXT_LIMIT])
    # Asked by the log form before it asked Plan / Monitor / Evaluate / Next time; kept for older rows.
    what_worked = models.TextField(_("what worked"), blank=True, validators=[TEXT_LIMIT])
    next_time = models.TextField(_("what to change next time"), blank=True, validators=[TEXT_LIMIT])
    kept_previous_plan = models.BooleanField(_("kept the previous plan"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reflection")
        verbose_name_plural = _("reflections")

    def __str__(self) -> str:
        return f"Reflection on {self.session}"


class SelfReport(models.Model):
    """A metacognition questionnaire filled in by a learner, and its scores by dimension."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="self_reports")
    answers = models.JSONField()  # item key -> 1..5
    scores = models.JSONField()  # dimension -> mean answer, 1..5
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("self-report")
        verbose_name_plural = _("self-reports")

    def __str__(self) -> str:
        return f"Self-report of {self.learner} ({self.created_at:%Y-%m-%d})"


class StudyTimer(models.Model):
    """A study session in progress, kept on the server so a reload or a closed tab loses nothing."""

    learner = models.OneToOneField(Learner, on_delete=models.CASCADE, related_name="timer")
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    task_kind = models.CharField(_("kind of task"), max_length=20, choices=TaskKind.choices)
    strategy = models.ForeignKey("coach.Strategy", on_delete=models.PROTECT, related_name="+")
    confidence = models.PositiveSmallIntegerField(_("confidence before"), validators=[MaxValueValidator(100)])
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kept_previous_plan = models.BooleanField(null=True, blank=True)
    # The planned session the timer was started from: the session it saves fulfils that one.
    planned = models.ForeignKey(
        "PlannedSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pomodoro = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("study timer")
        verbose_name_plural = _("study timers")

    def __str__(self) -> str:
        return f"Timer of {self.learner}"


GOAL_MINUTES_MIN = 10
# 40 hours a week: beyond it a goal is a typing slip (10,000 minutes is a week of seven 24-hour days).
GOAL_MINUTES_MAX = 2400


class SubjectGoal(models.Model):
    """A learner's weekly goal for one subject, in minutes, and the date of its exam if there is one."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="goals_by_subject")
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    weekly_minutes = models.PositiveIntegerField(
        _("minutes a week"),
        validators=[MinValueValidator(GOAL_MINUTES_MIN), MaxValueValidator(GOAL_MINUTES_MAX)],
    )
    exam_date = models.DateField(_("exam date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subject"]
        verbose_name = _("subject goal")
        verbose_name_plural = _("subject goals")
        constraints = [
            models.UniqueConstraint(Lower("subject"), "learner", name="subject_goal_unique_per_learner"),
            models.CheckConstraint(
                condition=Q(weekly_minutes__gte=GOAL_MINUTES_MIN) & Q(weekly_minutes__lte=GOAL_MINUTES_MAX),
                name="subject_goal_minutes_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject}: {self.weekly_minutes} min/week"


class PlannedSession(models.Model):
    """A study session planned for a day (the learner's local date), from a spacing schedule."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    # Indexed first in planned_learner_day, which serves a lookup by learner alone too.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="planned_sessions", db_index=False
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    strategy = models.ForeignKey(
        "coach.Strategy", on_delete=models.PROTECT, related_name="+", verbose_name=_("strategy")
    )
    planned_for = models.DateField(_("planned for"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    # The session that fulfilled it; a deleted session leaves the plan done.
    session = models.ForeignKey(
        StudySession, on_delete=models.SET_NULL, null=True, blank=True, related_name="planned"
    )
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.SET_NULL, null=True, blank=True, related_name="planned"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_for", "id"]
        indexes = [models.Index(fields=["learner", "planned_for"], name="planned_learner_day")]
        constraints = [
            # At most one open plan per subject and day.
            models.UniqueConstraint(
                Lower("subject"),
                "learner",
                "planned_for",
                condition=Q(status="planned"),
                name="planned_session_one_per_day",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "done", "skipped"]), name="planned_session_status_valid"
            ),
        ]
        verbose_name = _("planned session")
        verbose_name_plural = _("planned sessions")

    def __str__(self) -> str:
        return f"{self.subject} on {self.planned_for:%Y-%m-%d} ({self.status})"


class ReminderSent(models.Model):
    """One reminder e-mail per learner and local day: the row is written before the mail goes, so a
    second worker or a retry finds it and sends nothing."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="reminders_sent")
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["learner", "day"], name="reminder_once_a_day")]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")

    def __str__(self) -> str:
        return f"Reminder to {self.learner} on {self.day:%Y-%m-%d}"


class XapiSync(models.Model):
    """Where a learner's statements stand with the learning record store: asked for after each
    change, done when the sending task finishes; the catch-up sends for every learner behind."""

    learner = models.OneToOneField(Learner, on_delete=models.CASCADE, related_name="xapi_sync")
    requested_at = models.DateTimeField()
    # The `requested_at` the last complete send started from; null until one finishes.
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("xAPI sync")
        verbose_name_plural = _("xAPI syncs")

    def __str__(self) -> str:
        return f"xAPI sync of {self.learner}"


class XapiStatementSent(models.Model):
    """A statement the learning record store has accepted (or already had): not sent again, and
    voided once an edit or a deletion supersedes it."""

    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="xapi_statements_sent", db_index=False
    )
    statement_id = models.UUIDField(unique=True)
    # True once the store has accepted the statement that voids this one.
    voided = models.BooleanField(default=False)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["learner", "voided"], name="xapi_sent_learner_voided")]
        verbose_name = _("xAPI statement sent")
        verbose_name_plural = _("xAPI statements sent")

    def __str__(self) -> str:
        return str(self.statement_id)


# An upload is kept in the database until it is read, so a worker on another machine can read it.
IMPORT_MAX_BYTES = 50 * 1024 * 1024


class ImportJob(models.Model):
    """An Anki or CSV file being imported: read by the worker into a preview, saved on confirmation."""

    class Kind(models.TextChoices):
        ANKI = "anki", _("Anki collection")
        CSV = "csv", _("Metacoach sessions CSV")

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to be read")
        READING = "reading", _("Reading the file")
        READY = "ready", _("Ready to import")
        SAVING = "saving", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Could not be imported")

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    filename = models.CharField(max_length=255)
    # The language of the page that uploaded it: the worker writes the error and notes in it.
    language = models.CharField(max_length=10)
    # The file as uploaded; emptied once it has been read.
    upload = models.BinaryField(null=True, blank=True, editable=False)
    progress = models.PositiveSmallIntegerField(default=0)
    # Reviews (Anki) or rows (CSV) in the file, once known.
    total = models.PositiveIntegerField(default=0)
    # learners.imports.rows.ImportRow.to_json() of each session the file holds, with `duplicate`;
    # emptied once saved.
    preview = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_job_progress_range"),
            models.CheckConstraint(condition=Q(kind__in=["anki", "csv"]), name="import_job_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "reading", "ready", "saving", "done", "failed"]),
                name="import_job_state_valid",
            ),
        ]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.learner} ({self.state})"

    @property
    def active(self) -> bool:
        """The worker has something left to do: the page shows a progress bar and polls."""
        return self.state in {self.State.QUEUED, self.State.READING, self.State.SAVING}


class ApiToken(models.Model):
    """A personal access token for the REST API (learners.api): a name, a scope, and the sha256 of
    its secret. The secret itself is shown once, when it is made, and never stored."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    # The token's first characters, for the learner to tell their tokens apart; not enough to guess.
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=["read", "write"]), name="api_token_scope_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
