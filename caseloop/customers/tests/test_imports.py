"""Orders from a shop's CSV export: by the action, the API and the command line; a re-import adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from caseloop import cli
from caseloop.core.errors import DomainError
from caseloop.customers.actions import create_organization
from caseloop.customers.imports import import_orders
from caseloop.customers.models import Contact, ContactIdentity, Order
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

HEADER = "reference,ordered_at,email,customer_name,contact_id,organization_id,total,currency,is_renewal\n"


def test_rows_become_orders_of_known_and_new_customers_and_organizations(agent):
    ann = make_contact(name="Ann Smith", email="ann@example.com")
    acme = create_organization(actor=None, name="Acme Doors")
    text = HEADER + (
        "A-1,2026-03-02T10:15:00+00:00,ANN@example.com,,,,149.00,usd,no\n"
        "A-2,2026-03-03,new@example.com,Nia New,,,20,,yes\n"
        f"A-3,2026-03-04T08:00:00Z,,,,{acme.pk},1000.50,EUR,\n"
        f"A-4,2026-03-05T08:00:00+01:00,,,{ann.pk},,0,USD,0\n"
    )
    report = import_orders(actor=agent, text=text)
    assert (report.created, report.already_there, report.errors) == (4, 0, [])
    orders = {o.reference: o for o in Order.objects.all()}
    assert (orders["A-1"].contact_id, orders["A-1"].total, orders["A-1"].currency, orders["A-1"].is_renewal) == (
        ann.pk, Decimal("149.00"), "USD", False)  # fmt: skip
    nia = ContactIdentity.objects.get(value="new@example.com").contact
    assert (nia.name, orders["A-2"].contact_id, orders["A-2"].is_renewal) == ("Nia New", nia.pk, True)
    assert orders["A-2"].ordered_at == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)  # a date alone: midnight UTC
    assert (orders["A-3"].contact_id, orders["A-3"].organization_id, orders["A-3"].total) == (
        None, acme.pk, Decimal("1000.50"))  # fmt: skip
    assert orders["A-4"].ordered_at == dt.datetime(2026, 3, 5, 7, tzinfo=dt.UTC)
    # each order is on its customer's timeline, as one made through the API is
    assert TimelineEvent.objects.filter(kind="order.placed").count() == 4


def test_importing_the_same_export_again_adds_nothing(agent):
    make_contact(name="Ann Smith", email="ann@example.com")
    text = HEADER + "A-1,2026-03-02,ann@example.com,,,,10,USD,no\n"
    import_orders(actor=agent, text=text)
    again = import_orders(actor=agent, text=text + "A-2,2026-03-09,ann@example.com,,,,12,USD,no\n")
    assert (again.created, again.already_there, again.errors) == (1, 1, [])
    assert Order.objects.count() == 2


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(agent):
    make_contact(name="Ann Smith", email="ann@example.com")
    before = Contact.objects.count()
    text = HEADER + (
        "B-1,2026-03-02,ann@example.com,,,,10,USD,no\n"
        "B-2,2026-03-02T10:00:00,ann@example.com,,,,10,USD,no\n"  # no time zone
        "B-3,yesterday,ann@example.com,,,,10,USD,no\n"
        "B-4,2026-03-02,,,,,10,USD,no\n"  # nobody's
        "B-5,2026-03-02,ann@example.com,,,,ten,USD,no\n"
        "B-6,2026-03-02,ann@example.com,,,,10,EURO,no\n"
        "B-7,2026-03-02,ann@example.com,,,,10,USD,maybe\n"
        "B-8,2026-03-02,,,999999,,10,USD,no\n"
        "B-9,2026-03-02,someone@new.test,Sam,,,-5,USD,no\n"  # refused: and the new contact is not kept
        "\n"
        ",2026-03-02,ann@example.com,,,,10,USD,no\n"
    )
    report = import_orders(actor=agent, text=text)
    assert report.created == 1 and [line for line, _ in report.errors] == [3, 4, 5, 6, 7, 8, 9, 10, 12]
    reasons = dict(report.errors)
    assert "needs a time zone" in reasons[3] and "is not a date" in reasons[4] and "Whose order" in reasons[5]
    assert "not an amount" in reasons[6] and "three-letter" in reasons[7] and "yes or no" in reasons[8]
    assert "999999" in reasons[9] and "negative" in reasons[10] and "reference" in reasons[12]
    assert Contact.objects.count() == before and list(Order.objects.values_list("reference", flat=True)) == ["B-1"]


def test_a_file_without_the_required_columns_or_with_unknown_ones_writes_nothing(agent):
    for text, words in (("reference,email\nA-1,a@b.test\n", "missing: ordered_at"),
                        ("reference,ordered_at,colour\nA-1,2026-03-02,red\n", "Unknown columns: colour")):  # fmt: skip
        with pytest.raises(DomainError) as excinfo:
            import_orders(actor=agent, text=text)
        assert words in excinfo.value.message
    assert Order.objects.count() == 0


def test_customers_cannot_import_and_nothing_changes(customer):
    with pytest.raises(DomainError) as excinfo:
        import_orders(actor=customer, text=HEADER + "A-1,2026-03-02,x@y.test,,,,1,USD,no\n")
    assert excinfo.value.status == 403 and Order.objects.count() == 0


def test_the_api_imports_a_csv_and_reports_each_refused_line(agent, customer):
    make_contact(name="Ann Smith", email="ann@example.com")
    body = {"csv": HEADER + "A-1,2026-03-02,ann@example.com,,,,10,USD,no\nA-2,soon,ann@example.com,,,,10,USD,no\n"}
    response = ApiClient(agent).post("/orders/import", body)
    assert response.status_code == 200
    assert response.json()["created"] == 1 and response.json()["already_there"] == 0
    assert [e["line"] for e in response.json()["errors"]] == [3]
    assert ApiClient(customer).post("/orders/import", body).status_code == 403
    assert ApiClient(agent).post("/orders/import", {"csv": "reference\nA-9\n"}).status_code == 422
    assert Order.objects.count() == 1


def test_the_command_imports_a_file_and_exits_1_when_a_row_was_refused(agent, tmp_path: Path, capsys):
    make_contact(name="Ann Smith", email="ann@example.com")
    good = tmp_path / "orders.csv"
    good.write_text("\ufeff" + HEADER + "A-1,2026-03-02,ann@example.com,,,,10,USD,no\n", encoding="utf-8")
    assert cli.main(["import-orders", str(good), "--user", agent.username]) == 0
    assert "1 orders imported, 0 already there, 0 refused." in capsys.readouterr().out
    bad = tmp_path / "more.csv"
    bad.write_text(HEADER + "A-1,2026-03-02,ann@example.com,,,,10,USD,no\nA-2,x,ann@example.com,,,,1,USD,no\n")
    assert cli.main(["import-orders", str(bad), "--user", agent.username]) == 1
    out, err = capsys.readouterr()
    assert "0 orders imported, 1 already there, 1 refused." in out and f"{bad}:3: " in err
    assert cli.main(["import-orders", str(tmp_path / "missing.csv"), "--user", agent.username]) == 1
    assert "cannot read" in capsys.readouterr().err
