"""A list of ids as one query parameter, for `field__in=` with thousands of ids.

`filter(pk__in=[...])` makes Django prepare every id through the field, and
the database parse one placeholder per id: for the override review's 2,000
comparable cases that was about a third of the page, three times over. Here
the list travels as one value (a JSON array on SQLite, read by `json_each`;
a bigint array on PostgreSQL, read by `unnest`) and the database makes the
set from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL


def id_list(ids: Iterable[int]) -> RawSQL:
    """A subquery of these ids (ints, checked here), usable as the right side of `__in`."""
    values = [int(i) for i in ids]
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])
    return RawSQL("SELECT unnest(%s::bigint[])", [values])
