"""A write's own SQL replayed on the database driver: what the storage costs with no Python around it.

One request's statements are captured in-process (Django's execute_wrapper sees
them exactly as the driver gets them, values already prepared), then run again
and again straight on the driver's connection, each time in a transaction of
its own: BEGIN, the statements, COMMIT. The thread's CPU time per transaction
is what the database engine and its driver cost for that write: the floor no
Python work on top can go below. Run for the create and for the framework
limit's one-row insert, it shows how much of the gap between the two is
storage (indexes, full-text index, the extra rows) and how much is the
create's own Python work.

The first INSERT makes the parent row (the case); later statements' values in
the parent's key column (`case_id`) are replaced with each replay's new id, so
one-to-one rows (the case's SLA) stay unique. Rows are written for real: run
it on the benchmark's working data, after the measurements.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Django's SQLite backend turns its %s placeholders into qmarks the same way (a literal %% stays a %)
_FORMAT_MARK = re.compile(r"(?<!%)%s")
_INSERT = re.compile(r'^\s*INSERT\s+INTO\s+"?(\w+)"?\s*\(([^)]*)\)', re.IGNORECASE)
_WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str  # as Django hands it to the driver (%s placeholders)
    params: Sequence[Any]  # one row's values; with `many`, a sequence of rows
    many: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The INSERT's column names, in the order of its values; () for other statements."""
        match = _INSERT.match(self.sql)
        if match is None:
            return ()
        return tuple(name.strip().strip('"`') for name in match.group(2).split(","))


def writes_of(captured: Sequence[Statement]) -> list[Statement]:
    """The data-changing statements, without BEGIN, SAVEPOINT or COMMIT (the replay makes its own)."""
    return [s for s in captured if s.sql.lstrip().upper().startswith(_WRITES)]


def _with_parent(params: Sequence[Any], positions: Sequence[int], parent_id: int | None) -> list[Any]:
    values = list(params)
    if parent_id is not None:
        for index in positions:
            values[index] = parent_id
    return values


def replay(
    connection: Any, statements: Sequence[Statement], *, vendor: str, times: int, warmup: int = 20,
    parent_column: str = "case_id",
) -> float:  # fmt: skip
    """Mean CPU milliseconds of this thread per transaction of `statements`, on a raw DB-API connection.

    `connection` is in autocommit mode (Django keeps its connections so): the
    replay issues BEGIN (IMMEDIATE on SQLite, as caseloop's transactions) and
    COMMIT itself.
    """
    if not statements:
        raise ValueError("nothing to replay: no INSERT, UPDATE or DELETE was captured")
    sqlite = vendor == "sqlite"
    begin = "BEGIN IMMEDIATE" if sqlite else "BEGIN"
    prepared = [
        (
            _FORMAT_MARK.sub("?", s.sql).replace("%%", "%") if sqlite else s.sql,
            s,
            [i for i, name in enumerate(s.columns) if name == parent_column] if n else [],
        )
        for n, s in enumerate(statements)
    ]
    cursor = connection.cursor()

    def once() -> None:
        cursor.execute(begin)
        parent_id: int | None = None
        try:
            for n, (sql, statement, positions) in enumerate(prepared):
                if statement.many:
                    cursor.executemany(sql, [_with_parent(row, positions, parent_id) for row in statement.params])
                else:
                    cursor.execute(sql, _with_parent(statement.params, positions, parent_id))
                if n == 0:
                    parent_id = cursor.fetchone()[0] if "RETURNING" in sql.upper() else cursor.lastrowid
            cursor.execute("COMMIT")
        except Exception:
            cursor.execute("ROLLBACK")
            raise

    for _ in range(warmup):
        once()
    started = time.thread_time()
    for _ in range(times):
        once()
    return (time.thread_time() - started) * 1000 / times


def measure_request(send: Callable[[], int], *, connection: Any, times: int, warmup: int = 20) -> dict[str, Any]:
    """One kind of request in-process and its writes alone on the driver.

    `send` makes the request and returns its status. It is warmed up, timed
    `times` times (this thread's CPU per request), then sent once more under
    Django's execute_wrapper to capture its statements, which are replayed
    `times` times on `connection`'s driver connection.
    """
    for _ in range(warmup):
        send()
    started = time.thread_time()
    statuses = {send() for _ in range(times)}
    request_cpu_ms = (time.thread_time() - started) * 1000 / times
    captured: list[Statement] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        params = [list(row) for row in params] if many else params  # an iterator would be spent by the copy
        captured.append(Statement(sql, list(params) if params is not None else [], many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        statuses.add(send())
    writes = writes_of(captured)
    return {
        "statuses": sorted(statuses),
        "request_cpu_ms": request_cpu_ms,
        "sql_cpu_ms": replay(connection.connection, writes, vendor=connection.vendor, times=times),
        "vendor": connection.vendor,
        "writes": [w.sql.split("(", 1)[0].strip() for w in writes],
    }


def python_budget(
    *, framework_rate: float, cores: int, target: float, create_sql_ms: float, row_sql_ms: float
) -> float:
    """Milliseconds of the machine a create may spend beyond the framework's request and its own SQL.

    At full load the framework's request costs the machine `cores / rate`
    (server, HTTP and the load generator together). A create at `target` of
    that rate may cost `1 / target` times as much; it needs at least what the
    framework's request needs besides its row, plus its own statements. What
    is left is the budget for the create's Python work (token, requester,
    validation, SLA, timeline, audit, the answer). Negative: out of reach even
    with none.
    """
    if framework_rate <= 0 or not 0 < target <= 1:
        raise ValueError("the framework's rate must be positive and the target a share in (0, 1]")
    per_request = cores / framework_rate * 1000
    return per_request / target - (per_request - row_sql_ms) - create_sql_ms


def ceiling(*, framework_rate: float, cores: int, create_sql_ms: float, row_sql_ms: float) -> float:
    """The highest create/framework ratio with no Python work in the create at all: its SQL is all it adds."""
    if framework_rate <= 0:
        raise ValueError("the framework's rate must be positive")
    per_request = cores / framework_rate * 1000
    return per_request / (per_request - row_sql_ms + create_sql_ms)
