"""Writes on a person's e-mail address: confirming it by a signed link, changing it, and the mail
that recovers a forgotten password.

Mail goes out after the transaction commits, from the worker (`learners.tasks`); if the broker
cannot be reached the web process sends it itself, so a new user always gets their link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from learners.models import Learner

logger = logging.getLogger(__name__)

VERIFICATION_SALT = "learners.email-verification"
# Long enough for a link read the next weekend; a stale link is refused and another can be sent.
VERIFICATION_MAX_AGE = 7 * 24 * 3600


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether someone else uses the address, compared case-insensitively as people type it."""
    users = get_user_model().objects.filter(email__iexact=email.strip())
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def email_validate(*, email: str, user_id: int | None = None) -> str:
    """The address as stored, or a ValidationError saying what is wrong with it."""
    email = get_user_model().objects.normalize_email(email.strip())
    validate_email(email)
    if email_taken(email=email, exclude_user_id=user_id):
        raise ValidationError(_("Another account uses this e-mail address."), code="taken")
    return email


def email_verification_token(*, user: User) -> str:
    """A signed, dated token naming the user and the address: a later change makes it void."""
    signer = signing.TimestampSigner(salt=VERIFICATION_SALT)
    return signer.sign_object({"user": user.pk, "email": user.email.lower()})


def email_verify(*, token: str) -> Learner:
    """Mark the address in a valid token confirmed; a tampered, stale or outdated one is refused."""
    signer = signing.TimestampSigner(salt=VERIFICATION_SALT)
    try:
        claim = signer.unsign_object(token, max_age=VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ValidationError(_("This link has expired. Send yourself a new one."), code="expired") from exc
    except (signing.BadSignature, ValueError) as exc:
        raise ValidationError(_("This link is not valid."), code="invalid") from exc
    with transaction.atomic():
        learner = (
            Learner.objects.select_related("user").select_for_update().filter(user_id=claim["user"]).first()
        )
        if learner is None or learner.user.email.lower() != claim["email"]:
            raise ValidationError(_("This link is not valid."), code="invalid")
        if learner.email_verified_at is None:
            learner.email_verified_at = timezone.now()
            learner.save(update_fields=["email_verified_at"])
    return learner


def email_change(*, learner: Learner, email: str, base_url: str, language: str) -> bool:
    """Set a new address, unconfirmed until its link is followed; False when it was already the one."""
    user = learner.user
    email = email_validate(email=email, user_id=user.pk)
    if email == user.email:
        return False
    with transaction.atomic():
        user.email = email
        user.save(update_fields=["email"])
        learner.email_verified_at = None
        learner.save(update_fields=["email_verified_at"])
        email_verification_request(user_id=user.pk, base_url=base_url, language=language)
    return True


def email_verification_request(*, user_id: int, base_url: str, language: str) -> None:
    """Send the confirmation link once the current transaction commits."""
    from learners.tasks import email_verification_send_task  # tasks import services; import late

    _after_commit(
        lambda: email_verification_send_task.delay(user_id, base_url, language),
        lambda: email_verification_send(user_id=user_id, base_url=base_url, language=language),
    )


def email_verification_send(*, user_id: int, base_url: str, language: str) -> bool:
    """Mail the confirmation link; nothing when the address is gone or already confirmed."""
    learner = Learner.objects.select_related("user").filter(user_id=user_id).first()
    if learner is None or not learner.user.email or learner.email_verified_at is not None:
        return False
    user = learner.user
    path = reverse("email-verify", args=[email_verification_token(user=user)])
    context = {"user": user, "link": base_url.rstrip("/") + path}
    _mail(user=user, template="emails/email_verification", context=context, language=language)
    return True


def password_reset_request(*, email: str, base_url: str, language: str) -> None:
    """Mail a reset link to each active account with the address; nothing tells whether one exists."""
    from learners.tasks import password_reset_send_task  # tasks import services; import late

    users = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True)
    for user_id in users.values_list("pk", flat=True):
        _after_commit(
            partial(password_reset_send_task.delay, user_id, base_url, language),
            partial(password_reset_send, user_id=user_id, base_url=base_url, language=language),
        )


def password_reset_send(*, user_id: int, base_url: str, language: str) -> bool:
    """Mail a link with Django's reset token, which a changed password or a login makes void."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    context = {"user": user, "link": base_url.rstrip("/") + path}
    _mail(user=user, template="emails/password_reset", context=context, language=language)
    return True


def _after_commit(queue: Callable[[], object], send_here: Callable[[], object]) -> None:
    def send() -> None:
        try:
            queue()
        except (BrokerError, OSError) as exc:
            logger.warning("Broker unavailable, sending mail from the web process: %s", exc)
            send_here()

    transaction.on_commit(send)


def _mail(*, user: User, template: str, context: dict[str, object], language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}.txt", context)
    send_mail(subject, body, None, [user.email])
