"""What `caseloop serve` tells the worker processes it forks about themselves.

Django's code cannot see gunicorn's settings, yet a long-held response (a chat
visitor's event stream) must know how many request threads its process has:
one stream per thread would leave the process none for anything else. The
server puts its thread count in the environment before forking; under any other
server (or none: tests, the CLI) nothing is set and callers keep their settings.
"""

from __future__ import annotations

import errno
import os
import socket

THREADS_ENV = "CASELOOP_SERVER_THREADS"


def announce_threads(threads: int) -> None:
    """Called by `caseloop serve` before its workers are forked."""
    os.environ[THREADS_ENV] = str(threads)


def request_threads() -> int | None:
    """Request threads per process of the `caseloop serve` running this one; None when not known."""
    raw = os.environ.get(THREADS_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port now ("already in use", a system error), or None if it can.

    Binds a socket as gunicorn would (SO_REUSEADDR, so a port left in TIME_WAIT counts as free) and closes it
    at once; a name that does not resolve is left for the server to report.
    """
    try:
        addresses = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return None
    family, kind, proto, _name, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return None
