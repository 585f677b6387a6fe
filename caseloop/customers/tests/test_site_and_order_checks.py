"""Sites in a real country (ISO 3166-1), orders in a real currency (ISO 4217) and of their organization's contact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.core.errors import DomainError
from caseloop.core.money import Money, check_currency
from caseloop.customers.actions import check_country, create_order, create_organization, create_site, update_site
from caseloop.customers.imports import import_orders
from caseloop.customers.models import Order, Site
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
SITE = {"address_line1": "1 Elm St", "city": "Springfield"}


# --- countries ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("country", ["12", "ZZ", "XX", "U1", "ÜS", "  "])
def test_a_site_in_no_country_is_refused_naming_the_field(agent, country):
    before = (Site.objects.count(), AuditEntry.objects.count())
    response = ApiClient(agent).post("/sites", {**SITE, "country": country})
    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert [e["field"] for e in response.json()["errors"]] == ["country"]
    assert (Site.objects.count(), AuditEntry.objects.count()) == before


def test_a_country_code_is_stored_in_upper_case(agent):
    api = ApiClient(agent)
    created = api.post("/sites", {**SITE, "country": "us"})
    assert (created.status_code, created.json()["country"]) == (201, "US")
    assert api.post("/sites", SITE).json()["country"] == "US"  # the default
    site_id = created.json()["id"]
    assert api.patch(f"/sites/{site_id}", {"country": "de"}).json()["country"] == "DE"
    refused = api.patch(f"/sites/{site_id}", {"country": "ZZ"})
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "country")
    assert Site.objects.get(pk=site_id).country == "DE"


def test_the_action_checks_the_country_for_every_caller(agent):
    with pytest.raises(DomainError) as excinfo:
        create_site(actor=agent, country="ZZ", **SITE)
    assert excinfo.value.field == "country"
    site = create_site(actor=agent, country="gb", **SITE)
    assert site.country == "GB"
    with pytest.raises(DomainError):
        update_site(actor=agent, site=site, changes={"country": "UK"})  # the United Kingdom is GB
    assert [check_country(c) for c in ("US", "ca", "AX")] == ["US", "CA", "AX"]


# --- currencies --------------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", ["ZZZ", "XXX", "XAU", "usx"])
def test_an_order_in_no_currency_is_refused_naming_the_field(agent, currency):
    contact = make_contact()
    response = ApiClient(agent).post("/orders", {"reference": "O-1", "contact_id": contact.pk,
                                                 "ordered_at": WHEN.isoformat(), "currency": currency})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert [e["field"] for e in response.json()["errors"]] == ["currency"]
    assert Order.objects.count() == 0


def test_money_knows_the_iso_4217_codes():
    assert [Money.parse("1", c).currency for c in ("usd", "EUR", "JPY", "CHF", "XOF")] == [
        "USD", "EUR", "JPY", "CHF", "XOF"]  # fmt: skip
    for code in ("ZZZ", "DOLLARS", "US", ""):
        with pytest.raises(DomainError) as excinfo:
            Money.parse("1", code)
        assert excinfo.value.field == "currency"
    assert check_currency("HRK") == "HRK"  # withdrawn in 2023, still on the orders of the years before


def test_the_import_refuses_a_row_in_no_currency(agent):
    make_contact(email="ann@example.com")
    report = import_orders(actor=agent, text="reference,ordered_at,email,total,currency\n"
                                              "A-1,2026-03-02,ann@example.com,10,ZZZ\n"
                                              "A-2,2026-03-02,ann@example.com,10,chf\n")  # fmt: skip
    assert report.created == 1 and report.errors == [(2, "currency 'ZZZ' is not a three-letter ISO 4217 code "
                                                         "(USD, EUR …).")]  # fmt: skip
    assert Order.objects.get().currency == "CHF"


# --- an order's contact and organization ------------------------------------------------------------
def test_an_order_of_a_contact_for_another_organization_is_refused_naming_organization_id(agent):
    acme = create_organization(actor=agent, name="Acme")
    other = create_organization(actor=agent, name="Other")
    contact = make_contact(organization=acme)
    before = (Order.objects.count(), AuditEntry.objects.count())
    response = ApiClient(agent).post("/orders", {"reference": "O-1", "contact_id": contact.pk,
                                                 "organization_id": other.pk, "ordered_at": WHEN.isoformat(),
                                                 "currency": "USD"})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (422, "contact_not_in_organization")
    assert [e["field"] for e in response.json()["errors"]] == ["organization_id"]
    assert (Order.objects.count(), AuditEntry.objects.count()) == before


def test_an_order_of_a_contact_for_their_own_organization_or_of_one_of_none_is_fine(agent):
    acme = create_organization(actor=agent, name="Acme")
    member, loner = make_contact(organization=acme), make_contact()
    own = create_order(actor=agent, reference="O-1", contact=member, organization=acme, ordered_at=WHEN,
                       currency="USD", total=Decimal(10))  # fmt: skip
    unlinked = create_order(actor=agent, reference="O-2", contact=loner, organization=acme, ordered_at=WHEN,
                            currency="USD", total=Decimal(10))  # fmt: skip
    assert (own.organization_id, unlinked.organization_id) == (acme.pk, acme.pk)
