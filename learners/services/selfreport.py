"""Writes for the metacognition self-report."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from learners.models import Learner, SelfReport
from learners.selfreport import ITEM_KEYS, selfreport_score
from learners.services.recommendations import recommendation_request


def selfreport_submit(*, learner: Learner, answers: dict[str, int]) -> SelfReport:
    """Store the answers, score them, and make the scores the learner's profile for the engine."""
    if set(answers) != ITEM_KEYS or any(v not in range(1, 6) for v in answers.values()):
        raise ValidationError(_("Answer every statement on the 1 to 5 scale."), code="incomplete")
    scores = selfreport_score(answers)
    with transaction.atomic():
        report = SelfReport.objects.create(learner=learner, answers=answers, scores=scores)
        learner.profile = scores
        learner.save(update_fields=["profile"])
    # The profile is part of the engine's context: the recommendation may change with it.
    recommendation_request(learner_id=learner.pk)
    return report
