"""Prepared single-table statements for the few hottest writes and reads.

Building a query is most of what an ORM call costs on a small table: for
`Model.objects.create()` Django spends about three times as long compiling
the INSERT as SQLite spends running it. The create-a-case path runs a handful
of such statements per request, so it uses these helpers instead: the SQL for
a model is made once per process from the model's own metadata, and values are
prepared by each field exactly as `save()` prepares them (`pre_save`, then
`get_db_prep_save`: auto_now, JSON, datetimes, decimals). Only plain,
single-table statements live here; anything with joins, permissions or
filters beyond equality stays in the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Generic, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models

from caseloop.core.db.prepared import KEY_LOOKUP

M = TypeVar("M", bound=models.Model)


@cache
def _insert_sql(
    model: type[models.Model], vendor: str, with_pk: bool
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    # generated columns (e.g. Case.is_open) are the database's to write
    fields = tuple(
        f for f in model._meta.concrete_fields if (with_pk or not f.primary_key) and not getattr(f, "generated", False)
    )
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608  (names from _meta)
    if vendor == "postgresql" and not with_pk:
        sql += f" RETURNING {quote(_pk_column(model))}"
    return sql, fields


def _pk_column(model: type[models.Model]) -> str:
    assert model._meta.pk is not None
    return str(model._meta.pk.column)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


# Fields whose database value is the Python value itself when it has the field's plain type (or is None):
# for them the prepare step (`pre_save`, `get_db_prep_save`) is skipped, the costliest part of building a row.
_PLAIN_TYPES: tuple[tuple[type[models.Field[Any, Any]], frozenset[type]], ...] = (
    (models.CharField, frozenset({str, type(None)})),
    (models.TextField, frozenset({str, type(None)})),
    (models.BooleanField, frozenset({bool, type(None)})),
    (models.IntegerField, frozenset({int, type(None)})),  # and its Big/Small/Positive kinds
    (models.AutoField, frozenset({int, type(None)})),
    (models.BigAutoField, frozenset({int, type(None)})),
    # an empty date, time, decimal or UUID is NULL as it is; a value of theirs is prepared as usual
    (models.DateTimeField, frozenset({type(None)})),
    (models.DateField, frozenset({type(None)})),
    (models.DecimalField, frozenset({type(None)})),
    (models.UUIDField, frozenset({type(None)})),
)
_PREPARING = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value")


@cache
def _plain_types(field: models.Field[Any, Any]) -> frozenset[type]:
    """The value types this field writes as they are; empty: always prepare."""
    if isinstance(field, models.ForeignKey):
        return _plain_types(field.target_field)
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return frozenset()  # filled in by pre_save
    for base, types in _PLAIN_TYPES:
        if isinstance(field, base):
            # a subclass that prepares its own values (or fills them in pre_save) takes the full path
            kind = type(field)
            same = all(getattr(kind, name) is getattr(base, name) for name in _PREPARING)
            return types if same else frozenset()
    return frozenset()


def _values(obj: models.Model, fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    connection = connections[DEFAULT_DB_ALIAS]
    values = []
    state = obj.__dict__
    for field in fields:
        plain = _plain_types(field)
        if plain and field.attname in state:
            value = state[field.attname]
            if type(value) in plain:
                values.append(value)
                continue
            if isinstance(value, Enum) and type(value.value) in plain:  # a choices member
                values.append(value.value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(obj, True), connection=connection))
    return values


def _mark_saved(obj: models.Model) -> None:
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


def insert(obj: M) -> M:
    """INSERT one new row (as `obj.save()` would) and set its primary key."""
    connection = connections[DEFAULT_DB_ALIAS]
    with_pk = obj.pk is not None
    sql, fields = _insert_sql(type(obj), connection.vendor, with_pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields))
        if not with_pk:
            obj.pk = cursor.fetchone()[0] if connection.vendor == "postgresql" else cursor.lastrowid
    _mark_saved(obj)
    return obj


@dataclass(slots=True)
class Draft(Generic[M]):
    """A row's INSERT with its values prepared ahead, to run later (inside a transaction) with `insert()`.

    On SQLite a write transaction holds the one write lock from BEGIN to
    COMMIT; preparing values before it starts keeps that span short. A value
    known only inside the transaction (the id of a row inserted just before)
    is filled in with `set()`.
    """

    obj: M
    sql: str
    params: list[Any]
    positions: dict[str, int]

    def set(self, attname: str, value: Any) -> None:
        setattr(self.obj, attname, value)
        self.params[self.positions[attname]] = value

    def insert(self) -> M:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            if self.obj.pk is None:
                self.obj.pk = cursor.fetchone()[0] if connection.vendor == "postgresql" else cursor.lastrowid
        _mark_saved(self.obj)
        return self.obj


def draft(obj: M) -> Draft[M]:
    """Prepare `obj`'s INSERT now (as `insert(obj)` would), to run later with `Draft.insert()`."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_sql(type(obj), connection.vendor, obj.pk is not None)
    return Draft(obj=obj, sql=sql, params=_values(obj, fields), positions={f.attname: i for i, f in enumerate(fields)})


def insert_many(objs: Sequence[M]) -> Sequence[M]:
    """INSERT several new rows of one model in one statement execution.

    Primary keys are not read back (SQLite cannot return them from
    executemany): use it for rows nobody refers to right after, such as
    timeline fan-out rows.
    """
    if not objs:
        return objs
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    sql, fields = _insert_sql(model, connection.vendor, True)
    if objs[0].pk is None:
        sql, fields = _insert_sql(model, "many", False)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_values(obj, fields) for obj in objs])
    for obj in objs:
        _mark_saved(obj)
    return objs


def prepare(model: type[models.Model], name: str, value: Any) -> Any:
    """`value` as the database takes it for this field (what `save()` would send), for `insert_prepared`."""
    return _field(model, name).get_db_prep_save(value, connection=connections[DEFAULT_DB_ALIAS])


def prepare_json(value: Any) -> Any:
    """A JSON column's value, encoded once with Django's encoder (decimals, dates and UUIDs become strings)."""
    return connections[DEFAULT_DB_ALIAS].ops.adapt_json_value(value, DjangoJSONEncoder)


def insert_prepared(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT rows given as prepared column values (attname → value; see `prepare`), in one executemany.

    For fan-out rows that share most values (one timeline event on several
    subjects): the caller prepares each shared value once instead of once per
    row. Every column but the primary key must be given.
    """
    if not rows:
        return
    sql, fields = _insert_sql(model, "many", False)
    names = [f.attname for f in fields]
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.executemany(sql, [[row[name] for name in names] for row in rows])


@cache
def _select_sql(model: type[models.Model], keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """`SELECT <every column> FROM <table>`, then `WHERE k = %s … LIMIT 1` or, with no keys, `ORDER BY pk`."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)}"  # noqa: S608  (names from _meta)
    if keys:
        sql = KEY_LOOKUP + sql  # a unique key, so one plan fits every value (core.db.prepared)
        where = " AND ".join(f"{quote(_column(model, k))} = %s" for k in keys)
        sql += f" WHERE {where} LIMIT 1"
    else:
        sql += f" ORDER BY {quote(_pk_column(model))}"
    return sql, tuple(f.attname for f in fields)


def get_by(model: type[M], *, for_update: bool = False, **equals: str | int) -> M | None:
    """The one row whose columns equal these values (a unique lookup), or None.

    Only for unique keys of plain types; the row is built with `from_db`, so
    field conversions (datetimes, JSON) are applied as for any ORM read.
    `for_update` locks the row (SELECT … FOR UPDATE) where the database has
    row locks; on SQLite the caller's IMMEDIATE transaction already holds the
    database's one write lock, so there is nothing more to take.
    """
    keys = tuple(sorted(equals))
    sql, attnames = _select_sql(model, keys)
    connection = connections[DEFAULT_DB_ALIAS]
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [equals[k] for k in keys])
        row = cursor.fetchone()
    if row is None:
        return None
    return _build(model, attnames, row, connection.vendor)


@cache
def _related_model(model: type[models.Model], relation: str) -> type[models.Model]:
    other = model._meta.get_field(relation).related_model
    assert isinstance(other, type) and issubclass(other, models.Model)
    return other


@cache
def _joined_sql(model: type[models.Model], relation: str, keys: tuple[str, ...]) -> tuple[str, type[models.Model]]:
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    field = model._meta.get_field(relation)
    assert isinstance(field, models.ForeignKey)
    other = _related_model(model, relation)
    columns = [f"a.{quote(f.column)}" for f in model._meta.concrete_fields]
    columns += [f"b.{quote(f.column)}" for f in other._meta.concrete_fields]
    where = " AND ".join(f"a.{quote(_column(model, k))} = %s" for k in keys)
    sql = (
        f"{KEY_LOOKUP}SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} a "  # noqa: S608  (names from _meta)
        f"JOIN {quote(other._meta.db_table)} b ON b.{quote(_pk_column(other))} = a.{quote(field.column)} "
        f"WHERE {where} LIMIT 1"
    )
    return sql, other


def get_with(model: type[M], relation: str, **equals: str | int) -> M | None:
    """`get_by` that also reads the row a foreign key points to, in the same query (an inner join).

    The related instance is cached on the result (`row.<relation>` reads
    nothing more). None when no row matches, or its foreign key is empty.
    """
    row = row_with(model, relation, **equals)
    return None if row is None else build_with(model, relation, row)


def row_with(model: type[models.Model], relation: str, **equals: str | int) -> tuple[Any, ...] | None:
    """The raw row `get_with` reads (both tables' columns, as the driver gives them), or None.

    A row is plain immutable values, so it can be kept and built into fresh
    instances again (`build_with`) without sharing objects between requests.
    """
    keys = tuple(sorted(equals))
    sql, _other = _joined_sql(model, relation, keys)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [equals[k] for k in keys])
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def build_with(model: type[M], relation: str, row: Sequence[Any]) -> M:
    """New instances of `model` and its related row from a `row_with` row."""
    other = _related_model(model, relation)
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    width = len(model._meta.concrete_fields)
    obj = _build(model, tuple(f.attname for f in model._meta.concrete_fields), row[:width], vendor)
    related = _build(other, tuple(f.attname for f in other._meta.concrete_fields), row[width:], vendor)
    setattr(obj, relation, related)
    return obj


@cache
def _values_sql(model: type[models.Model], columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    selected = ", ".join(quote(_column(model, c)) for c in columns)
    where = " AND ".join(f"{quote(_column(model, k))} = %s" for k in keys)
    return f"{KEY_LOOKUP}SELECT {selected} FROM {quote(model._meta.db_table)} WHERE {where} LIMIT 1"  # noqa: S608


def values_by(model: type[models.Model], columns: Sequence[str], **equals: str | int) -> tuple[Any, ...] | None:
    """Some columns of the one row whose columns equal these values (a unique lookup), or None.

    For existence checks and foreign keys of a unique key ("which case has the
    message with this Message-ID"): no model instance, no wide columns read.
    Values come back as the database gives them (no field conversion), so ask
    for plain columns: integers, text, foreign key ids.
    """
    keys = tuple(sorted(equals))
    sql = _values_sql(model, tuple(columns), keys)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [equals[k] for k in keys])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


@cache
def _update_sql(
    model: type[models.Model], names: tuple[str, ...], increments: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = tuple(_field(model, n) for n in names)
    assignments = [f"{quote(f.column)} = %s" for f in fields]
    for name in increments:
        column = quote(_field(model, name).column)
        assignments.append(f"{column} = {column} + %s")
    where = " AND ".join([f"{quote(_pk_column(model))} = %s", *(f"{quote(_column(model, k))} = %s" for k in keys)])
    sql = f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} WHERE {where}"  # noqa: S608  (_meta)
    return sql, fields


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.concrete
    return field


def update(
    obj: models.Model,
    fields: Sequence[str],
    *,
    increment: Mapping[str, int] | None = None,
    where: Mapping[str, str | int] | None = None,
) -> int:
    """UPDATE one row by primary key, as `obj.save(update_fields=fields)` would; returns the rows changed.

    Each named field is written from `obj` (prepared by the field as `save()`
    prepares it). `increment` adds to integer columns in the database
    (`column = column + n`, a counter that needs no prior read); `obj`'s copy of
    those is not changed. `where` adds equality conditions: the row changes
    only while they hold (0 is returned otherwise), a compare-and-set.
    """
    increments = increment or {}
    conditions = where or {}
    keys = tuple(sorted(conditions))
    sql, prepared = _update_sql(type(obj), tuple(fields), tuple(increments), keys)
    connection = connections[DEFAULT_DB_ALIAS]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection=connection) for f in prepared]
    params += [increments[name] for name in increments]
    params += [obj.pk, *(conditions[k] for k in keys)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def all_rows(model: type[M]) -> list[M]:
    """Every row of a small table (definitions, settings-like rows), in primary key order."""
    sql, attnames = _select_sql(model, ())
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [_build(model, attnames, row, connection.vendor) for row in rows]


def _build(model: type[M], attnames: tuple[str, ...], row: Sequence[Any], vendor: str) -> M:
    converters = _converters(model, vendor)
    values = [convert(value) if convert else value for convert, value in zip(converters, row, strict=True)]
    return model.from_db(DEFAULT_DB_ALIAS, list(attnames), values)


@cache
def _converters(model: type[models.Model], vendor: str) -> tuple[Any, ...]:
    """Per column, a function turning the database value into the Python one (or None)."""
    connection = connections[DEFAULT_DB_ALIAS]
    result = []
    for field in model._meta.concrete_fields:
        expression = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if functions:
            result.append(_chain(functions, expression, connection))
        else:
            result.append(None)
    return tuple(result)


def _chain(functions: Sequence[Any], expression: Any, connection: Any) -> Any:
    def convert(value: Any) -> Any:
        for function in functions:
            value = function(value, expression, connection)
        return value

    return convert


def values_for_many(objs: Sequence[models.Model]) -> Mapping[str, Any]:  # pragma: no cover - debugging aid
    """The adapted values of each row, for inspecting what `insert_many` writes."""
    if not objs:
        return {}
    _, fields = _insert_sql(type(objs[0]), connections[DEFAULT_DB_ALIAS].vendor, objs[0].pk is not None)
    return {f.attname: [_values(o, fields)[i] for o in objs] for i, f in enumerate(fields)}
