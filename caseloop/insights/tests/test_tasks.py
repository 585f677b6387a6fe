"""Background work where the task backend can defer: surveys queued for their time, refreshes chained once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from caseloop.core import clock
from caseloop.feedback.actions import schedule_survey
from caseloop.feedback.tests.factories import START, solved_case
from caseloop.insights.actions import schedule_next_refresh
from caseloop.insights.models import RefreshState

pytestmark = pytest.mark.django_db

DEFERRING = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def queued(name):
    backend = task_backends["default"]
    assert isinstance(backend, DummyBackend)
    return [result for result in backend.results if result.task.name == name]


@override_settings(TASKS=DEFERRING)
def test_a_survey_is_queued_for_its_time(agent, django_capture_on_commit_callbacks):
    case = solved_case(agent=agent)
    with clock.frozen_at(START), django_capture_on_commit_callbacks(execute=True):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None
    [sending] = queued("send_survey")
    assert (sending.task.run_after, sending.args) == (START + dt.timedelta(hours=1), [survey.pk])


@override_settings(TASKS=DEFERRING, CASELOOP_INSIGHTS_REFRESH_MINUTES=15)
def test_the_next_refresh_is_queued_once(django_capture_on_commit_callbacks):
    with clock.frozen_at(START), django_capture_on_commit_callbacks(execute=True):
        assert schedule_next_refresh() is True
        assert schedule_next_refresh() is False  # another worker got there first
    assert [r.task.run_after for r in queued("refresh")] == [START + dt.timedelta(minutes=15)]
    assert RefreshState.objects.get().next_refresh_at == START + dt.timedelta(minutes=15)
    with clock.frozen_at(START + dt.timedelta(minutes=15)), django_capture_on_commit_callbacks(execute=True):
        assert schedule_next_refresh() is True  # that one is due: the chain goes on


def test_without_a_deferring_backend_nothing_is_chained():
    assert schedule_next_refresh() is False
    assert RefreshState.objects.count() == 0
