"""Writes for cohorts: creating and running them, join codes, joining and leaving."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learners.models import Cohort, CohortMembership, Learner
from learners.permissions import EDUCATORS, is_educator

# No 0/O or 1/I/L: codes are read aloud and copied from a projector.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def educator_grant(*, user: User) -> None:
    """Give a user the educator panel."""
    user.groups.add(Group.objects.get_or_create(name=EDUCATORS)[0])


def educator_revoke(*, user: User) -> None:
    user.groups.remove(*Group.objects.filter(name=EDUCATORS))


def join_code_normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def cohort_create(*, owner: User, name: str) -> Cohort:
    with transaction.atomic():
        cohort = Cohort(owner=owner, name=name.strip())
        cohort.full_clean(exclude=["join_code"])
        cohort.save()
        join_code_renew(cohort=cohort, expires_at=None)
    return cohort


def cohort_rename(*, cohort: Cohort, name: str) -> Cohort:
    cohort.name = name.strip()
    cohort.full_clean()
    cohort.save(update_fields=["name"])
    return cohort


def cohort_policy_set(*, cohort: Cohort, rule: str, max_cost: int) -> Cohort:
    """How the coach chooses for the members, from each one's next recommendation (the setting
    is part of a recommendation's basis)."""
    cohort.policy_rule = rule
    cohort.policy_max_cost = max_cost
    cohort.full_clean()
    cohort.save(update_fields=["policy_rule", "policy_max_cost"])
    return cohort


def cohort_set_archived(*, cohort: Cohort, archived: bool) -> Cohort:
    """An archived cohort keeps its data for the educators but takes no new members."""
    cohort.archived = archived
    if archived:
        cohort.join_code = None
        cohort.join_code_expires_at = None
    cohort.save(update_fields=["archived", "join_code", "join_code_expires_at"])
    return cohort


def cohort_add_co_teacher(*, cohort: Cohort, username: str) -> User:
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None or not is_educator(user):
        raise ValidationError(_("There is no educator with that username."), code="not_educator")
    if user.pk == cohort.owner_id:
        raise ValidationError(_("The owner already runs this cohort."), code="owner")
    cohort.co_teachers.add(user)
    return user


def cohort_remove_co_teacher(*, cohort: Cohort, user_id: int) -> None:
    cohort.co_teachers.remove(user_id)


def join_code_renew(*, cohort: Cohort, expires_at: datetime | None) -> Cohort:
    """A fresh random code; the old one stops working at once."""
    if cohort.archived:
        raise ValidationError(_("An archived cohort takes no new members."), code="archived")
    for _attempt in range(5):
        cohort.join_code = _new_code()
        cohort.join_code_expires_at = expires_at
        try:
            with transaction.atomic():
                cohort.save(update_fields=["join_code", "join_code_expires_at"])
        except IntegrityError:
            continue  # another cohort drew the same code
        return cohort
    raise RuntimeError("could not draw an unused join code")


def join_code_revoke(*, cohort: Cohort) -> Cohort:
    cohort.join_code = None
    cohort.join_code_expires_at = None
    cohort.save(update_fields=["join_code", "join_code_expires_at"])
    return cohort


def cohort_by_code(*, code: str) -> Cohort:
    """The cohort a code lets one join now; a ValidationError says why not."""
    normalised = join_code_normalise(code)
    cohort = (
        Cohort.objects.select_related("owner").filter(join_code=normalised).first() if normalised else None
    )
    if cohort is None or cohort.archived:
        raise ValidationError(
            _("This join code is not valid. Ask your educator for a new one."), code="invalid"
        )
    if cohort.join_code_expires_at is not None and cohort.join_code_expires_at <= timezone.now():
        raise ValidationError(
            _("This join code has expired. Ask your educator for a new one."), code="expired"
        )
    return cohort


def cohort_join(*, learner: Learner, code: str, share_reflections: bool) -> CohortMembership:
    cohort = cohort_by_code(code=code)
    with transaction.atomic():
        membership, created = CohortMembership.objects.get_or_create(
            cohort=cohort, learner=learner, defaults={"share_reflections": share_reflections}
        )
        if not created and membership.share_reflections != share_reflections:
            membership.share_reflections = share_reflections
            membership.save(update_fields=["share_reflections"])
    return membership


def membership_set_sharing(*, membership: CohortMembership, share_reflections: bool) -> CohortMembership:
    membership.share_reflections = share_reflections
    membership.save(update_fields=["share_reflections"])
    return membership


def cohort_leave(*, membership: CohortMembership) -> None:
    membership.delete()
