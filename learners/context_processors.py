from django.http import HttpRequest

from learners.permissions import is_educator


def roles(request: HttpRequest) -> dict[str, bool]:
    """Whether the navigation offers the educator panel."""
    return {"is_educator": is_educator(request.user)}
