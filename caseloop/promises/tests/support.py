"""Helpers for the tests of the promises, policies, SLA and pricing domains."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.test import TestCase

from caseloop.core import clock

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@contextlib.contextmanager
def committed(at: dt.datetime | None = None) -> Iterator[None]:
    """Run the block at `at` (frozen clock) and then its after-commit listeners, as a real commit would."""
    with contextlib.ExitStack() as stack:
        if at is not None:
            stack.enter_context(clock.frozen_at(at))
        stack.enter_context(TestCase.captureOnCommitCallbacks(execute=True))
        yield
