"""The write gate: one queue for SQLite's write lock among a server's forked workers."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from caseloop.core import writegate
from caseloop.core.db.sqlite3.base import DatabaseWrapper


@pytest.fixture
def gate() -> Iterator[writegate.Gate]:
    assert writegate.install(wait_s=0.2)
    assert writegate._gate is not None
    yield writegate._gate
    writegate.uninstall()


def _hold_until_told(taken: Any, told: Any) -> None:
    assert writegate.acquire()
    taken.set()
    told.wait(10)
    writegate.release()


def _take_and_die(taken: Any) -> None:
    assert writegate.acquire()
    taken.set()
    os._exit(0)  # killed mid-transaction: never gives the gate back


def test_one_holder_at_a_time_across_forked_processes(gate: writegate.Gate, caplog: pytest.LogCaptureFixture) -> None:
    fork = multiprocessing.get_context("fork")
    taken, told = fork.Event(), fork.Event()
    child = fork.Process(target=_hold_until_told, args=(taken, told))
    child.start()
    try:
        assert taken.wait(10)
        assert gate.holder.value == child.pid
        with caplog.at_level(logging.WARNING, logger="caseloop.core.writegate"):
            assert writegate.acquire() is False  # waited wait_s, then goes on to SQLite's own lock
        assert "held by pid" in caplog.text
        told.set()
        child.join(10)
        assert writegate.acquire() is True  # given back at once
        assert gate.holder.value == os.getpid()
        writegate.release()
        assert gate.holder.value == 0
    finally:
        told.set()
        child.join(10)


def test_a_worker_that_dies_holding_the_gate_is_released_by_the_master(gate: writegate.Gate) -> None:
    fork = multiprocessing.get_context("fork")
    taken = fork.Event()
    child = fork.Process(target=_take_and_die, args=(taken,))
    child.start()
    child.join(10)
    assert taken.is_set()
    assert child.pid is not None
    assert writegate.release_for_exited(os.getpid()) is False  # not the holder: nothing to do
    assert writegate.release_for_exited(child.pid) is True
    assert writegate.acquire() is True
    writegate.release()


def test_a_gate_left_by_a_vanished_process_is_repaired_by_the_next_writer(gate: writegate.Gate) -> None:
    fork = multiprocessing.get_context("fork")
    taken = fork.Event()
    child = fork.Process(target=_take_and_die, args=(taken,))
    child.start()
    child.join(10)  # exited, and no master hook ran
    assert writegate.acquire() is True  # waited once, found the holder gone, freed it and took it
    writegate.release()


def test_no_gate_means_writers_go_straight_to_sqlite() -> None:
    writegate.uninstall()
    assert writegate.acquire() is False
    writegate.release()  # harmless
    assert writegate.release_for_exited(12345) is False
    assert writegate.install(wait_s=0) is False  # the setting's off switch
    assert not writegate.installed()


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the gate guards SQLite's single writer")


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_write_transaction_holds_the_gate_from_begin_to_commit(gate: writegate.Gate) -> None:
    assert isinstance(connections["default"], DatabaseWrapper)
    with transaction.atomic():
        assert gate.holder.value == os.getpid()
        with transaction.atomic():  # a savepoint: still the one transaction, still held
            assert gate.holder.value == os.getpid()
        assert gate.holder.value == os.getpid()
    assert gate.holder.value == 0
    assert writegate.acquire() is True
    writegate.release()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_gives_the_gate_back(gate: writegate.Gate) -> None:
    held_inside: list[int] = []

    def refused() -> None:
        with transaction.atomic():
            held_inside.append(gate.holder.value)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused()
    assert held_inside == [os.getpid()]
    assert gate.holder.value == 0
    assert writegate.acquire() is True
    writegate.release()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_begin_that_fails_gives_the_gate_back(gate: writegate.Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from django.db.backends.sqlite3 import base

    def locked(self: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    def begin() -> None:
        with transaction.atomic():
            pass

    monkeypatch.setattr(base.DatabaseWrapper, "_start_transaction_under_autocommit", locked)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin()
    assert gate.holder.value == 0
    assert writegate.acquire() is True
    writegate.release()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_without_a_gate_transactions_are_djangos_own() -> None:
    writegate.uninstall()
    with transaction.atomic():
        assert connection._holds_write_gate is False  # type: ignore[attr-defined]
