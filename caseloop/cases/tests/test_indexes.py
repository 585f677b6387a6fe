"""Each create writes every index of its rows: no index may repeat what a composite index leads with."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _constraints(table: str) -> dict[str, dict[str, Any]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: c for name, c in constraints.items() if c["index"] and not c["primary_key"]}


def _indexes(table: str) -> dict[str, list[str]]:
    return {name: c["columns"] for name, c in _constraints(table).items()}


@pytest.mark.parametrize(("table", "column", "composite"), [
    ("cases_case", "requester_id", "case_requester_newest"),
    ("cases_case", "partner_id", "case_partner_newest"),
    ("cases_message", "case_id", "message_case_order"),
])  # fmt: skip
def test_a_foreign_key_led_by_a_composite_index_has_no_index_of_its_own(table: str, column: str,
                                                                        composite: str) -> None:  # fmt: skip
    indexes = _indexes(table)
    assert indexes[composite][0] == column
    assert [name for name, columns in indexes.items() if columns == [column]] == []


def _definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                           "AND sql IS NOT NULL", [table])  # fmt: skip
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_the_indexes_every_create_writes_are_ascending_so_a_new_row_lands_on_the_right_edge() -> None:
    # "newest first" walks them backwards; a descending index took each new case at its left edge,
    # splitting pages there (the last-update index wrote 4 pages per create instead of 1)
    for table in ("cases_case", "cases_message"):
        for name, constraint in _constraints(table).items():
            assert "DESC" not in (constraint["orders"] or []), f"{table}.{name} is descending"


@pytest.mark.parametrize(("table", "index", "column"), [
    ("cases_case", "case_organization", "organization_id"),
    ("cases_case", "case_site", "site_id"),
    ("cases_case", "case_asset", "asset_id"),
    ("cases_case", "case_partner_newest", "partner_id"),
    ("cases_message", "message_author_user", "author_user_id"),
    ("cases_message", "message_author_contact", "author_contact_id"),
])  # fmt: skip
def test_links_most_rows_lack_are_indexed_only_where_set(table: str, index: str, column: str) -> None:
    definitions = _definitions(table)
    assert "WHERE" in definitions[index].upper() and column in definitions[index].split("WHERE")[-1]
    # and no other index holds the column's empty rows (Django's own foreign-key index was dropped)
    assert [name for name, columns in _indexes(table).items() if columns == [column] and name != index] == []
