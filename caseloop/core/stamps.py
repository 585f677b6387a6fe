"""Per-process copies of small definition tables that no process can hold stale.

Every new case reads the SLA policies, their calendars and the custom-field
definitions: a few rows that change a few times a year. Reading and building
them on every create cost about a millisecond, inside the create's write
transaction. Web processes are stateless, though, so a plain per-process
cache would keep serving a policy an admin edited through another process.

So each watched table has a *stamp*: a row in `core_table_stamp` that a
database trigger sets to a new random number on every insert, update and
delete of the table (PostgreSQL: per statement, TRUNCATE included). A cached
value is kept with the stamps it was built under, and each use reads the
current stamps (one indexed query; one per request for all tables, see
`current_stamps`) and rebuilds when they differ. Because the
trigger runs in the editing transaction, an edit is seen by every process the
moment it commits, whichever process, admin page, import or raw SQL made it;
a rolled-back edit restores the old stamp, and since stamps are random rather
than counters, a later edit can never reuse a stamp a rolled-back one had.

The API tokens with their users are kept the same way, one entry per token
(`cached_by`): revoking a token or deactivating a user changes a stamp, so
every process refuses the token from the moment that change commits.

The table and triggers are (re)installed after every migrate: SQLite rebuilds
a table to alter it, which drops its triggers, and rows changed meanwhile are
covered by giving every watched table a fresh stamp at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from caseloop.core.db.prepared import KEY_LOOKUP

T = TypeVar("T")
K = TypeVar("K")

STAMP_TABLE = "core_table_stamp"

_watched: set[str] = set()
_entries: dict[tuple[str, Callable[[], Any]], tuple[tuple[Any, ...], Any]] = {}
_lock = threading.Lock()


def watch(*tables: str) -> None:
    """Give these tables stamps (called from an app's `ready()`, before any migrate)."""
    _watched.update(tables)


def watched() -> frozenset[str]:
    return frozenset(_watched)


@cache
def _stamps_sql(count: int) -> str:
    marks = ", ".join(["%s"] * count)
    # a key lookup: the table's primary key, a fixed list of names (core.db.prepared)
    return f"{KEY_LOOKUP}SELECT table_name, stamp FROM {STAMP_TABLE} WHERE table_name IN ({marks})"  # noqa: S608


def current_stamps(tables: Sequence[str]) -> tuple[Any, ...]:
    """The tables' stamps now, in the order given (None for a table never stamped).

    Inside a request, and outside any transaction, every watched table's stamp
    is read at once and that reading serves the request's later checks until
    its connection begins a transaction (see `_request_snapshot`).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    snapshot = _request_snapshot(connection)
    if snapshot is not None:
        return tuple(snapshot.get(table) for table in tables)
    found = _read(connection, tables)
    return tuple(found.get(table) for table in tables)


def _read(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(_stamps_sql(len(tables)), list(tables))
        return dict(cursor.fetchall())


# --- one reading per request ----------------------------------------------------------------------------
# An API create checks three caches before it writes (its token, the custom-field definitions, the SLA
# policies): three reads of this table, each a statement of its own and, under concurrent writers, each
# starting on a page cache SQLite has just dropped. A request reads them all once instead. The reading is
# as fresh as the separate ones were: all are taken outside a transaction, before the request writes,
# and any other process's commit could land just after either. It is given up the moment the connection
# begins a transaction (its own writes may change a stamp; inside a transaction the stamps are read
# afresh, so an editing transaction sees its own edit), and it lives only between Django's
# request_started and request_finished: the task worker and the CLI always read afresh.
_SNAPSHOT_ATTR = "caseloop_stamp_snapshot"
_NOT_TAKEN: tuple[int, float, dict[str, Any]] = (-1, 0.0, {})
# a long request (a chat stream) reads again after this long: a request is milliseconds, a stream minutes
SNAPSHOT_SECONDS = 1.0


def _request_snapshot(connection: BaseDatabaseWrapper) -> dict[str, Any] | None:
    snapshot: tuple[int, float, dict[str, Any]] | None = getattr(connection, _SNAPSHOT_ATTR, None)
    begun: int | None = getattr(connection, "transactions_begun", None)  # core.db backends count them
    if snapshot is None or begun is None or connection.in_atomic_block:
        return None
    now = time.monotonic()
    if snapshot is _NOT_TAKEN or snapshot[0] != begun or now - snapshot[1] > SNAPSHOT_SECONDS:
        snapshot = (begun, now, _read(connection, sorted(_watched)))
        setattr(connection, _SNAPSHOT_ATTR, snapshot)
    return snapshot[2]


def open_request_snapshot(**_: Any) -> None:
    """request_started: this request may read the stamps once (taken at its first check)."""
    setattr(connections[DEFAULT_DB_ALIAS], _SNAPSHOT_ATTR, _NOT_TAKEN)


def close_request_snapshot(**_: Any) -> None:
    """request_finished: back to reading the stamps at every check."""
    setattr(connections[DEFAULT_DB_ALIAS], _SNAPSHOT_ATTR, None)


def cached(tables: Sequence[str], load: Callable[[], T]) -> T:
    """`load()`'s result, rebuilt only when one of `tables` changed since it was built.

    `load` must be a module-level function (it is part of the cache key) whose
    result depends on nothing but these tables. The value is shared by every
    thread of the process: treat it as read-only. A table with no stamp yet
    (newly watched by an upgrade whose `migrate` has not run: no trigger would
    ever change it) is read on every call, as `cached_by` does.
    """
    for table in tables:
        assert table in _watched, f"{table} has no stamp: watch() it in its app's ready()"
    connection = connections[DEFAULT_DB_ALIAS]
    key = (str(connection.settings_dict["NAME"]), load)
    stamps = current_stamps(tables)
    if None in stamps:
        return load()
    entry = _entries.get(key)
    if entry is not None and entry[0] == stamps:
        value: T = entry[1]
        return value
    # built from what this connection sees now; if another process commits an edit meanwhile, the
    # value is newer than `stamps` says, and the next call rebuilds it once more: never older
    value = load()
    with _lock:
        _entries[key] = (stamps, value)
    return value


_keyed: dict[tuple[str, Callable[[Any], Any]], dict[Any, tuple[tuple[Any, ...], float, Any]]] = {}
KEYED_LIMIT = 4096  # values kept per load function; past it they are all dropped and built again on use


def cached_by(
    tables: Sequence[str], key: K, load: Callable[[K], T | None], *, max_age_s: float | None = None
) -> T | None:
    """`load(key)`, kept per key and rebuilt only when one of `tables` changed since it was built.

    For many small values of the same tables (an API token with its user):
    as `cached`, but a None result (nothing found) is never kept, so unknown
    keys cannot fill the cache, and a table that has no stamp yet (its
    triggers not installed) is read on every call. With `max_age_s` a value
    is also read again once it is that old, whatever the stamps say: a bound
    on what a lost trigger (a table rebuilt by hand, outside `migrate`) could
    keep stale.
    """
    for table in tables:
        assert table in _watched, f"{table} has no stamp: watch() it in its app's ready()"
    connection = connections[DEFAULT_DB_ALIAS]
    stamps = current_stamps(tables)
    now = time.monotonic()
    entries = _keyed.get((str(connection.settings_dict["NAME"]), load))
    entry = entries.get(key) if entries is not None else None
    if entry is not None and entry[0] == stamps and (max_age_s is None or now - entry[1] <= max_age_s):
        found: T = entry[2]
        return found
    value = load(key)
    if value is not None and None not in stamps:
        with _lock:
            entries = _keyed.setdefault((str(connection.settings_dict["NAME"]), load), {})
            if len(entries) >= KEYED_LIMIT:
                entries.clear()
            entries[key] = (stamps, now, value)
    return value


def forget() -> None:
    """Drop every cached value (tests that swap databases under a running process)."""
    with _lock:
        _entries.clear()
        _keyed.clear()


# --- schema: created and refreshed after every migrate ------------------------------------------------------
# table names come from watch(), never from input
_SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN "
    "INSERT INTO core_table_stamp (table_name, stamp) VALUES ('{table}', random()) "
    "ON CONFLICT (table_name) DO UPDATE SET stamp = excluded.stamp; END"
)
_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION core_table_stamp_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO " + STAMP_TABLE + " (table_name, stamp) "
    "VALUES (TG_TABLE_NAME, floor(random() * 9007199254740991)::bigint) "
    "ON CONFLICT (table_name) DO UPDATE SET stamp = EXCLUDED.stamp; RETURN NULL; END $$"
)


def _sqlite_trigger_names(table: str) -> dict[str, str]:
    return {f"core_stamp_{table}_{event[0].lower()}": event for event in ("INSERT", "UPDATE", "DELETE")}


def ensure_stamps(connection: BaseDatabaseWrapper) -> None:
    """Create the stamp table and every watched table's triggers if missing, and restamp them all (idempotent)."""
    existing = set(connection.introspection.table_names())
    tables = sorted(t for t in _watched if t in existing)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {STAMP_TABLE} (table_name TEXT PRIMARY KEY, stamp INTEGER)")
            for table in tables:
                for name, event in _sqlite_trigger_names(table).items():
                    cursor.execute(_SQLITE_TRIGGER.format(name=name, event=event, table=table))
            restamp = f"INSERT INTO {STAMP_TABLE} (table_name, stamp) VALUES (%s, random())"  # noqa: S608
        elif connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {STAMP_TABLE} (table_name varchar(100) PRIMARY KEY, stamp bigint)"
            )
            cursor.execute(_POSTGRES_FUNCTION)
            for table in tables:
                cursor.execute(f"DROP TRIGGER IF EXISTS core_table_stamp ON {quote(table)}")
                cursor.execute(
                    f"CREATE TRIGGER core_table_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION core_table_stamp_touch()"
                )
            restamp = f"INSERT INTO {STAMP_TABLE} (table_name, stamp) VALUES (%s, floor(random() * 9e15)::bigint)"  # noqa: S608
        else:  # pragma: no cover - caseloop runs on SQLite and PostgreSQL only
            raise NotImplementedError(connection.vendor)
        for table in tables:
            cursor.execute(restamp + " ON CONFLICT (table_name) DO UPDATE SET stamp = excluded.stamp", [table])


def missing_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """Watched tables whose stamp triggers are absent (for `caseloop check` and the tests)."""
    existing = set(connection.introspection.table_names())
    tables = sorted(t for t in _watched if t in existing)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'core_stamp_%%'")
            names = {row[0] for row in cursor.fetchall()}
            return [t for t in tables if not set(_sqlite_trigger_names(t)) <= names]
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'core_table_stamp' AND NOT t.tgisinternal"
        )
        names = {row[0] for row in cursor.fetchall()}
        return [t for t in tables if t not in names]
