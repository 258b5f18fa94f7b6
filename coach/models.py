"""The strategy catalogue and the engine's store: its runs and the snapshots they leave."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Utility(models.TextChoices):
    """Utility ratings of Dunlosky et al. (2013)."""

    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")


class Strategy(models.Model):
    """A study technique in the catalogue; `position` is its index in the engine's arrays."""

    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=80)
    summary = models.CharField(_("summary"), max_length=200)
    how_to = models.TextField(_("how to"))
    utility = models.CharField(_("utility"), max_length=10, choices=Utility.choices)
    evidence_source = models.CharField(_("evidence source"), max_length=200)
    position = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")

    def __str__(self) -> str:
        return self.name

    # The catalogue is stored in English; these show it in the active language.
    @property
    def label(self) -> str:
        return gettext(self.name)

    @property
    def summary_text(self) -> str:
        return gettext(self.summary)

    @property
    def how_to_text(self) -> str:
        return gettext(self.how_to)


class AdviceSource(models.TextChoices):
    """What a piece of advice was computed from."""

    EVIDENCE = "evidence", _("Published evidence")
    HISTORY = "history", _("Evidence and your own sessions")
    ENGINE = "engine", _("Engine")


class Policy(models.TextChoices):
    """The rule that chose a recommendation (`coach.advice`): the engine's Thompson sampling with
    a price cap or its greedy choice, or, before the engine's first snapshot, the published
    evidence, always greedy."""

    THOMPSON = "thompson", _("Thompson sampling")
    GREEDY = "greedy", _("Greedy")
    EVIDENCE = "evidence", _("Published evidence")


class EngineRun(models.Model):
    """One meta-training run of the engine: its progress, outcome and evaluation figures."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # True while queued or running; a partial unique index lets only one run be active at a time.
    active = models.BooleanField(default=True)
    progress = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    n_learners = models.PositiveIntegerField(default=0)
    n_sessions = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="engine_run_one_active"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="engine_run_progress_range"),
        ]
        verbose_name = _("engine run")
        verbose_name_plural = _("engine runs")

    def __str__(self) -> str:
        return f"Engine run {self.pk} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class EngineSnapshot(models.Model):
    """The fitted learners of a successful run, stored once so every worker loads the same version."""

    run = models.OneToOneField(EngineRun, on_delete=models.CASCADE, related_name="snapshot")
    created_at = models.DateTimeField(auto_now_add=True)
    strategy_slugs = models.JSONField()  # engine index -> catalogue slug
    feature_names = models.JSONField()  # context column -> name
    model_learner = models.BinaryField()
    memory_learner = models.BinaryField()
    # Null in snapshots stored before the optimization learner was fitted; they work without it.
    optimization_learner = models.BinaryField(null=True, blank=True)
    # The combination of the three that ranks, its own state only (weights per bucket of session
    # counts): it is put back together with the learners above. Null in snapshots stored before
    # it was fitted; they rank with the model learner.
    combined_learner = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        verbose_name = _("engine snapshot")
        verbose_name_plural = _("engine snapshots")

    def __str__(self) -> str:
        return f"Snapshot {self.pk} of run {self.run_id}"


class FailedTask(models.Model):
    """A background task that failed for good, its retries spent: shown to administrators."""

    task_name = models.CharField(_("task"), max_length=200)
    task_id = models.CharField(_("task id"), max_length=255, db_index=True)
    # Ids only: any other argument is stored as null (coach.services.failed_task_record).
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    exception_type = models.CharField(_("exception"), max_length=200)
    exception_message = models.TextField(_("message"), blank=True)
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)
    failed_at = models.DateTimeField(_("failed at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-failed_at", "-id"]
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
