"""The prepared statements write and read exactly what the ORM would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.cases.models import CustomFieldDefinition
from caseloop.core.fastdb import all_rows, get_by, insert, insert_many
from caseloop.customers.models import Order
from caseloop.identity.models import ApiToken, User
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 4, 5, 6, 7, 8, 901234, tzinfo=dt.UTC)


def test_insert_sets_pk_and_round_trips_json_dates_decimals_and_auto_now():
    order = insert(Order(reference="R-1", ordered_at=WHEN, total=Decimal("12.30"), currency="EUR"))
    assert order.pk is not None and not order._state.adding
    stored = Order.objects.get(pk=order.pk)
    assert (stored.reference, stored.ordered_at, stored.total, stored.currency) == (
        "R-1",
        WHEN,
        Decimal("12.30"),
        "EUR",
    )
    assert stored.created_at is not None  # auto_now_add filled as save() would
    event = insert(TimelineEvent(subject_kind="case", subject_id=1, kind="k", occurred_at=WHEN, summary="s",
                                 data={"nested": {"a": [1, "x"]}, "n": None}))  # fmt: skip
    assert TimelineEvent.objects.get(pk=event.pk).data == {"nested": {"a": [1, "x"]}, "n": None}


def test_insert_many_writes_every_row():
    rows = [
        TimelineEvent(subject_kind="contact", subject_id=n, kind="k", occurred_at=WHEN, summary=f"s{n}")
        for n in (1, 2, 3)
    ]
    insert_many(rows)
    assert list(TimelineEvent.objects.order_by("subject_id").values_list("subject_id", "summary", "occurred_at")) == [
        (1, "s1", WHEN), (2, "s2", WHEN), (3, "s3", WHEN),
    ]  # fmt: skip
    assert insert_many([]) == []


def test_get_by_builds_the_same_instance_as_the_orm(agent):
    token = ApiToken.objects.create(user=agent, name="n", prefix="abc123", digest="d" * 64, last_used_at=WHEN)
    found = get_by(ApiToken, prefix="abc123")
    assert found is not None
    assert (found.pk, found.user_id, found.last_used_at, found.revoked_at) == (token.pk, agent.pk, WHEN, None)
    assert get_by(ApiToken, prefix="nope") is None
    user = get_by(User, id=agent.pk)
    assert user is not None and user.username == agent.username and user.is_active is True


def test_all_rows_in_primary_key_order():
    CustomFieldDefinition.objects.create(key="b", label="B", field_type="choice", choices=["x", "y"])
    CustomFieldDefinition.objects.create(key="a", label="A", field_type="number", required=True)
    rows = all_rows(CustomFieldDefinition)
    assert [(r.key, r.choices, r.required) for r in rows] == [("b", ["x", "y"], False), ("a", [], True)]
