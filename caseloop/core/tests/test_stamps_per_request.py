"""A request reads the stamps once, and reads them again once it begins a transaction.

These tests run outside the test's own transaction (transaction=True), as a
request does: inside a transaction the stamps are always read afresh.
"""

from __future__ import annotations

import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from caseloop.cases.models import CustomFieldDefinition
from caseloop.core import stamps
from caseloop.core.fastdb import all_rows
from caseloop.identity.actions import create_token
from caseloop.testing.factories import make_agent

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = "cases_customfielddefinition"


def _labels() -> tuple[str, ...]:
    return tuple(d.label for d in all_rows(CustomFieldDefinition))


def _keys() -> tuple[str, ...]:
    return tuple(d.key for d in all_rows(CustomFieldDefinition))


def _stamp_reads(captured: CaptureQueriesContext) -> int:
    return sum("core_table_stamp" in q["sql"] for q in captured.captured_queries)


def test_one_reading_serves_the_request_until_its_first_transaction():
    CustomFieldDefinition.objects.create(key="colour", label="Colour", field_type="text")
    request_started.send(sender=None)
    try:
        with CaptureQueriesContext(connection) as captured:
            assert stamps.cached((TABLE,), _labels) == ("Colour",)
            assert stamps.cached((TABLE,), _keys) == ("colour",)
            assert stamps.cached((TABLE,), _labels) == ("Colour",)
        assert _stamp_reads(captured) == 1
        with transaction.atomic():  # the request writes: its own edit must show
            CustomFieldDefinition.objects.create(key="size", label="Size", field_type="text")
            assert stamps.cached((TABLE,), _labels) == ("Colour", "Size")  # inside: read afresh
        with CaptureQueriesContext(connection) as captured:
            assert stamps.cached((TABLE,), _labels) == ("Colour", "Size")
            assert stamps.cached((TABLE,), _keys) == ("colour", "size")
        assert _stamp_reads(captured) == 1  # a new reading after the transaction, then kept again
    finally:
        request_finished.send(sender=None)
    with CaptureQueriesContext(connection) as captured:  # outside a request (worker, CLI): every check reads
        stamps.cached((TABLE,), _labels)
        stamps.cached((TABLE,), _keys)
    assert _stamp_reads(captured) == 2


def test_an_api_create_reads_the_stamps_once_for_its_token_and_its_definitions():
    agent = make_agent(username="agent")
    token = create_token(user=agent).plain
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    body = json.dumps({"subject": "Door stuck", "requester": {"email": "door@example.com"},
                       "message": {"body_text": "The door is stuck half open."}})  # fmt: skip
    # the first check writes last_used_at (a change of the token table), so the second reads the token once
    # more; from the third on, the steady state
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/cases", body, content_type="application/json", headers=headers)
        assert response.status_code == 201, response.content
    assert _stamp_reads(captured) == 1
    assert not any('FROM "identity_apitoken"' in q["sql"] for q in captured.captured_queries)


def test_a_long_request_reads_again_after_a_second(monkeypatch):
    request_started.send(sender=None)
    try:
        with CaptureQueriesContext(connection) as captured:
            stamps.cached((TABLE,), _labels)
            monkeypatch.setattr(stamps, "SNAPSHOT_SECONDS", 0.0)  # a chat stream, minutes later
            stamps.cached((TABLE,), _labels)
        assert _stamp_reads(captured) == 2
    finally:
        request_finished.send(sender=None)
