"""Writing many rows fast: explicit ids, pre-adapted values, one executemany per table.

The demo loader is the one writer that does not go through the domains'
actions (a million cases through `create_case` take hours, not minutes). It
still writes exactly the rows the actions would; this module only makes the
writing cheap: values are adapted once per column with the same database
operations Django uses, and each batch is a single prepared INSERT run with
`executemany` (bulk_create costs about three times as much per row, mostly
building model instances).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from caseloop.core import clock
from caseloop.identity.models import User
from caseloop.timeline.models import AuditEntry, TimelineEvent


class UnsupportedDatabase(Exception):
    """The loader reserves ids in a vendor-specific way: SQLite and PostgreSQL only."""


def _db() -> BaseDatabaseWrapper:
    # the connection itself, not the thread-local proxy: adapters run millions of times
    return connections[DEFAULT_DB_ALIAS]


def json_adapter() -> Callable[[Any], Any]:
    """Python data → what the database takes for a JSONField, as `record_event` stores it.

    `timeline.actions` stores `json.loads(json.dumps(data, cls=DjangoJSONEncoder))`
    (dates, decimals, UUIDs as strings); on SQLite that value is written as its
    JSON text, which is the same text a single DjangoJSONEncoder dump gives.
    """
    conn = _db()
    if conn.vendor == "sqlite":
        encode = DjangoJSONEncoder().encode
        return lambda value: "{}" if not value else encode(value)
    field = models.JSONField()
    return lambda value: field.get_db_prep_save(jsonable(value), connection=conn)


def _sqlite_utc_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is dt.UTC:  # the loader's own times: the naive UTC text, "+00:00" cut off
        return value.isoformat(" ")[:-6]
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    conn = _db()
    ops = conn.ops
    sqlite_utc = conn.vendor == "sqlite" and conn.timezone_name == "UTC"
    if isinstance(field, models.DateTimeField):
        if sqlite_utc:  # what adapt_datetimefield_value returns, without its per-call setting lookups
            return _sqlite_utc_datetime
        return lambda v: None if v is None else ops.adapt_datetimefield_value(v)
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else ops.adapt_datefield_value(v)
    if isinstance(field, models.JSONField):
        return json_adapter()
    if isinstance(field, models.UUIDField) and not conn.features.has_native_uuid_field:
        return lambda v: None if v is None else v.hex
    if isinstance(field, models.UUIDField | models.DecimalField):
        return partial(field.get_db_prep_save, connection=conn)
    return _as_is


def _as_is(value: Any) -> Any:
    return value


_MISSING = object()


class Table:
    """One table's INSERT statement with a value adapter per column.

    Rows are given as dicts keyed by attribute name (`requester_id`, not
    `requester`); a missing key takes the field's default, as the ORM would.
    """

    def __init__(self, model: type[models.Model], *, with_id: bool = True) -> None:
        self.model = model
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if (with_id or not f.primary_key) and not getattr(f, "generated", False)  # the database writes those
        ]
        self.columns = [f.attname for f in self.fields]
        self.adapters = [_adapter(f) for f in self.fields]
        self.defaults = {f.attname: f.get_default() for f in self.fields if f.has_default()}
        # auto_now(_add) columns the caller leaves out get "now", as a save() would give them
        self.auto_times = {
            f.attname for f in self.fields
            if isinstance(f, models.DateField) and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        }  # fmt: skip
        quote = _db().ops.quote_name
        names = ", ".join(quote(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
        self.pending: list[list[Any]] = []
        self.written = 0
        # per column: its name, and its adapter unless values go in as they are
        self._plan = [(name, None if a is _as_is else a) for name, a in zip(self.columns, self.adapters, strict=True)]

    def add(self, row: Mapping[str, Any]) -> None:
        values = []
        get = row.get
        for name, adapt in self._plan:
            value = get(name, _MISSING)
            if value is _MISSING:
                value = self._default(name)
            values.append(value if adapt is None else adapt(value))
        self.pending.append(values)

    def adapt(self, name: str, value: Any) -> Any:
        """One column's value as the database takes it (for rows built with `add_adapted`)."""
        return self.adapters[self.columns.index(name)](value)

    def add_adapted(self, values: list[Any]) -> None:
        """A row of already adapted values in column order: for rows that share most values."""
        self.pending.append(values)

    def _default(self, name: str) -> Any:
        if name in self.auto_times:
            return clock.now()
        if name not in self.defaults:
            return None
        default = self.defaults[name]
        # mutable defaults (dict for JSON) are fresh per row, as the ORM makes them
        return type(default)() if isinstance(default, dict | list) else default

    def drain(self) -> Statement | None:
        """The INSERT and the rows gathered since the last drain (None when there are none)."""
        if not self.pending:
            return None
        rows, self.pending = self.pending, []
        self.written += len(rows)
        return (self.sql, rows)


Statement = tuple[str, list[list[Any]]]


def _reserve(model: type[models.Model], count: int) -> list[int]:
    """Take `count` primary keys for `model` so that no other writer will use them.

    SQLite: move the AUTOINCREMENT counter past them (new rows get
    max(counter, max(id)) + 1), in a short write transaction of its own.
    PostgreSQL: draw them from the identity sequence. Either way the rows may
    then be inserted later, by another connection or process.
    """
    table = model._meta.db_table
    connection = _db()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(highest, int(row[0]) if row else 0) + 1
            if row is None:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start + count - 1])
            else:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start + count - 1, table])
            return list(range(start, start + count))
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [int(r[0]) for r in cursor.fetchall()]
    raise UnsupportedDatabase(f"The demo loader supports SQLite and PostgreSQL, not {connection.vendor}.")


class IdPool:
    """Primary keys for one model, reserved a block at a time so reserving rarely waits on the writer."""

    def __init__(self, model: type[models.Model], *, block: int = 10_000) -> None:
        self.model = model
        self.block = block
        self.free: list[int] = []
        self.next = 0  # index of the next free id in `free`
        self.reserved_end: int | None = None

    def take(self, count: int) -> list[int]:
        left = len(self.free) - self.next
        if count > left:
            fresh = _reserve(self.model, max(self.block, count - left))
            self.free = self.free[self.next :] + fresh
            self.next = 0
            self.reserved_end = fresh[-1]
        taken = self.free[self.next : self.next + count]
        self.next += count
        return taken

    def one(self) -> int:
        if self.next < len(self.free):
            self.next += 1
            return self.free[self.next - 1]
        return self.take(1)[0]

    def release(self) -> None:
        """Give back the unused end of the last block, unless another writer reserved after it."""
        if self.next >= len(self.free) or self.reserved_end is None:
            return
        table = self.model._meta.db_table
        last_used = self.free[self.next] - 1
        connection = _db()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s AND seq = %s",
                               [last_used, table, self.reserved_end])  # fmt: skip
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s) FROM pg_sequences "
                    "WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(%s, 'id') AND last_value = %s",
                    [table, max(1, last_used), table, self.reserved_end],
                )
        self.free, self.next = [], 0


def jsonable(data: Mapping[str, Any]) -> Any:
    """The JSON value `timeline.actions` stores: dates, decimals and UUIDs as strings."""
    return json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))


Subject = tuple[str, int | None]


class History:
    """Timeline and audit rows, written exactly as `record_event` / `record_audit` write them."""

    EVENT_COLUMNS = ["event_id", "subject_kind", "subject_id", "kind", "occurred_at", "actor_id", "case_id",
                     "summary", "data"]  # fmt: skip

    def __init__(self) -> None:
        self.events = Table(TimelineEvent, with_id=False)
        self.audits = Table(AuditEntry, with_id=False)
        # event ids are random v4 UUIDs as uuid4() makes them, drawn from a cheaper generator
        self._bits = random.Random(uuid.uuid4().int).getrandbits
        self._uuid_text = not _db().features.has_native_uuid_field
        if self.events.columns != self.EVENT_COLUMNS:  # the model changed: `event` must follow it
            raise RuntimeError(f"TimelineEvent columns are now {self.events.columns}; update demo.rows.History.")

    def new_event_id(self) -> Any:
        value = (self._bits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
        return f"{value:032x}" if self._uuid_text else uuid.UUID(int=value)

    def event(
        self,
        *,
        kind: str,
        subjects: Iterable[Subject],
        summary: str,
        occurred_at: dt.datetime,
        actor: User | None = None,
        case_id: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        # the rows of one happening share everything but the subject: adapt once
        table = self.events
        event_id = self.new_event_id()
        when = table.adapt("occurred_at", occurred_at)
        payload = table.adapt("data", data or {})
        actor_id = actor.pk if actor else None
        short = summary[:300]
        seen: set[tuple[str, int]] = set()
        for subject_kind, subject_id in subjects:
            if subject_id is None or (subject_kind, subject_id) in seen:
                continue
            seen.add((subject_kind, subject_id))
            table.add_adapted([event_id, str(subject_kind), subject_id, kind, when, actor_id, case_id, short, payload])

    def audit(
        self,
        *,
        action: str,
        object_type: str,
        object_id: int,
        at: dt.datetime,
        actor: User | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self.audits.add({
            "at": at, "actor_id": actor.pk if actor else None, "action": action, "object_type": object_type,
            "object_id": object_id, "before": before or {}, "after": after or {},
        })  # fmt: skip

    def drain(self) -> list[Statement]:
        return [st for st in (self.events.drain(), self.audits.drain()) if st is not None]

    @property
    def written(self) -> int:
        return self.events.written + self.audits.written
