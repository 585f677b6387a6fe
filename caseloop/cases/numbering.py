"""Case numbers start at CL-10001: the id sequence never hands out less."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

FIRST_CASE_NUMBER = 10001


def ensure_case_numbering(connection: BaseDatabaseWrapper) -> None:
    """Raise the cases' id sequence to start at FIRST_CASE_NUMBER; never lower it.

    Idempotent, and run after every migrate: SQLite rebuilds a table to alter
    it, and the rebuilt table's sequence restarts from its highest id (none,
    in a new database). PostgreSQL alters tables in place, so the sequence
    migration 0002 restarted keeps its start there.
    """
    floor = FIRST_CASE_NUMBER - 1
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = 'cases_case'")
        row = cursor.fetchone()
        if row is None:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('cases_case', %s)", [floor])
        elif row[0] < floor:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = 'cases_case'", [floor])
