"""The one place caseloop asks what time it is, so tests can move the clock."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current aware UTC time (or the frozen time inside `frozen_at`)."""
    return _frozen if _frozen is not None else timezone.now()


@contextlib.contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    """Freeze `now()` at `moment` for the duration of the block (tests only)."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
