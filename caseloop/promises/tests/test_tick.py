"""`caseloop tick` (and the three management commands it runs): one pass of every time-driven check."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop import cli
from caseloop.core import clock
from caseloop.promises.actions import make_promise
from caseloop.promises.choices import PromiseKind, PromiseState
from caseloop.promises.models import Promise
from caseloop.promises.tests.support import T0, minutes
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


def test_tick_runs_the_approval_sla_and_promise_checks_once(agent, capsys):
    case = make_case()
    with clock.frozen_at(T0):
        promise = make_promise(
            actor=agent, case=case, kind=PromiseKind.CALL_BACK, description="call back", due_at=T0 + minutes(30)
        )
    with clock.frozen_at(T0 + dt.timedelta(hours=1)):
        status = cli.main(["tick"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out == [
        "approvals: 0 reminded, 0 escalated, 0 with nobody left",
        "sla: 0 breached, 0 warned",
        "promises: 0 kept at due, 1 broken, 0 at risk, 0 reminded, 1 notices, 1 apologies",
        "webhooks: 0 processed requests purged",
    ]
    assert Promise.objects.get(pk=promise.pk).state == PromiseState.BROKEN


def test_tick_refuses_a_bad_interval(capsys):
    assert cli.main(["tick", "--every", "0"]) == 2
    assert "--every" in capsys.readouterr().err
