"""Fixtures the workspace's view tests share: a small world of cases (`s`) and a rep signed in to it."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.web.tests.scenario import Scenario, build_scenario


@pytest.fixture
def s() -> Scenario:
    return build_scenario()


@pytest.fixture
def staff(client: Client, s: Scenario) -> Client:
    client.force_login(s.agent)
    return client
