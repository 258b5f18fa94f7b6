from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoachConfig(AppConfig):
    name = "coach"
    verbose_name = "Coach"

    def ready(self) -> None:
        # Importing the app here makes it the current app for every process that loads Django,
        # so shared tasks enqueued from a web request reach the configured broker; task_events
        # connects the task signals (an event per task run, failed tasks recorded).
        from coach import task_events  # noqa: F401
        from coach.celery import app  # noqa: F401

        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        if settings.CELERY_BROKER_URL.startswith("filesystem"):
            for key in ("data_folder_in", "data_folder_out", "control_folder"):
                if key in options:
                    Path(options[key]).mkdir(parents=True, exist_ok=True)
