from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from coach.models import EngineRun
from learners.models import CohortMembership, Learner, StudySession

pytestmark = pytest.mark.django_db


def test_demo_creates_the_learner_the_educator_and_a_cohort_and_queues_a_retrain(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_ALLOWED = True
    with mock.patch("learners.tasks.engine_run_execute_task.delay"):
        call_command("demo", stdout=mock.MagicMock())
    demo = Learner.objects.get(user__username="demo")
    assert demo.user.check_password("demo")
    assert StudySession.objects.filter(learner=demo).exists()
    assert CohortMembership.objects.filter(learner=demo, cohort__owner__username="teacher").exists()
    assert EngineRun.objects.filter(active=True).count() == 1


def test_demo_refuses_outside_the_local_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="local settings"):
        call_command("demo")
    assert not Learner.objects.filter(user__username="demo").exists()
