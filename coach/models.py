"""The strategy catalogue and what the engine writes: recommendations (and, later, engine runs)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
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


class Recommendation(models.Model):
    """Ranked strategies for a learner's next session, with the reason the learner is shown."""

    class Status(models.TextChoices):
        SHOWN = "shown", _("Shown")
        FOLLOWED = "followed", _("Followed")
        DISMISSED = "dismissed", _("Dismissed")

    class Source(models.TextChoices):
        EVIDENCE = "evidence", _("Published evidence")
        HISTORY = "history", _("Evidence and your own sessions")
        ENGINE = "engine", _("Engine")

    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="recommendations")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=100, blank=True)
    task_kind = models.CharField(_("kind of task"), max_length=20, blank=True)
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="+")
    expected_score = models.FloatField()
    score_std = models.FloatField()
    exploration = models.BooleanField(default=False)
    reason = models.TextField()
    # [{"slug", "name", "expected", "std", "low", "high", ...}] best first.
    ranking = models.JSONField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # What the recommendation was computed from; a refresh with the same basis is a no-op.
    basis = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SHOWN)
    dismissed_reason = models.CharField(max_length=200, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
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
