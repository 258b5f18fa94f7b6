"""factory_boy factories for the domain; strategies come from the seeded catalogue."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from coach.models import Strategy
from learners.models import Cohort, Learner, StudySession, TaskKind
from learners.services.cohorts import educator_grant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


def educator(username: str, **fields: object) -> User:
    """A user in the Educators group, as `manage.py make_educator` makes them."""
    user = UserFactory(username=username, **fields)
    educator_grant(user=user)
    return user


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    user = factory.SubFactory(UserFactory)


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n}")
    owner = factory.SubFactory(UserFactory)
    join_code = factory.Sequence(lambda n: f"CODE{n:06d}")


class StudySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySession

    learner = factory.SubFactory(LearnerFactory)
    subject = "Biology"
    task_kind = TaskKind.MEMORISE
    strategy = factory.LazyFunction(lambda: Strategy.objects.get(slug="practice-testing"))
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    minutes = 30
    difficulty = 3
    confidence = 70
    score = 60
    focus = 4
