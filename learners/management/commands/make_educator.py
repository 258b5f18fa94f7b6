"""`manage.py make_educator <username>`: give a user the educator panel."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from learners.services.cohorts import educator_grant, educator_revoke


class Command(BaseCommand):
    help = "Add a user to the Educators group, which opens the educator panel at /educator/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--remove", action="store_true", help="Take the educator role away instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        if options["remove"]:
            educator_revoke(user=user)
            self.stdout.write(f"{user.get_username()} is no longer an educator.")
        else:
            educator_grant(user=user)
            self.stdout.write(f"{user.get_username()} is now an educator.")
