"""Writes of the engine page's coaching figures: computed by the worker into the cache, asked
for by the page when they are missing or out of date (learners.selectors.coaching)."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from learners.models import Cohort
from learners.selectors.coaching import (
    KEEP_SECONDS,
    CoachingEntry,
    CoachingRow,
    coaching_basis,
    coaching_key,
    coaching_value,
)

logger = logging.getLogger(__name__)
# A request for figures is not repeated for this long (a task queued but not yet run, or lost).
QUEUED_SECONDS = 600


def coaching_value_refresh(*, cohort_id: int | None) -> CoachingEntry | None:
    """Compute a cohort's figures (None: all learners') and keep them; safe to run twice.

    The basis is read first: data written while the figures are computed gives a newer basis,
    and the page asks again."""
    cohort = None
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id).first()
        if cohort is None:
            return None  # deleted meanwhile
    basis = coaching_basis(cohort_id=cohort_id)
    entry = CoachingEntry(basis=basis, computed_at=timezone.now(), value=coaching_value(cohort=cohort))
    cache.set(coaching_key(cohort_id=cohort_id), entry, KEEP_SECONDS)
    return entry


def coaching_value_request(*, rows: list[CoachingRow]) -> bool:
    """Queue a refresh of each group whose figures are missing or out of date, once per basis.

    False when the broker could not be reached (the page says the figures may be late)."""
    from learners.tasks import coaching_value_refresh_task  # tasks import services; import late

    for row in rows:
        if row.current:
            continue
        cohort_id = row.cohort.pk if row.cohort else None
        claim = f"{coaching_key(cohort_id=cohort_id)}:queued:{coaching_basis(cohort_id=cohort_id)}"
        if not cache.add(claim, 1, QUEUED_SECONDS):
            continue  # asked already
        try:
            coaching_value_refresh_task.delay(cohort_id)
        except (BrokerError, OSError) as exc:
            cache.delete(claim)
            logger.warning("Broker unavailable, coaching figures not refreshed: %s", exc)
            return False
    return True
