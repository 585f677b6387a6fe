"""WAL checkpoints happen in each process's background thread, not in the commit that fills the log."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from caseloop.core import checkpoint


def test_the_thread_copies_the_log_into_the_database_and_stops_with_it(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.sqlite3")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # nothing but the thread checkpoints
    writer.execute("CREATE TABLE t (x TEXT)")
    with writer:
        writer.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * 2000)
    size_before = Path(path).stat().st_size
    assert checkpoint.ensure_checkpointer(path, 0.05) is True
    assert checkpoint.ensure_checkpointer(path, 0.05) is False  # one thread per database and process
    deadline = time.monotonic() + 5
    while Path(path).stat().st_size <= size_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(path).stat().st_size > size_before  # the rows' pages reached the database file
    writer.close()
    for name in ("wal.sqlite3", "wal.sqlite3-wal", "wal.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    deadline = time.monotonic() + 5
    while path in checkpoint._running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path not in checkpoint._running


class _Wrapper:
    """What `connection_created` hands over: a Django database wrapper (only the parts read)."""

    vendor = "sqlite"

    def __init__(self, path: str) -> None:
        self.settings_dict = {"NAME": path}
        self.connection = sqlite3.connect(path)

    def is_in_memory_db(self) -> bool:
        return self.settings_dict["NAME"] == ":memory:"


def test_a_new_connection_to_a_file_database_gets_the_thread_and_the_safety_net(tmp_path: Path, settings) -> None:
    settings.CASELOOP_WAL_CHECKPOINT_SECONDS = 0.05
    wrapper = _Wrapper(str(tmp_path / "django.sqlite3"))
    checkpoint.on_connection_created(sender=None, connection=wrapper)  # type: ignore[arg-type]
    assert checkpoint._running.get(wrapper.settings_dict["NAME"]) is not None
    assert wrapper.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == checkpoint.SAFETY_NET_PAGES
    wrapper.connection.close()
    memory = _Wrapper(":memory:")
    checkpoint.on_connection_created(sender=None, connection=memory)  # type: ignore[arg-type]
    assert ":memory:" not in checkpoint._running  # nothing to checkpoint
    settings.CASELOOP_WAL_CHECKPOINT_SECONDS = 0
    off = _Wrapper(str(tmp_path / "off.sqlite3"))
    checkpoint.on_connection_created(sender=None, connection=off)  # type: ignore[arg-type]
    assert off.settings_dict["NAME"] not in checkpoint._running  # switched off: SQLite's own checkpoints


def test_stopping_ends_this_process_threads_and_closes_their_connections(tmp_path: Path) -> None:
    checkpoint.stop_checkpointers()  # threads of earlier tests whose databases still exist
    path = str(tmp_path / "fork.sqlite3")
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()
    assert checkpoint.ensure_checkpointer(path, 60) is True  # asleep for a minute: only the stop ends it
    thread, _stop = checkpoint._threads[path]
    assert thread.is_alive()
    assert checkpoint.stop_checkpointers(timeout=5) == 1
    assert not thread.is_alive()  # woken at once, not after its minute
    assert path not in checkpoint._running and path not in checkpoint._threads
    assert checkpoint.stop_checkpointers() == 0  # nothing left to stop
    assert checkpoint.ensure_checkpointer(path, 60) is True  # a connection opened later starts one again
    assert checkpoint.stop_checkpointers() == 1


def test_a_forked_childs_inherited_map_names_no_thread_of_its_own(tmp_path: Path, monkeypatch) -> None:
    checkpoint.stop_checkpointers()
    path = str(tmp_path / "child.sqlite3")
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()
    assert checkpoint.ensure_checkpointer(path, 60) is True
    with monkeypatch.context() as child:
        child.setattr(os, "getpid", lambda: -1)  # as seen from a child of this process
        assert checkpoint.stop_checkpointers() == 0  # the parent's thread is not the child's to stop
    assert checkpoint.stop_checkpointers() == 1  # still the parent's to stop
