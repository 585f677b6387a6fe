"""Fixtures shared by every domain's tests: actors of each role and the API client."""

from __future__ import annotations

import pytest

from caseloop.testing.factories import make_agent


@pytest.fixture
def agent(db):
    return make_agent(username="agent")


@pytest.fixture
def manager(db):
    from caseloop.identity.choices import Role

    return make_agent(username="manager", role=Role.MANAGER)


@pytest.fixture
def admin_user(db):
    from caseloop.identity.actions import create_user
    from caseloop.identity.choices import Role

    return create_user(username="boss", email="boss@example.com", role=Role.ADMIN, password="a-long-pass-phrase-1")


@pytest.fixture
def customer(db):
    from caseloop.testing.factories import make_customer_user

    return make_customer_user(name="Carla Customer", email="carla@example.com")


@pytest.fixture
def other_customer(db):
    from caseloop.testing.factories import make_customer_user

    return make_customer_user(name="Oscar Other", email="oscar@example.com")
