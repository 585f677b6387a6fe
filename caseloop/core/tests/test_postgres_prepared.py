"""PostgreSQL: parameters are bound on the server and a statement run often is prepared on its connection.

A create's statements are the same text every time; prepared once per
connection, the server stops parsing and planning them per request. Reads
whose best plan depends on their values are never prepared (ADR 0073).
"""

from __future__ import annotations

import pytest
from django.db import connection

from caseloop.cases.models import Case
from caseloop.cases.search import search
from caseloop.config import settings as caseloop_settings
from caseloop.core import fastdb
from caseloop.core.db.prepared import KEY_LOOKUP, may_prepare
from caseloop.testing.factories import make_case


def _options(monkeypatch: pytest.MonkeyPatch, prepare: str | None) -> dict[str, object]:
    monkeypatch.setattr(caseloop_settings, "DATABASE_URL", "postgres://caseloop@db.internal:5432/caseloop")
    if prepare is None:
        monkeypatch.delenv("CASELOOP_DATABASE_PREPARE", raising=False)
    else:
        monkeypatch.setenv("CASELOOP_DATABASE_PREPARE", prepare)
    options: dict[str, object] = caseloop_settings._database()["OPTIONS"]
    return options


def test_postgresql_binds_on_the_server_and_prepares_after_five_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    options = _options(monkeypatch, None)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_preparing_can_be_turned_off_for_a_transaction_pooler(monkeypatch: pytest.MonkeyPatch) -> None:
    options = _options(monkeypatch, "off")
    assert options["server_side_binding"] is True  # binding alone works through any pooler
    assert "prepare_threshold" not in options  # Django then passes None: psycopg never prepares


def test_only_literal_inserts_and_marked_key_lookups_may_be_prepared() -> None:
    assert may_prepare('INSERT INTO "cases_case" ("subject") VALUES (%s) RETURNING "cases_case"."id"')
    assert may_prepare(KEY_LOOKUP + 'SELECT "id" FROM "cases_message" WHERE "external_id" = %s LIMIT 1')  # noqa: S608
    # plans that depend on the values: a search, a range, a filtered update, an insert of a query's rows
    assert not may_prepare("SELECT id FROM cases_message WHERE search_vector @@ websearch_to_tsquery(%s)")
    assert not may_prepare('SELECT "id" FROM "cases_case" WHERE "team_id" = %s ORDER BY "updated_at" DESC')
    assert not may_prepare('UPDATE "sla_casesla" SET "resolution_breached" = true WHERE "resolution_due_at" < %s')
    assert not may_prepare("INSERT INTO timeline_timelineevent (kind) SELECT %s FROM cases_case WHERE id > %s")


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


@pytest.mark.django_db
@postgresql_only
def test_a_key_lookup_run_often_is_prepared_and_still_reads_right() -> None:
    cases = [make_case(subject=f"Spring {n}") for n in range(7)]
    before = _prepared_statements()
    subjects = [fastdb.get_by(Case, id=case.pk).subject for case in cases]  # type: ignore[union-attr]
    assert subjects == [f"Spring {n}" for n in range(7)]
    new = _prepared_statements() - before
    assert any(sql.startswith(KEY_LOOKUP) and 'FROM "cases_case"' in sql and "$1" in sql for sql in new), new


@pytest.mark.django_db
@postgresql_only
def test_a_read_whose_plan_depends_on_its_values_is_never_prepared() -> None:
    for n in range(7):
        make_case(subject=f"Spring {n}")
    before = _prepared_statements()
    assert [Case.objects.filter(subject=f"Spring {n}").count() for n in range(7)] == [1] * 7
    hits = [len(search("spring", visible_cases=None, include_notes=False)) for _ in range(7)]
    assert hits == [7] * 7
    new = _prepared_statements() - before
    assert not [sql for sql in new if "SELECT" in sql and not sql.startswith(KEY_LOOKUP)], new
