"""Each create writes every index of its rows: no index may repeat what a composite index leads with."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in constraints.items() if c["index"] and not c["primary_key"]}


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
