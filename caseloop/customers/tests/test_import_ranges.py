"""An order's date and total are refused by their row, never stored out of range or rounded (QA items 1-3)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from caseloop import cli
from caseloop.core.errors import DomainError, Invalid
from caseloop.core.money import Money
from caseloop.customers import imports
from caseloop.customers.actions import create_order
from caseloop.customers.models import Contact, Order
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADER = "reference,ordered_at,email,total,currency\n"
NO_UTC_FORM = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00"]


def _stored() -> list[str]:
    return sorted(Order.objects.values_list("reference", flat=True))


# --- ordered_at ----------------------------------------------------------------------------------------
def test_a_date_with_no_utc_form_is_its_lines_error_and_the_rows_around_it_are_imported(agent):
    text = HEADER + (
        "N-1,2026-03-02,n@example.com,10,USD\n"
        f"N-2,{NO_UTC_FORM[0]},n@example.com,10,USD\n"
        f"N-3,{NO_UTC_FORM[1]},n@example.com,10,USD\n"
        "N-4,1899-12-31,n@example.com,10,USD\n"  # before 1900, as a site tie's dates
        "N-5,2099-01-01,n@example.com,10,USD\n"  # more than a year ahead
        "N-6,2026-03-02,n@example.com,10,USD\n"
    )
    report = imports.import_orders(actor=agent, text=text)
    assert (report.created, report.already_there) == (2, 0)
    assert [line for line, _ in report.errors] == [3, 4, 5, 6]
    reasons = dict(report.errors)
    assert reasons[3].startswith(f"ordered_at {NO_UTC_FORM[0]} is not between 1900-01-01 and ")
    assert reasons[4].startswith(f"ordered_at {NO_UTC_FORM[1]} is not between 1900-01-01 and ")
    assert all("(a year from today)" in reasons[line] for line in (3, 4, 5, 6))
    assert _stored() == ["N-1", "N-6"]


def test_the_command_reports_the_line_instead_of_a_traceback(agent, tmp_path: Path, capsys):
    path = tmp_path / "x.csv"
    path.write_text(HEADER + f"N-1,2026-03-02,n@example.com,10,USD\nN-2,{NO_UTC_FORM[0]},n@example.com,10,USD\n"
                    "N-3,2026-03-02,n@example.com,10,USD\n", encoding="utf-8")  # fmt: skip
    assert cli.main(["import-orders", str(path), "--user", agent.username]) == 1
    out, err = capsys.readouterr()
    assert "2 orders imported, 0 already there, 1 refused." in out
    assert err.startswith(f"{path}:3: ordered_at {NO_UTC_FORM[0]} is not between") and err.count("\n") == 1


def test_the_api_import_answers_the_line_errors_with_the_good_rows_imported(agent):
    body = {"csv": f"reference,ordered_at,email\nOV-1,2026-03-02,ov@example.com\nOV-2,{NO_UTC_FORM[0]},ov@example.com\n"
                   "OV-3,2026-03-02,ov@example.com\n"}  # fmt: skip
    response = ApiClient(agent).post("/orders/import", body)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["created"], answer["already_there"]) == (2, 0)
    assert [e["line"] for e in answer["errors"]] == [3] and "ordered_at" in answer["errors"][0]["message"]
    assert _stored() == ["OV-1", "OV-3"]


@pytest.mark.parametrize("when", NO_UTC_FORM)
def test_post_orders_refuses_an_ordered_at_out_of_range_naming_it_and_stores_nothing(agent, when):
    ann = make_contact(name="Ann Smith", email="ann@example.com")
    audits = AuditEntry.objects.count()
    response = ApiClient(agent).post("/orders", {"reference": "R-1", "contact_id": ann.pk, "ordered_at": when,
                                                 "currency": "USD", "total": "10.00"})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "bad_date_range")
    assert [e["field"] for e in response.json()["errors"]] == ["ordered_at"]
    assert (Order.objects.count(), AuditEntry.objects.count()) == (0, audits)


def test_create_order_keeps_the_bounds_of_a_site_ties_dates(agent):
    ann = make_contact(name="Ann Smith", email="ann@example.com")
    # 23:00 on 31 December 1899 two hours west of UTC is already 1900 in UTC: compared as moments, not as dates
    inside = dt.datetime(1899, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    create_order(actor=agent, reference="OLD", contact=ann, ordered_at=inside, currency="USD")
    for when in (dt.datetime(1899, 12, 31, 23, 59, tzinfo=dt.UTC), dt.datetime(2099, 1, 1, tzinfo=dt.UTC)):
        with pytest.raises(DomainError) as refused:
            create_order(actor=agent, reference="R-2", contact=ann, ordered_at=when, currency="USD")
        assert (refused.value.code, refused.value.field) == ("bad_date_range", "ordered_at")
    assert _stored() == ["OLD"]


# --- totals --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("total", "reason"),
    [
        ("12.345", "total '12.345' has more than 2 decimals."),
        ("0.001", "total '0.001' has more than 2 decimals."),
        ("1e9", "total '1e9' is not an amount (write it as 149 or 149.50)."),
        ("1E2", "total '1E2' is not an amount (write it as 149 or 149.50)."),
        ("NaN", "total 'NaN' is not an amount (write it as 149 or 149.50)."),
        ("inf", "total 'inf' is not an amount (write it as 149 or 149.50)."),
        ("\u0661\u0662", "total '\u0661\u0662' is not an amount (write it as 149 or 149.50)."),
        ("1,000.00", "total '1,000.00' is not an amount (write it as 149 or 149.50)."),
    ],
)
def test_a_total_the_import_would_change_or_misread_is_refused_by_its_line(agent, total, reason):
    text = HEADER + f'T-1,2026-03-02,t@example.com,"{total}",USD\nT-2,2026-03-02,t@example.com,7.5,USD\n'
    report = imports.import_orders(actor=agent, text=text)
    assert (report.created, report.errors) == (1, [(2, reason)])
    assert list(Order.objects.values_list("reference", "total")) == [("T-2", Decimal("7.50"))]


def test_a_total_with_trailing_zeros_is_the_same_amount_and_imported(agent):
    text = HEADER + "T-1,2026-03-02,t@example.com,12.340,USD\nT-2,2026-03-02,t@example.com,.5,USD\n"
    report = imports.import_orders(actor=agent, text=text)
    assert (report.created, report.errors) == (2, [])
    assert sorted(Order.objects.values_list("reference", "total")) == [("T-1", Decimal("12.34")),
                                                                       ("T-2", Decimal("0.50"))]  # fmt: skip


def test_create_order_refuses_a_total_it_would_round(agent):
    ann = make_contact(name="Ann Smith", email="ann@example.com")
    with pytest.raises(Invalid) as refused:
        create_order(actor=agent, reference="R-1", contact=ann, ordered_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
                     currency="USD", total=Decimal("12.345"))  # fmt: skip
    assert (refused.value.field, refused.value.message) == ("total", "12.345 has more than 2 decimals.")
    assert Order.objects.count() == 0


def test_money_parse_rounds_unless_asked_to_be_exact():
    assert Money.parse("12.345", "USD").amount == Decimal("12.34")  # half-even, as before
    assert Money.parse("12.340", "USD", exact=True).amount == Decimal("12.34")
    with pytest.raises(Invalid) as refused:
        Money.parse("12.345", "USD", exact=True)
    assert (refused.value.field, refused.value.message) == ("amount", "12.345 has more than 2 decimals.")


# --- a row that fails in a way no check foresaw ------------------------------------------------------------
def test_a_value_error_in_one_row_is_that_lines_error_and_logged(agent, monkeypatch, caplog):

    def create_order_overflowing_on_b2(**kwargs):
        if kwargs["reference"] == "B-2":
            raise OverflowError("date value out of range")
        return create_order(**kwargs)

    monkeypatch.setattr("caseloop.customers.imports.create_order", create_order_overflowing_on_b2)
    text = HEADER + "".join(f"B-{n},2026-03-02,new{n}@example.com,1,USD\n" for n in (1, 2, 3))
    with caplog.at_level(logging.WARNING, logger="caseloop.customers.imports"):
        report = imports.import_orders(actor=agent, text=text)
    assert (report.created, [line for line, _ in report.errors]) == (2, [3])
    assert "out of range or too long" in report.errors[0][1]
    assert _stored() == ["B-1", "B-3"]
    # the row's new contact went with it, and the cause is in the log with its traceback
    assert not Contact.objects.filter(identities__value="new2@example.com").exists()
    assert [(r.levelname, r.exc_info[0]) for r in caplog.records if r.exc_info] == [("WARNING", OverflowError)]


def test_an_internal_error_stops_the_import_saying_what_was_imported(agent, monkeypatch, caplog):

    def create_order_broken_on_b2(**kwargs):
        if kwargs["reference"] == "B-2":
            raise KeyError("a bug")
        return create_order(**kwargs)

    monkeypatch.setattr("caseloop.customers.imports.create_order", create_order_broken_on_b2)
    text = HEADER + "".join(f"B-{n},2026-03-02,b@example.com,1,USD\n" for n in (1, 2, 3))
    with caplog.at_level(logging.ERROR, logger="caseloop.customers.imports"):
        response = ApiClient(agent).post("/orders/import", {"csv": text})
    assert response.status_code == 200
    assert (response.json()["created"], [e["line"] for e in response.json()["errors"]]) == (1, [3])
    assert response.json()["errors"][0]["message"].startswith("Stopped by an internal error on this line (logged)")
    assert _stored() == ["B-1"]
    assert [(r.levelname, r.exc_info[0]) for r in caplog.records if r.exc_info] == [("ERROR", KeyError)]
