"""What `caseloop serve` tells the worker processes it forks about themselves.

Django's code cannot see gunicorn's settings, yet a long-held response (a chat
visitor's event stream) must know how many request threads its process has:
one stream per thread would leave the process none for anything else. The
server puts its thread count in the environment before forking; under any other
server (or none: tests, the CLI) nothing is set and callers keep their settings.
"""

from __future__ import annotations

import os

THREADS_ENV = "CASELOOP_SERVER_THREADS"


def announce_threads(threads: int) -> None:
    """Called by `caseloop serve` before its workers are forked."""
    os.environ[THREADS_ENV] = str(threads)


def request_threads() -> int | None:
    """Request threads per process of the `caseloop serve` running this one; None when not known."""
    raw = os.environ.get(THREADS_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None
