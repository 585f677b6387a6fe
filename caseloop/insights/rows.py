"""Writing the derived tables fast: one prepared INSERT per table, executed for many plain tuples.

The facts and daily sums are rebuilt by the hundred thousand; Django's
bulk_create spends most of its time preparing each field of each object
(about 200 µs a row here), while the values are already plain ints, strings,
dates and datetimes. Dates and datetimes are adapted as Django adapts them for
the database in use; everything else goes as is. Table and column names come
from the models' _meta, values are parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

CHUNK = 5000


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT the rows (values in `columns` order) into the model's table; how many."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    adapters: dict[int, Callable[[Any], Any]] = {}
    for index, field in enumerate(fields):
        if isinstance(field, models.DateTimeField):
            adapters[index] = connection.ops.adapt_datetimefield_value
        elif isinstance(field, models.DateField):
            adapters[index] = connection.ops.adapt_datefield_value
    names = ", ".join(quote(str(getattr(field, "column", ""))) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608  (names from _meta)
    count = 0
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            values = list(row)
            for i, adapt in adapters.items():
                if values[i] is not None:
                    values[i] = adapt(values[i])
            batch.append(values)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
