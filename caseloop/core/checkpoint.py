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

A process that forks must first stop its thread (`stop_checkpointers`): the
thread's connection would otherwise cross the fork, which SQLite forbids
(its file locks belong to the parent, while the child inherits SQLite's
in-memory record of them, so the child could believe it holds locks it does
not). `caseloop serve`'s master opens the database before forking its
workers (migrations check, static files) and stops its thread before each fork.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

SAFETY_NET_PAGES = 10_000  # ~40 MB of log before a commit checkpoints by itself

_running: dict[str, int] = {}  # database path -> pid of the process whose thread checkpoints it
_threads: dict[str, tuple[threading.Thread, threading.Event]] = {}  # this process's threads, by database path
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
        stop = threading.Event()
        thread = threading.Thread(target=_checkpoint_forever, args=(path, every, pid, stop), daemon=True,
                                  name="caseloop-wal-checkpoint")  # fmt: skip
        _threads[path] = (thread, stop)
    thread.start()
    return True


def stop_checkpointers(timeout: float = 5.0) -> int:
    """Stop this process's checkpoint threads and close their connections; the number stopped.

    Called before a fork. A connection opened after it starts a thread again.
    """
    pid = os.getpid()
    with _lock:
        # a forked child inherits the parent's map, not its threads
        mine = [(path, thread, stop) for path, (thread, stop) in _threads.items() if _running.get(path) == pid]
        for path, _thread, _stop in mine:
            del _threads[path]
    for _path, _thread, stop in mine:
        stop.set()
    for path, thread, _stop in mine:
        thread.join(timeout)
        if thread.is_alive():  # stuck in a checkpoint past the timeout: say so, the fork goes on
            logger.warning("The WAL checkpoint thread of %s did not stop within %.0f s", path, timeout)
    return len(mine)


def _checkpoint_forever(path: str, every: float, pid: int, stop: threading.Event) -> None:
    database = sqlite3.connect(path, timeout=0.1, check_same_thread=False)
    try:
        # a deleted database (a test's) ends the thread, as does stop_checkpointers()
        while os.path.exists(path) and not stop.wait(every):
            try:
                database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # busy or gone: the next round tries again
                logger.debug("WAL checkpoint of %s skipped: %s", path, error)
    finally:
        database.close()
        with _lock:
            if _running.get(path) == pid:
                del _running[path]
            mine = _threads.get(path)
            if mine is not None and mine[1] is stop:
                del _threads[path]
