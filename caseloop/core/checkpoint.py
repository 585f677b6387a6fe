"""SQLite WAL checkpoints off the request path.

In WAL mode every commit appends pages to the write-ahead log, and by
default the commit that takes the log past 1,000 pages also copies the log
back into the database and syncs it to disk: one request in every few dozen
creates waits for that copy and its fsync (the create's mean commit time was
1.3 ms against a median of 0.4). Instead, each process that opens the
database runs one background thread that checkpoints it (PASSIVE: never
waiting on readers or the writer) every `CASELOOP_WAL_CHECKPOINT_SECONDS`;
pages written many times within a second are copied once. The built-in
auto-checkpoint stays as a safety net at a larger size, so the log cannot grow
without bound if no thread runs (a process that only ever reads, say).
Set the seconds to 0 to keep SQLite's own behaviour.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

SAFETY_NET_PAGES = 10_000  # ~40 MB of log before a commit checkpoints by itself

_running: dict[str, int] = {}  # database path -> pid of the process whose thread checkpoints it
_lock = threading.Lock()


def on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """Django's `connection_created`: hand a file SQLite database's checkpoints to this process's thread."""
    every = float(getattr(settings, "CASELOOP_WAL_CHECKPOINT_SECONDS", 0))
    if connection.vendor != "sqlite" or every <= 0 or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return
    connection.connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    ensure_checkpointer(str(connection.settings_dict["NAME"]), every)


def ensure_checkpointer(path: str, every: float) -> bool:
    """Start this process's checkpoint thread for `path` unless it runs; True if one was started."""
    pid = os.getpid()
    with _lock:
        if _running.get(path) == pid:  # a forked child inherits the map, not the thread
            return False
        _running[path] = pid
    thread = threading.Thread(target=_checkpoint_forever, args=(path, every, pid), daemon=True,
                              name="caseloop-wal-checkpoint")  # fmt: skip
    thread.start()
    return True


def _checkpoint_forever(path: str, every: float, pid: int) -> None:
    database = sqlite3.connect(path, timeout=0.1, check_same_thread=False)
    try:
        while os.path.exists(path):  # a deleted database (a test's) ends the thread
            time.sleep(every)
            try:
                database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # busy or gone: the next round tries again
                logger.debug("WAL checkpoint of %s skipped: %s", path, error)
    finally:
        database.close()
        with _lock:
            if _running.get(path) == pid:
                del _running[path]
