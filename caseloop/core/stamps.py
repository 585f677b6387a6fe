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
current stamps (one indexed query) and rebuilds when they differ. Because the
trigger runs in the editing transaction, an edit is seen by every process the
moment it commits, whichever process, admin page, import or raw SQL made it;
a rolled-back edit restores the old stamp, and since stamps are random rather
than counters, a later edit can never reuse a stamp a rolled-back one had.

The table and triggers are (re)installed after every migrate: SQLite rebuilds
a table to alter it, which drops its triggers, and rows changed meanwhile are
covered by giving every watched table a fresh stamp at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")

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
    return f"SELECT table_name, stamp FROM {STAMP_TABLE} WHERE table_name IN ({marks})"  # noqa: S608  (constant)


def current_stamps(tables: Sequence[str]) -> tuple[Any, ...]:
    """The tables' stamps now, in the order given (None for a table never stamped)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_stamps_sql(len(tables)), list(tables))
        found = dict(cursor.fetchall())
    return tuple(found.get(table) for table in tables)


def cached(tables: Sequence[str], load: Callable[[], T]) -> T:
    """`load()`'s result, rebuilt only when one of `tables` changed since it was built.

    `load` must be a module-level function (it is part of the cache key) whose
    result depends on nothing but these tables. The value is shared by every
    thread of the process: treat it as read-only.
    """
    for table in tables:
        assert table in _watched, f"{table} has no stamp: watch() it in its app's ready()"
    connection = connections[DEFAULT_DB_ALIAS]
    key = (str(connection.settings_dict["NAME"]), load)
    stamps = current_stamps(tables)
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


def forget() -> None:
    """Drop every cached value (tests that swap databases under a running process)."""
    with _lock:
        _entries.clear()


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
