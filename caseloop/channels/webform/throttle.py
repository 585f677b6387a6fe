"""Fixed-window rate limits counted in the database, so several app servers agree.

`take_slot` is the check and the increment in one conditional UPDATE
(count < limit), so two requests racing for the last slot cannot both win;
the first request of a window inserts its row, and a concurrent first insert
is absorbed by the unique key. Fixed windows let a client send up to twice the
limit across a window boundary; that is the price of one row per key.

The web form and the portal's sign-in links use it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from caseloop.channels.webform.models import RateWindow
from caseloop.core import clock


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: dt.timedelta  # until the window ends; zero when allowed

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, at least 1 (for messages to people)."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


_ALLOWED = Verdict(allowed=True, retry_after=dt.timedelta(0))


def _key_hash(scope: str, key: str) -> str:
    return salted_hmac("caseloop.throttle", f"{scope}\0{key}", algorithm="sha256").hexdigest()


def window_start(moment: dt.datetime, window_seconds: int) -> dt.datetime:
    epoch = int(moment.timestamp()) // window_seconds * window_seconds
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def take_slot(*, scope: str, key: str, limit: int, window_seconds: int) -> Verdict:
    """Count one request of `key` in the current window, unless the window's `limit` is reached."""
    now = clock.now()
    start = window_start(now, window_seconds)
    refused = Verdict(allowed=False, retry_after=start + dt.timedelta(seconds=window_seconds) - now)
    if limit <= 0:
        return refused
    rows = RateWindow.objects.filter(scope=scope, key_hash=_key_hash(scope, key), window_start=start)
    for _ in range(2):
        if rows.filter(count__lt=limit).update(count=F("count") + 1):
            return _ALLOWED
        if rows.exists():
            return refused
        try:
            with transaction.atomic():
                RateWindow.objects.create(scope=scope, key_hash=_key_hash(scope, key), window_start=start, count=1)
                # a new window: windows that ended long ago no longer count, and their rows go
                RateWindow.objects.filter(scope=scope, window_start__lt=start - dt.timedelta(days=1)).delete()
            return _ALLOWED
        except IntegrityError:
            continue  # another request inserted this window's row first: count against it
    return refused
