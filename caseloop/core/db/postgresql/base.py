"""Django's PostgreSQL backend, loading timestamps and JSON with psycopg's compiled loaders.

Django registers its own loaders for `timestamptz` (to give each datetime the
time zone it wants) and `jsonb` (text, which the JSON field then decodes).
Both are pure Python: a timestamp costs about 5 µs to parse, about ten times
psycopg's compiled loader, and a page of cases or a timeline carries hundreds
(ADR 0072). When the compiled loaders are installed and the connection runs in
UTC, as Django sets it whenever USE_TZ is on and the database names no other
time zone, the compiled loader gives the very same value: an aware datetime in
`datetime.timezone.utc`. Each cursor then reads with the compiled loaders; any
other set-up is Django's backend unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg.abc import Loader
from psycopg.pq import Format

from caseloop.core.db.counting import CountsTransactions
from caseloop.core.db.prepared import may_prepare

_TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
_JSONB_OID = psycopg.adapters.types["jsonb"].oid
_TEXT_OID = psycopg.adapters.types["text"].oid


def compiled_loaders() -> dict[int, type[Loader]] | None:
    """psycopg's compiled text loaders for timestamptz and jsonb; None with the pure-Python implementation."""
    if psycopg.pq.__impl__ not in ("c", "binary"):
        return None
    timestamps = psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    # Django reads jsonb as text and decodes it in the field: the compiled text loader does the first half
    text = psycopg.adapters.get_loader(_TEXT_OID, Format.TEXT)
    if timestamps is None or text is None:
        return None
    return {_TIMESTAMPTZ_OID: timestamps, _JSONB_OID: text}


_COMPILED = compiled_loaders()


_ServerBindingCursor: Any = base.ServerBindingCursor  # type: ignore[attr-defined]  # missing from django-stubs


class SelectivelyPreparingCursor(_ServerBindingCursor):  # type: ignore[misc]
    """Parameters bound on the server; only statements whose plan cannot depend on them may be prepared.

    psycopg prepares a statement once it has run `prepare_threshold` times on
    the connection, unless told not to; `core.db.prepared` says which may be.
    """

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any) -> Any:
        if prepare is None and not (isinstance(query, str) and may_prepare(query)):
            prepare = False
        return super().execute(query, params, prepare=prepare, **kwargs)


class DatabaseWrapper(CountsTransactions, base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if params.get("cursor_factory") is _ServerBindingCursor:
            params["cursor_factory"] = SelectivelyPreparingCursor
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        # Registered per cursor: Django checks the connection's own timestamptz loader for the time zone it
        # carries, which a compiled class cannot (it takes no attributes). A cursor's registration copies its
        # loader map, about 2 µs, the price of parsing half a timestamp in Python.
        if _COMPILED is not None and self.timezone is dt.UTC and self.timezone_name == "UTC":
            for oid, loader in _COMPILED.items():
                cursor.adapters.register_loader(oid, loader)
        return cursor
