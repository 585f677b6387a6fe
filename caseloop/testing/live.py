"""Letting the live server finish its requests before a browser test's database goes away.

A browser test's page may still have requests in flight when the test ends
(an htmx panel loading, the case page's presence beacon). If the live server
is still answering one while the test database is flushed, the two meet on a
table lock ("database table is locked" on SQLite's shared in-memory
database). Browser fixtures stop new requests first, then wait here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.signals import request_finished, request_started

_lock = threading.Lock()
_answering: set[int] = set()  # idents of the threads answering a request now


def _started(**_: Any) -> None:
    with _lock:
        _answering.add(threading.get_ident())


def _finished(**_: Any) -> None:
    with _lock:
        _answering.discard(threading.get_ident())


request_started.connect(_started, dispatch_uid="caseloop.testing.live.started")
request_finished.connect(_finished, dispatch_uid="caseloop.testing.live.finished")


def _busy() -> set[int]:
    """Other live threads answering a request (the test's own thread is not waited for)."""
    alive = {thread.ident for thread in threading.enumerate()}
    with _lock:
        return {ident for ident in _answering if ident in alive and ident != threading.get_ident()}


def wait_until_idle(timeout_s: float = 5.0) -> bool:
    """Wait until no other thread is answering a request; False if one still was after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while _busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not _busy()
