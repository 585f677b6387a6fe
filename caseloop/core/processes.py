"""Processes: whether one is still there (the write gate's holder, a worker's parent), and forking safely."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while `pid` is a running process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:  # no /proc here: kill's answer is all there is
        return True


def close_databases_before_fork() -> None:
    """Close every database connection of this process, the WAL checkpoint threads' included, before fork().

    SQLite forbids carrying a connection across fork(): the child inherits
    SQLite's record of the parent's file locks without the locks (ADR 0067,
    amendment); a PostgreSQL connection shared by two processes mixes their
    conversations. Both sides open new connections when they next need one.
    """
    from django.db import connections

    from caseloop.core import checkpoint

    connections.close_all()
    checkpoint.stop_checkpointers()
