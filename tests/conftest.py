"""Personas shared by the suite: alice studies, bob studies too, charlie teaches another cohort."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from learners.models import Learner
from tests.factories import CohortFactory, LearnerFactory, UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(db: None) -> Learner:
    return LearnerFactory(user=UserFactory(username="alice"))


@pytest.fixture
def bob(db: None) -> Learner:
    return LearnerFactory(user=UserFactory(username="bob"))


@pytest.fixture
def charlie(db: None):  # type: ignore[no-untyped-def]
    """An educator who owns a cohort that neither alice nor bob belongs to."""
    user = UserFactory(username="charlie")
    user.groups.add(Group.objects.get_or_create(name="Educators")[0])
    CohortFactory(owner=user)
    return user


@pytest.fixture
def alice_client(alice: Learner) -> Client:
    client = Client()
    client.force_login(alice.user)
    return client


@pytest.fixture
def charlie_client(charlie) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(charlie)
    return client
