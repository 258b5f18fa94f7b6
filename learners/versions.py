"""Versions of a learner's and a cohort's data, so that what is built from them can be kept.

A page part built from a learner's sessions (the dashboard's figures and charts) or from a cohort's
(its overview) is cached under a key holding the version of that data; any change gives the data a
new version, so the next request builds the part afresh and the old entry simply expires. Versions
live in the cache that every process shares (files under var/ in the embedded default, Redis in
production), so a change written by the worker reaches the web processes too.

Writes that go through the ORM's save() and delete() bump the version by signal (learners.signals);
bulk writes (QuerySet.update, bulk_create) send no signals and must call learner_changed()
themselves.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

from learners.models import CohortMembership

# Part of every version: raise it when the shape of what is cached changes (DashboardData,
# CohortOverview), so that a release never reads an entry pickled by the one before.
FORMAT = 1
# Longer than any entry that depends on a version: an expired version only costs a rebuild.
VERSION_SECONDS = 7 * 24 * 3600


def _learner_key(learner_id: int) -> str:
    return f"version:{FORMAT}:learner:{learner_id}"


def _cohort_key(cohort_id: int) -> str:
    return f"version:{FORMAT}:cohort:{cohort_id}"


def _version(key: str) -> str:
    found: str | None = cache.get(key)
    if found is None:
        token = f"{FORMAT}-{secrets.token_hex(8)}"
        # add() rather than set(): two requests meeting a missing version agree on the first one.
        found = token if cache.add(key, token, VERSION_SECONDS) else (cache.get(key) or token)
    return found


# The strategy catalogue's names and ratings are on every page built here; an administrator's edit
# renews them all.
_CATALOGUE_KEY = f"version:{FORMAT}:catalogue"


def learner_version(learner_id: int) -> str:
    return _version(_learner_key(learner_id)) + _version(_CATALOGUE_KEY)


def cohort_version(cohort_id: int) -> str:
    return _version(_cohort_key(cohort_id)) + _version(_CATALOGUE_KEY)


def learner_changed(learner_id: int, *, own_pages: bool = True) -> None:
    """The learner's data changed, and with it the overview of each cohort they belong to.

    own_pages=False for what only their cohorts' pages show (what became of a recommendation)."""
    cohort_ids = CohortMembership.objects.filter(learner_id=learner_id).values_list("cohort_id", flat=True)
    _renew([_cohort_key(c) for c in cohort_ids] + ([_learner_key(learner_id)] if own_pages else []))


def cohort_changed(cohort_id: int) -> None:
    _renew([_cohort_key(cohort_id)])


def catalogue_changed() -> None:
    _renew([_CATALOGUE_KEY])


def _renew(keys: list[str]) -> None:
    """New versions at once, so the writing request reads its own change, and again when the
    transaction commits: a page another request built in between, from the rows as they were
    before the commit, is left behind under the version before."""

    def renew() -> None:
        cache.set_many({key: f"{FORMAT}-{secrets.token_hex(8)}" for key in keys}, VERSION_SECONDS)

    renew()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(renew)
