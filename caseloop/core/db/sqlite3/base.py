"""Django's SQLite backend with caseloop's write gate (core.writegate) around each write transaction.

Only transactions that take SQLite's write lock at BEGIN (IMMEDIATE or
EXCLUSIVE, caseloop's setting) queue at the gate; everything else is Django's
backend unchanged. With no gate installed (any process but `caseloop serve`'s
workers) the class behaves exactly as Django's.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base

from caseloop.core import writegate
from caseloop.core.db.counting import CountsTransactions

# the hooks overridden below are private to Django's backends and absent from its type stubs
_django: Any = base.DatabaseWrapper


class DatabaseWrapper(CountsTransactions, base.DatabaseWrapper):
    # a process-local flag per connection, and Django keeps a connection per thread
    _holds_write_gate = False

    def _start_transaction_under_autocommit(self) -> None:
        if getattr(self, "transaction_mode", None) in ("IMMEDIATE", "EXCLUSIVE"):
            self._holds_write_gate = writegate.acquire()
        try:
            _django._start_transaction_under_autocommit(self)
        except BaseException:
            self._release_write_gate()
            raise

    def _commit(self) -> None:
        try:
            _django._commit(self)
        finally:
            self._release_write_gate()

    def _rollback(self) -> None:
        try:
            _django._rollback(self)
        finally:
            self._release_write_gate()

    def _close(self) -> None:
        try:
            _django._close(self)
        finally:
            self._release_write_gate()

    def _release_write_gate(self) -> None:
        if self._holds_write_gate:
            self._holds_write_gate = False
            writegate.release()
