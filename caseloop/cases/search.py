"""Full-text search over case subjects and message bodies.

SQLite: FTS5 external-content tables kept in step by triggers (so bulk inserts
are indexed too). PostgreSQL: stored generated tsvector columns with GIN
indexes. Never LIKE scans.

Ranking: the newest `RECENT_WINDOW` matches of each source are ranked by
relevance (bm25 / ts_rank) and the best come first. Ranking every match of a
common word in a million messages would cost hundreds of milliseconds; a help
desk's useful hits are relevant *and* recent. See docs/adr/0004-search.md.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from caseloop.cases.choices import Direction
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import Case

RECENT_WINDOW = 2000
_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"
_TOKEN = re.compile(r"[\w][\w'-]*\*?", re.UNICODE)
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class SearchHit:
    case_id: int
    message_id: int | None  # None: the hit is in the case subject
    rank: float
    snippet_html: str  # escaped text with <mark> around matched words


def _terms(query: str) -> list[str]:
    if len(query) > MAX_QUERY_LENGTH:
        raise CaseError(CaseErrorCode.BAD_QUERY, f"A search is at most {MAX_QUERY_LENGTH} characters.",
                        status=400, field="q")  # fmt: skip
    terms = _TOKEN.findall(query)
    if not terms:
        raise CaseError(CaseErrorCode.BAD_QUERY, "Search for at least one word.", status=400, field="q")
    return terms[:12]


def _highlight(raw: str) -> str:
    escaped = html.escape(raw)
    return escaped.replace(_MARK_OPEN, "<mark>").replace(_MARK_CLOSE, "</mark>")


def search(
    query: str, *, visible_cases: QuerySet[Case] | None, include_notes: bool, limit: int = 20
) -> list[SearchHit]:
    """Ranked hits for `query`; `visible_cases` None means the actor sees all."""
    terms = _terms(query)
    backend = _PostgresSearch if connection.vendor == "postgresql" else _SqliteSearch
    return backend(connection, visible_cases, include_notes).run(terms, limit)


class _Backend:
    def __init__(self, conn: BaseDatabaseWrapper, visible_cases: QuerySet[Case] | None, include_notes: bool) -> None:
        self.conn = conn
        self.include_notes = include_notes
        self.visible_sql: tuple[str, tuple[Any, ...]] | None = None
        if visible_cases is not None:
            sql, params = visible_cases.values("id").query.sql_with_params()
            self.visible_sql = (sql, tuple(params))

    def _restriction(self, column: str) -> tuple[str, list[Any]]:
        if self.visible_sql is None:
            return "", []
        sql, params = self.visible_sql
        return f" AND {column} IN ({sql})", list(params)

    def run(self, terms: list[str], limit: int) -> list[SearchHit]:
        hits = self.case_hits(terms, limit) + self.message_hits(terms, limit)
        hits.sort(key=lambda h: (-h.rank, -(h.message_id or 0), -h.case_id))
        return hits[:limit]

    def case_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        raise NotImplementedError  # pragma: no cover - abstract

    def message_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        raise NotImplementedError  # pragma: no cover - abstract


class _SqliteSearch(_Backend):
    @staticmethod
    def match_expression(terms: list[str]) -> str:
        parts = []
        for term in terms:
            prefix = term.endswith("*")
            word = term.rstrip("*").replace('"', '""')
            parts.append(f'"{word}"' + ("*" if prefix else ""))
        return " ".join(parts)

    @staticmethod
    def _score(table: str, terms: list[str], weight: float = 1.0) -> str:
        """The rank column: bm25 for several words; for one word, 0 (newest first).

        FTS5's bm25 computes each word's IDF by walking the word's whole
        doclist: 50-65 ms for a word in 880,000 of a million messages. With one
        word the IDF is one constant factor for every row, so it cannot change
        the order by much, and the window (newest matches) is already the
        useful part: rank by recency instead (docs/adr/0004-search.md).
        """
        if len(terms) == 1:
            return f"-{weight}"  # negated as bm25 is: lower is better
        return f"bm25({table}) * {weight}"

    @staticmethod
    def _window(terms: list[str], limit: int) -> int:
        return RECENT_WINDOW if len(terms) > 1 else limit  # one word: the newest are the answer

    def _ranked(self, sql: str, params: list[Any], limit: int) -> list[tuple[int, float]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [(int(r[0]), -float(r[1])) for r in cursor.fetchall()]  # bm25: lower is better
        rows.sort(key=lambda r: r[1], reverse=True)  # stable: equal scores stay newest first
        return rows[:limit]

    def case_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        match = self.match_expression(terms)
        restrict, rparams = self._restriction("f.rowid")
        ranked = self._ranked(
            f"SELECT f.rowid, {self._score('cases_case_fts', terms, 2.0)} FROM cases_case_fts f "
            f"WHERE cases_case_fts MATCH %s{restrict} ORDER BY f.rowid DESC LIMIT %s",
            [match, *rparams, self._window(terms, limit)], limit,
        )  # fmt: skip
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        placeholders = ",".join(["%s"] * len(ids))
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, highlight(cases_case_fts, 0, %s, %s) FROM cases_case_fts "
                f"WHERE cases_case_fts MATCH %s AND rowid IN ({placeholders})",
                [_MARK_OPEN, _MARK_CLOSE, match, *ids],
            )
            snippets = {int(r[0]): r[1] for r in cursor.fetchall()}
        return [SearchHit(case_id=cid, message_id=None, rank=rank, snippet_html=_highlight(snippets.get(cid, "")))
                for cid, rank in ranked]  # fmt: skip

    def message_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        match = self.match_expression(terms)
        join = ""
        params: list[Any] = [match]
        where = ""
        if self.visible_sql is not None or not self.include_notes:
            join = " JOIN cases_message m ON m.id = f.rowid"
            restrict, rparams = self._restriction("m.case_id")
            where = restrict
            params += rparams
            if not self.include_notes:
                where += " AND m.direction <> %s"
                params.append(Direction.NOTE.value)
        ranked = self._ranked(
            f"SELECT f.rowid, {self._score('cases_message_fts', terms)} FROM cases_message_fts f{join} "
            f"WHERE cases_message_fts MATCH %s{where} ORDER BY f.rowid DESC LIMIT %s",
            [*params, self._window(terms, limit)], limit,
        )  # fmt: skip
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        placeholders = ",".join(["%s"] * len(ids))
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"SELECT f.rowid, snippet(cases_message_fts, 0, %s, %s, '…', 24), m.case_id "
                f"FROM cases_message_fts f JOIN cases_message m ON m.id = f.rowid "
                f"WHERE cases_message_fts MATCH %s AND f.rowid IN ({placeholders})",
                [_MARK_OPEN, _MARK_CLOSE, match, *ids],
            )
            found = {int(r[0]): (r[1], int(r[2])) for r in cursor.fetchall()}
        return [SearchHit(case_id=found[mid][1], message_id=mid, rank=rank, snippet_html=_highlight(found[mid][0]))
                for mid, rank in ranked if mid in found]  # fmt: skip


class _PostgresSearch(_Backend):
    @staticmethod
    def tsquery_text(terms: list[str]) -> str:
        parts = []
        for term in terms:
            word = re.sub(r"[^\w]", "", term.rstrip("*"))
            if word:
                parts.append(word + (":*" if term.endswith("*") else ""))
        return " & ".join(parts)

    @staticmethod
    def hits_sql(table: str, text_column: str, extra_where: str) -> str:
        """The newest `RECENT_WINDOW` matches, the best `limit` of them by rank, each with its snippet.

        Parameters: the query text three times around `extra_where`'s own: (query, query, *extra,
        window, limit, query). The query is written out where it is used, not computed once in a CTE:
        only a `to_tsquery` of a known value lets the planner read the word's frequency from the
        column's statistics. A common word is then found by walking the primary key backwards until
        the window is full (5 ms at 100k messages) instead of reading every message that has it (110
        ms for 88,000); a rare one still comes from the GIN index.
        """
        case_column = "id" if table == "cases_case" else "case_id"
        query = "to_tsquery('english', %s)"
        return (
            f"WITH recent AS (SELECT t.id, t.{case_column} AS case_id, ts_rank(t.search_vector, {query}) AS rank "
            f"FROM {table} t WHERE t.search_vector @@ {query}{extra_where} "
            f"ORDER BY t.id DESC LIMIT %s), "
            f"best AS (SELECT * FROM recent ORDER BY rank DESC, id DESC LIMIT %s) "
            f"SELECT best.id, best.rank, ts_headline('english', t.{text_column}, {query}, "
            f'\'StartSel="\x02", StopSel="\x03", MaxWords=35, MinWords=15\'), best.case_id '
            f"FROM best JOIN {table} t ON t.id = best.id ORDER BY best.rank DESC, best.id DESC"
        )

    def _run(
        self,
        table: str,
        text_column: str,
        extra_where: str,
        params: list[Any],
        tsq: str,
        limit: int,
    ) -> list[tuple[int, float, str, int]]:
        with self.conn.cursor() as cursor:
            cursor.execute(
                self.hits_sql(table, text_column, extra_where), [tsq, tsq, *params, RECENT_WINDOW, limit, tsq]
            )
            return [(int(r[0]), float(r[1]), str(r[2]), int(r[3])) for r in cursor.fetchall()]

    def case_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        tsq = self.tsquery_text(terms)
        if not tsq:
            return []
        restrict, rparams = self._restriction("t.id")
        rows = self._run("cases_case", "subject", restrict, rparams, tsq, limit)
        return [SearchHit(case_id=r[3], message_id=None, rank=r[1] * 2.0, snippet_html=_highlight(r[2]))
                for r in rows]  # fmt: skip

    def message_hits(self, terms: list[str], limit: int) -> list[SearchHit]:
        tsq = self.tsquery_text(terms)
        if not tsq:
            return []
        restrict, rparams = self._restriction("t.case_id")
        if not self.include_notes:
            restrict += " AND t.direction <> %s"
            rparams.append(Direction.NOTE.value)
        rows = self._run("cases_message", "body_text", restrict, rparams, tsq, limit)
        return [SearchHit(case_id=r[3], message_id=r[0], rank=r[1], snippet_html=_highlight(r[2])) for r in rows]


# --- schema: created by a migration and re-ensured after every migrate ----------
SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_case_fts USING fts5(subject, content='cases_case', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_message_fts USING fts5(body_text, content='cases_message', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER IF NOT EXISTS cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, subject) VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER IF NOT EXISTS cases_case_fts_au AFTER UPDATE OF subject ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, subject) VALUES ('delete', old.id, old.subject); "
    "INSERT INTO cases_case_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER IF NOT EXISTS cases_message_fts_ai AFTER INSERT ON cases_message BEGIN "
    "INSERT INTO cases_message_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS cases_message_fts_ad AFTER DELETE ON cases_message BEGIN "
    "INSERT INTO cases_message_fts(cases_message_fts, rowid, body_text) VALUES ('delete', old.id, old.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS cases_message_fts_au AFTER UPDATE OF body_text ON cases_message BEGIN "
    "INSERT INTO cases_message_fts(cases_message_fts, rowid, body_text) VALUES ('delete', old.id, old.body_text); "
    "INSERT INTO cases_message_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
]

POSTGRES_SCHEMA = [
    "ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', coalesce(subject, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS cases_case_search_gin ON cases_case USING GIN (search_vector)",
    "ALTER TABLE cases_message ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', coalesce(body_text, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS cases_message_search_gin ON cases_message USING GIN (search_vector)",
]


def ensure_search_schema(conn: BaseDatabaseWrapper) -> None:
    """Create the index structures if missing (idempotent).

    Called by the migration and again after every migrate: SQLite's schema
    editor rebuilds a table to alter it, which drops its triggers.
    """
    if conn.vendor == "sqlite":
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE (type = 'trigger' AND name LIKE 'cases_%%_fts_a_') "
                "OR name IN ('cases_case_fts', 'cases_message_fts')"
            )
            complete = cursor.fetchone()[0] == 8
            for statement in SQLITE_SCHEMA:
                cursor.execute(statement)
            if not complete:
                # triggers were missing: rows may have been written unindexed
                cursor.execute("INSERT INTO cases_case_fts(cases_case_fts) VALUES ('rebuild')")
                cursor.execute("INSERT INTO cases_message_fts(cases_message_fts) VALUES ('rebuild')")
    elif conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            for statement in POSTGRES_SCHEMA:
                cursor.execute(statement)
