"""Writes behind the dashboard: the learner's answers to nudges, and its panel built ahead.

The panel below the recommendation card (figures, charts, tables) is cached until the learner's
data changes (learners.versions). Every session saved changes it, so without help the learner's
next visit would pay for rebuilding it; the worker rebuilds it instead, right after it has
refreshed the learner's recommendation, so the visit finds it ready.

The build is the least urgent work the worker has: it waits on a queue of its own behind every
refresh (settings.LOW_QUEUE), and is skipped when the learner's data changed again while it
waited, since that change brings a newer build (or the visit builds it).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from kombu.exceptions import OperationalError as BrokerError

from learners import versions
from learners.charts import calibration_sentence, dashboard_charts
from learners.models import Learner
from learners.selectors import dashboard
from learners.selectors import sessions as session_selectors
from learners.selectors.goals import goal_progress, subject_figures

logger = logging.getLogger(__name__)
PANEL_TEMPLATE = "learners/_dashboard_panel.html"
PANEL_FRAGMENT = "dashboard-panel"  # the {% cache %} fragment's name in learners/home.html

NUDGES = frozenset({"illusion-of-competence"})


def nudge_dismiss(*, learner: Learner, key: str) -> Learner:
    """Remember that the learner has seen a nudge, so it is never shown again."""
    if key not in NUDGES:
        raise ValueError(f"unknown nudge {key!r}")
    with transaction.atomic():
        fresh = Learner.objects.select_for_update().get(pk=learner.pk)
        if key not in fresh.dismissed_nudges:
            fresh.dismissed_nudges = [*fresh.dismissed_nudges, key]
            fresh.save(update_fields=["dismissed_nudges"])
        learner.dismissed_nudges = fresh.dismissed_nudges
    return learner


def dashboard_panel_context(*, learner: Learner, data: dashboard.DashboardData) -> dict[str, Any]:
    """What the panel's template reads; the costly parts are built only when it renders."""
    return {
        "data": data,
        "charts": SimpleLazyObject(lambda: dashboard_charts(data)),
        "calibration_sentence": calibration_sentence(data.calibration_stats)
        if data.calibration_stats
        else "",
        "goals": SimpleLazyObject(lambda: goal_progress(learner=learner)),
        "subjects": SimpleLazyObject(lambda: subject_figures(learner=learner)),
        "recent": SimpleLazyObject(lambda: list(session_selectors.session_list(learner=learner)[:5])),
    }


def dashboard_panel_warm(*, learner_id: int, version: str | None = None) -> bool:
    """Build the learner's dashboard panel into the shared cache unless it is there already.

    Built as the page would build it: in the learner's language (the site's default when they
    chose none) and time zone, under the page's key. `version` is the learner's data version
    when the build was asked for: nothing is built if it has changed since. True when built.
    """
    if version is not None and version != versions.learner_version(learner_id):
        return False
    learner = Learner.objects.select_related("user").filter(pk=learner_id).first()
    if learner is None:
        return False  # the account was deleted meanwhile
    language = learner.language if learner.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(session_selectors.learner_zone(learner=learner)):
        key = dashboard.dashboard_key(learner=learner)
        fragment = make_template_fragment_key(PANEL_FRAGMENT, [key])
        if cache.get(fragment) is not None:
            return False
        data = dashboard.dashboard_data_cached(learner=learner, key=key)
        html = render_to_string(PANEL_TEMPLATE, dashboard_panel_context(learner=learner, data=data))
        cache.set(fragment, html, dashboard.DASHBOARD_SECONDS)
    return True


def dashboard_panel_warm_request(*, learner_id: int) -> None:
    """Ask the worker to build the learner's dashboard panel ahead of their visit; without a
    broker the visit builds it, so nothing is lost."""
    from learners.tasks import dashboard_panel_warm_task  # tasks import services; import late

    try:
        dashboard_panel_warm_task.delay(learner_id, versions.learner_version(learner_id))
    except (BrokerError, OSError) as exc:
        logger.info("Broker unavailable, learner %s's dashboard built on their visit: %s", learner_id, exc)
