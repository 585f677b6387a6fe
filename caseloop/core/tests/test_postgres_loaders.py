"""PostgreSQL: timestamps and JSON read with psycopg's compiled loaders give Django's very values."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg.pq import Format

from caseloop.cases.models import Case
from caseloop.core.db.postgresql import base as backend
from caseloop.testing.factories import make_case

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the loaders are PostgreSQL's"),
]

STAMP_SQL = "SELECT %s::timestamptz, '2026-03-29 01:30:00+02'::timestamptz, '{\"a\": [1, 2.5, \"é\"]}'::jsonb"


def _read(sql: str, params: list[dt.datetime]) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        assert row is not None
        return tuple(row)


def test_cursors_read_timestamps_and_json_with_the_compiled_loaders() -> None:
    if backend.compiled_loaders() is None:
        pytest.skip("psycopg runs its pure-Python implementation here")
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(backend._TIMESTAMPTZ_OID, Format.TEXT)
        json_loader = cursor.cursor.adapters.get_loader(backend._JSONB_OID, Format.TEXT)
    assert loader.__module__.endswith("_psycopg")  # psycopg's compiled module (psycopg_c or psycopg_binary)
    assert json_loader.__module__.endswith("_psycopg")


def test_compiled_and_django_loaders_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    when = dt.datetime(2026, 11, 25, 4, 34, 10, 576307, tzinfo=dt.UTC)
    compiled = _read(STAMP_SQL, [when])
    monkeypatch.setattr(backend, "_COMPILED", None)
    django_own = _read(STAMP_SQL, [when])
    assert compiled == django_own
    assert compiled[0] == when and compiled[0].tzinfo is dt.UTC  # type: ignore[attr-defined]
    assert compiled[1] == dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)
    assert compiled[1].tzinfo is dt.UTC  # type: ignore[attr-defined]
    assert compiled[2] == '{"a": [1, 2.5, "é"]}'  # text: Django's JSON field decodes it


def test_models_and_server_side_cursors_read_the_same() -> None:
    case = make_case()
    Case.objects.filter(pk=case.pk).update(custom_fields={"serial": "X-1", "sizes": [0.25, 2]})
    read = Case.objects.get(pk=case.pk)
    assert read.created_at.tzinfo is dt.UTC
    assert read.created_at == case.created_at
    assert read.custom_fields == {"serial": "X-1", "sizes": [0.25, 2]}
    # QuerySet.iterator() reads through a named (server-side) cursor on PostgreSQL
    streamed = next(Case.objects.filter(pk=case.pk).iterator(chunk_size=10))
    assert streamed.created_at == read.created_at and streamed.custom_fields == read.custom_fields


def test_another_time_zone_keeps_djangos_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # what Django works out from a database TIME_ZONE setting (both are cached properties of the connection)
    wrapper = connections[DEFAULT_DB_ALIAS]  # `connection` is a proxy to it
    monkeypatch.setitem(wrapper.__dict__, "timezone", berlin)
    monkeypatch.setitem(wrapper.__dict__, "timezone_name", "Europe/Berlin")
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(backend._TIMESTAMPTZ_OID, Format.TEXT)
        cursor.execute("SELECT now()")
        (value,) = cursor.fetchone()
    assert not loader.__module__.endswith("_psycopg")
    assert value.tzinfo is berlin
