"""Finding contacts by any word of their name ("smith" finds "Ann Smith").

SQLite: an FTS5 external-content table over `customers_contact.name` with a
prefix index, kept in step by triggers. PostgreSQL: a stored generated
tsvector (the 'simple' configuration: names are not stemmed) with a GIN index.
Both answer a word-prefix query from an index; never a LIKE scan. The same
re-ensuring after migrate as case search applies (see cases/search.py).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

_WORD = re.compile(r"\w+", re.UNICODE)
CANDIDATES = 200


def contact_ids_matching(query: str, *, limit: int = CANDIDATES) -> list[int]:
    """Ids of contacts having a name word that starts with each word of `query`."""
    words = _WORD.findall(query.lower())[:6]
    if not words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM customers_contact WHERE name_vector @@ to_tsquery('simple', %s) LIMIT %s",
                [" & ".join(f"{w}:*" for w in words), limit],
            )
        else:
            match = " ".join(f'"{w}"*' for w in words)
            cursor.execute("SELECT rowid FROM customers_contact_fts WHERE customers_contact_fts MATCH %s LIMIT %s",
                           [match, limit])  # fmt: skip
        return [int(row[0]) for row in cursor.fetchall()]


SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_contact_fts USING fts5(name, content='customers_contact', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_ai AFTER INSERT ON customers_contact BEGIN "
    "INSERT INTO customers_contact_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_ad AFTER DELETE ON customers_contact BEGIN "
    "INSERT INTO customers_contact_fts(customers_contact_fts, rowid, name) VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER IF NOT EXISTS customers_contact_fts_au AFTER UPDATE OF name ON customers_contact BEGIN "
    "INSERT INTO customers_contact_fts(customers_contact_fts, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO customers_contact_fts(rowid, name) VALUES (new.id, new.name); END",
]
POSTGRES_SCHEMA = [
    "ALTER TABLE customers_contact ADD COLUMN IF NOT EXISTS name_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(name, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS customers_contact_name_gin ON customers_contact USING GIN (name_vector)",
]


def ensure_contact_search_schema(conn: BaseDatabaseWrapper) -> None:
    """Create the name index if missing (idempotent); rebuild it when triggers were missing."""
    if conn.vendor == "sqlite":
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('customers_contact_fts', "
                "'customers_contact_fts_ai', 'customers_contact_fts_ad', 'customers_contact_fts_au')"
            )
            complete = cursor.fetchone()[0] == 4
            for statement in SQLITE_SCHEMA:
                cursor.execute(statement)
            if not complete:
                cursor.execute("INSERT INTO customers_contact_fts(customers_contact_fts) VALUES ('rebuild')")
    elif conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            for statement in POSTGRES_SCHEMA:
                cursor.execute(statement)
