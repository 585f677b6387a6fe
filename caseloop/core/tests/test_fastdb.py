"""The prepared statements write and read exactly what the ORM would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.cases.models import CustomFieldDefinition
from caseloop.core.fastdb import all_rows, get_by, get_with, insert, insert_many, update, values_by
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


def test_values_by_reads_some_columns_of_a_unique_row(agent):
    token = ApiToken.objects.create(user=agent, name="n", prefix="abc123", digest="d" * 64)
    assert values_by(ApiToken, ["id", "user_id", "name"], prefix="abc123") == (token.pk, agent.pk, "n")
    assert values_by(ApiToken, ["id"], prefix="nope") is None


def test_update_writes_the_named_fields_increments_counters_and_compares_and_sets():
    order = insert(Order(reference="R-1", ordered_at=WHEN, total=Decimal("1.00"), currency="EUR"))
    other = insert(Order(reference="R-2", ordered_at=WHEN, total=Decimal("2.00"), currency="EUR"))
    order.total, order.currency, order.reference = Decimal("9.99"), "USD", "not written"
    assert update(order, ["total", "currency"]) == 1
    stored = Order.objects.get(pk=order.pk)
    assert (stored.total, stored.currency, stored.reference) == (Decimal("9.99"), "USD", "R-1")
    # compare-and-set: the condition no longer holds, nothing changes
    order.currency = "GBP"
    assert update(order, ["currency"], where={"currency": "EUR"}) == 0
    assert update(order, ["currency"], where={"currency": "USD"}) == 1
    assert Order.objects.get(pk=order.pk).currency == "GBP"
    assert Order.objects.get(pk=other.pk).currency == "EUR"  # only the one row


def test_update_increments_in_the_database_and_locks_for_update():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from caseloop.cases.models import Case
    from caseloop.testing.factories import make_case

    case = make_case()
    assert case.message_count == 1
    stale = Case.objects.get(pk=case.pk)
    Case.objects.filter(pk=case.pk).update(message_count=5)  # someone else counted meanwhile
    stale.updated_at = WHEN
    assert update(stale, ["updated_at"], increment={"message_count": 2}) == 1
    stored = Case.objects.get(pk=case.pk)
    assert (stored.message_count, stored.updated_at) == (7, WHEN)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = get_by(Case, for_update=True, id=case.pk)
    assert locked is not None and locked.message_count == 7
    # a row lock where the database has them; SQLite's IMMEDIATE transaction holds the write lock instead
    assert queries[-1]["sql"].endswith("FOR UPDATE") == connection.features.has_select_for_update


def test_plain_values_skip_preparing_and_still_write_what_the_orm_writes():
    from django.db import connection

    from caseloop.cases.choices import CaseStatus, Channel, Priority
    from caseloop.cases.models import Case
    from caseloop.testing.factories import make_contact

    requester = make_contact()
    common = {"subject": "Gate stuck", "status": CaseStatus.OPEN, "priority": Priority.HIGH,
              "channel": Channel.EMAIL, "requester": requester, "custom_fields": {"n": "1.5", "flag": True},
              "created_at": WHEN, "updated_at": WHEN, "message_count": 1}  # fmt: skip
    fast = insert(Case(**common))
    slow = Case.objects.create(**common)
    columns = [f.column for f in Case._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM cases_case WHERE id IN (%s, %s) ORDER BY id",  # noqa: S608
                       [fast.pk, slow.pk])  # fmt: skip
        written_fast, written_slow = cursor.fetchall()
    assert written_fast == written_slow
    assert Case.objects.get(pk=fast.pk).status == "open"


def test_get_with_reads_a_row_and_the_row_its_foreign_key_names_in_one_query(django_assert_num_queries):
    from caseloop.customers.models import ContactIdentity
    from caseloop.testing.factories import make_contact

    contact = make_contact(name="Ada Field", email="ada@field.test")
    with django_assert_num_queries(1):
        identity = get_with(ContactIdentity, "contact", kind="email", value="ada@field.test")
        assert identity is not None
        assert (identity.contact.pk, identity.contact.name) == (contact.pk, "Ada Field")
    assert identity.contact == ContactIdentity.objects.get(pk=identity.pk).contact
    assert get_with(ContactIdentity, "contact", kind="email", value="nobody@field.test") is None
