"""Which statements a PostgreSQL connection may prepare (ADR 0073).

A prepared statement is parsed and planned once per connection; after five
runs PostgreSQL may also keep one generic plan for it, made without the
parameters' values. That is what saves the time, and what makes it unsafe for
a read whose best plan depends on its values: a full-text search for a rare
word took 85 ms on the generic plan against 8 ms planned for the word. So only
statements whose plan cannot depend on their values are prepared:

- an INSERT of literal rows (`INSERT INTO … VALUES …`);
- a statement that starts with `KEY_LOOKUP`: a read of rows by a unique key or
  of a small fixed set, which its author marks so.

Everything else is planned for its values on every run, as before. SQLite
ignores the mark (a comment).
"""

from __future__ import annotations

KEY_LOOKUP = "/* key lookup */ "


def may_prepare(sql: str) -> bool:
    """Whether `sql`'s plan is the same whatever its parameters are (see the module's rules)."""
    if sql.startswith(KEY_LOOKUP):
        return True
    return sql[:12].upper() == "INSERT INTO " and " VALUES " in sql and " SELECT " not in sql.upper()
