from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from learners.demo import demo_create
from learners.services.engine_runs import EngineRunAlreadyActive, engine_run_request


class Command(BaseCommand):
    help = "Create a demo learner, an educator and a simulated cohort (development only)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEMO_ALLOWED:
            raise CommandError(
                "Demo accounts have known passwords; "
                "they are created only under the local settings of `make run`."
            )
        accounts = demo_create()
        self.stdout.write(
            self.style.SUCCESS(f"Demo cohort '{accounts.cohort}' with {accounts.members} learners.")
        )
        self.stdout.write(f"  learner:  {accounts.learner} / {accounts.learner}")
        self.stdout.write(f"  educator: {accounts.educator} / {accounts.educator}")
        # The worker meta-trains on the demo cohort as soon as it starts, so advice comes from the engine.
        try:
            run = engine_run_request(requested_by=None)
        except EngineRunAlreadyActive:
            self.stdout.write("An engine run is already queued.")
        else:
            self.stdout.write(f"Engine run {run.pk} queued for the worker.")
