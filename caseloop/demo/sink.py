"""Where generated rows go: written here, or by a second process while this one makes the next batch.

Making the rows (stories, text, adapting values) and writing them (SQLite's
B-trees and FTS index) cost about the same, so on two cores a forked writer
halves the load time. Each batch is one transaction either way; the queue
holds a few batches at most, so memory stays bounded however many cases load.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from django.db import connections, transaction

from caseloop.core.processes import close_databases_before_fork
from caseloop.demo.rows import Statement


class WriteFailed(Exception):
    """The writer could not write a batch; the message says why."""


class Sink(Protocol):
    def write(self, statements: Sequence[Statement]) -> None: ...

    def close(self) -> None: ...


def _execute(statements: Sequence[Statement]) -> None:
    connection = connections["default"]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, rows in statements:
            cursor.executemany(sql, rows)


class InlineSink:
    """Writes each batch in this process, in a transaction of its own."""

    def write(self, statements: Sequence[Statement]) -> None:
        if statements:
            _execute(statements)

    def close(self) -> None:
        return None


def _writer(batches: Any, errors: Any) -> None:
    try:
        connection = connections["default"]
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # a bigger page cache for this connection only: index inserts of a big load stay in memory
                cursor.execute("PRAGMA cache_size = -262144")
        while (statements := batches.get()) is not None:
            _execute(statements)
    except BaseException as exc:  # whatever stops the writer is reported to the parent, which raises it
        errors.put(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()


class ProcessSink:
    """Writes batches in a forked process, in order, one transaction each."""

    def __init__(self, *, depth: int = 3) -> None:
        context = multiprocessing.get_context("fork")
        # a database connection must not cross a fork (the checkpoint thread's included): both sides reconnect
        close_databases_before_fork()
        self.batches = context.Queue(maxsize=depth)
        self.errors = context.Queue()
        self.process: BaseProcess = context.Process(target=_writer, args=(self.batches, self.errors), daemon=True)
        self.process.start()

    @staticmethod
    def available() -> bool:
        return "fork" in multiprocessing.get_all_start_methods()

    def _raise_if_failed(self) -> None:
        with contextlib.suppress(queue.Empty):
            raise WriteFailed(self.errors.get_nowait())
        if not self.process.is_alive():
            raise WriteFailed(f"the writer process stopped (exit code {self.process.exitcode})")

    def write(self, statements: Sequence[Statement]) -> None:
        while True:
            self._raise_if_failed()
            try:
                self.batches.put(list(statements), timeout=1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self._raise_if_failed()
        self.batches.put(None)
        self.process.join()
        with contextlib.suppress(queue.Empty):
            raise WriteFailed(self.errors.get_nowait())
        if self.process.exitcode != 0:
            raise WriteFailed(f"the writer process stopped (exit code {self.process.exitcode})")

    def abort(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
