from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from learners.demo import demo_create


class Command(BaseCommand):
    help = "Create a demo learner, an educator and a simulated cohort (development only)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts have known passwords; they are created only with DEBUG on.")
        accounts = demo_create()
        self.stdout.write(
            self.style.SUCCESS(f"Demo cohort '{accounts.cohort}' with {accounts.members} learners.")
        )
        self.stdout.write(f"  learner:  {accounts.learner} / {accounts.learner}")
        self.stdout.write(f"  educator: {accounts.educator} / {accounts.educator}")
