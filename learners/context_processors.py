from django.http import HttpRequest

from learners.permissions import is_educator


def roles(request: HttpRequest) -> dict[str, bool]:
    """Whether the navigation offers the educator panel."""
    return {"is_educator": is_educator(request.user)}


def email_status(request: HttpRequest) -> dict[str, bool]:
    """Whether every page reminds the learner to confirm their address; the profile is already
    loaded by LearnerTimezoneMiddleware, so this costs no query."""
    user = request.user
    if not user.is_authenticated:
        return {"email_unconfirmed": False}
    learner = getattr(user, "learner", None)
    unconfirmed = bool(learner is not None and user.email and learner.email_verified_at is None)
    return {"email_unconfirmed": unconfirmed}
