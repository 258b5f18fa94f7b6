from django.http import HttpRequest

EDUCATORS = "Educators"


def roles(request: HttpRequest) -> dict[str, bool]:
    """Whether the navigation offers the educator panel."""
    user = request.user
    is_educator = user.is_authenticated and user.groups.filter(name=EDUCATORS).exists()
    return {"is_educator": is_educator}
