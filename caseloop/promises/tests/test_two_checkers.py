"""Two workers ticking at the same moment (`caseloop worker --tick` on two machines) break each promise once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import override_settings

from caseloop.core import clock
from caseloop.promises.actions import make_promise
from caseloop.promises.checker import CheckResult, check_promises
from caseloop.promises.choices import NoticeKind, PromiseKind, PromiseState
from caseloop.promises.models import Notice, Promise
from caseloop.promises.tests.support import T0, minutes
from caseloop.testing.factories import make_agent, make_case
from caseloop.timeline.models import TimelineEvent

PROMISES = 30


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@override_settings(CASELOOP_PROMISE_NOTICES_PER_PASS=1000)  # a notice per promise, so each one can be counted
def test_two_checkers_at_once_break_each_promise_once_with_one_notice() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN: the two passes cannot overlap there")
    # given promises past due, owed by one agent
    agent = make_agent()
    with clock.frozen_at(T0):
        for n in range(PROMISES):
            make_promise(actor=agent, case=make_case(), kind=PromiseKind.CALL_BACK, description=f"call {n}",
                         due_at=T0 + minutes(60))  # fmt: skip
    # when two checkers pass at the same moment, each in its own connection, in small batches that interleave
    start = threading.Barrier(2)
    results: list[CheckResult] = []

    def tick() -> None:
        try:
            start.wait()
            results.append(check_promises(now=T0 + minutes(90), batch=4))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every promise is broken once: one notice to its owner, one event on the case and one on the customer
    assert len(results) == 2 and sum(r.broken for r in results) == PROMISES
    assert Promise.objects.filter(state=PromiseState.BROKEN).count() == PROMISES
    assert Notice.objects.filter(kind=NoticeKind.BROKEN, recipient=agent).count() == PROMISES
    assert TimelineEvent.objects.filter(kind="promise.broken").count() == 2 * PROMISES
    # and a pass after them finds nothing left to do
    assert check_promises(now=T0 + minutes(91)).broken == 0
