"""PostgreSQL plans a search with the word's own frequency: a common word walks the newest messages, a rare
one comes from the full-text index. Reading every message with a common word took 110 ms at 100k messages
(88,000 of them had it) and would grow with the desk; the walk stops once the window is full."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Message
from caseloop.cases.search import RECENT_WINDOW, _PostgresSearch
from caseloop.testing.factories import make_case

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's"),
]


def _plan(word: str) -> str:
    sql = _PostgresSearch.hits_sql("cases_message", "body_text", "")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, [word, word, RECENT_WINDOW, 20, word])
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_common_word_walks_the_newest_messages_and_a_rare_word_uses_the_index() -> None:
    case = make_case(subject="Many messages")
    when = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    Message.objects.bulk_create(
        Message(case=case, direction=Direction.INBOUND, channel=Channel.EMAIL, created_at=when,
                body_text=("The torsion spring snapped again" if n % 10 else "Billing question")
                + (" wilcox" if n % 2_000 == 0 else ""))
        for n in range(12_000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_message")
    common, rare = _plan("spring"), _plan("wilcox")
    assert "Index Scan Backward" in common and "Bitmap Heap Scan" not in common, common
    assert "Index Scan Backward" not in rare, rare  # a handful of rows: the index or, on a small table, a scan
