"""Organizations, contacts, sites, assets and orders over HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.customers.actions import (
    IdentityInput,
    OrderLineInput,
    create_asset,
    create_contact,
    create_order,
    create_organization,
    create_site,
    relate_contact_to_site,
)
from caseloop.customers.choices import IdentityKind, SiteRole
from caseloop.customers.models import Asset, Contact, ContactIdentity, Order, Organization, Site, SiteRelation
from caseloop.testing.api import ApiClient
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db


def _contact(agent, name: str, email: str) -> Contact:
    return create_contact(actor=agent, name=name, identities=[IdentityInput(IdentityKind.EMAIL, email)])


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Organization, Contact, ContactIdentity, Site, SiteRelation, Asset, Order,
                                             AuditEntry))  # fmt: skip


# --- organizations --------------------------------------------------------------------------
def test_organization_create_read_patch_list(agent):
    api = ApiClient(agent)
    created = api.post("/organizations", {"name": "Acme Doors", "domain": "Acme.com", "tier": "vip"})
    assert created.status_code == 201
    org_id = created.json()["id"]
    assert api.get(f"/organizations/{org_id}").json()["domain"] == "acme.com"
    patched = api.patch(f"/organizations/{org_id}", {"notes": "Pays late", "shares_cases": True})
    assert (patched.json()["notes"], patched.json()["shares_cases"], patched.json()["tier"]) == (
        "Pays late", True, "vip")  # fmt: skip
    api.post("/organizations", {"name": "Quick Installs", "kind": "partner"})
    assert [o["name"] for o in api.get("/organizations", {"kind": "partner"}).json()["items"]] == ["Quick Installs"]
    assert [o["id"] for o in api.get("/organizations", {"domain": "ACME.com"}).json()["items"]] == [org_id]


def test_a_customer_reads_only_their_organization_without_internal_notes(agent, customer):
    own = create_organization(actor=agent, name="Carla's Co", notes="internal only")
    other = create_organization(actor=agent, name="Other Co")
    contact = customer.contact
    contact.organization = own
    contact.save()
    api = ApiClient(customer)
    assert [o["id"] for o in api.get("/organizations").json()["items"]] == [own.pk]
    assert api.get(f"/organizations/{own.pk}").json()["notes"] == ""
    assert api.get(f"/organizations/{other.pk}").status_code == 404
    before = _counts()
    refused = api.patch(f"/organizations/{own.pk}", {"name": "Mine now"})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert api.post("/organizations", {"name": "New"}).status_code == 403
    assert _counts() == before and Organization.objects.get(pk=own.pk).name == "Carla's Co"


# --- contacts --------------------------------------------------------------------------------
def test_contact_create_with_identities_and_organization(agent):
    org = create_organization(actor=agent, name="Acme")
    response = ApiClient(agent).post("/contacts", {
        "name": "Ann Smith", "organization_id": org.pk, "language": "de",
        "identities": [{"kind": "email", "value": "Ann@Example.com", "is_primary": True},
                       {"kind": "phone", "value": "(415) 555-0100"}],
    })  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["organization_id"], body["language"], body["merged_into_id"]) == (
        "Ann Smith", org.pk, "de", None)  # fmt: skip
    assert body["identities"] == [{"kind": "email", "value": "ann@example.com", "is_primary": True},
                                  {"kind": "phone", "value": "+14155550100", "is_primary": False}]  # fmt: skip


def test_contact_identity_taken_is_409_and_changes_nothing(agent):
    _contact(agent, "Ann", "ann@example.com")
    before = _counts()
    response = ApiClient(agent).post("/contacts", {"name": "Other Ann", "identities": [
        {"kind": "email", "value": "ANN@example.com"}]})  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (409, "identity_taken")
    assert _counts() == before


def test_contact_list_filters_by_email_phone_and_organization(agent):
    org = create_organization(actor=agent, name="Acme")
    ann = _contact(agent, "Ann", "ann@example.com")
    ben = create_contact(actor=agent, name="Ben", organization=org,
                         identities=[IdentityInput(IdentityKind.PHONE, "+1 415 555 0101")])  # fmt: skip
    api = ApiClient(agent)

    def ids(**params):
        return [c["id"] for c in api.get("/contacts", params).json()["items"]]

    assert ids() == [ben.pk, ann.pk]
    assert ids(email="ANN@example.com") == [ann.pk]
    assert ids(phone="(415) 555-0101") == [ben.pk]
    assert ids(organization=org.pk) == [ben.pk]
    bad = api.get("/contacts", {"email": "nope"})
    assert (bad.status_code, bad.json()["code"]) == (422, "identity_invalid")


def test_patch_contact_and_clear_its_organization(agent):
    org = create_organization(actor=agent, name="Acme")
    ann = create_contact(actor=agent, name="Ann", organization=org)
    api = ApiClient(agent)
    patched = api.patch(f"/contacts/{ann.pk}", {"name": "Ann B.", "organization_id": None, "tier": "priority"})
    assert (patched.json()["name"], patched.json()["organization_id"], patched.json()["tier"]) == (
        "Ann B.", None, "priority")  # fmt: skip
    assert api.patch(f"/contacts/{ann.pk}", {"name": None}).json()["code"] == "invalid"
    assert api.patch(f"/contacts/{ann.pk}", {"organization_id": 424242}).status_code == 404
    assert Contact.objects.get(pk=ann.pk).name == "Ann B."


def test_add_identity_answers_201_then_200(agent):
    ann = _contact(agent, "Ann", "ann@example.com")
    api = ApiClient(agent)
    added = api.post(f"/contacts/{ann.pk}/identities", {"kind": "phone", "value": "+1 415 555 0102"})
    again = api.post(f"/contacts/{ann.pk}/identities", {"kind": "phone", "value": "(415) 555-0102"})
    assert (added.status_code, again.status_code) == (201, 200)
    assert [i["value"] for i in again.json()["identities"]] == ["ann@example.com", "+14155550102"]


def test_merge_then_the_old_contact_redirects_to_the_survivor(agent):
    old = _contact(agent, "Ann Old", "old@example.com")
    keeper = _contact(agent, "Ann Keeper", "keeper@example.com")
    api = ApiClient(agent)
    merged = api.post(f"/contacts/{old.pk}/merge", {"into": keeper.pk})
    assert merged.status_code == 200 and merged.json()["id"] == keeper.pk
    redirect = api.get(f"/contacts/{old.pk}")
    assert redirect.status_code == 308
    assert redirect["Location"] == f"/api/v1/contacts/{keeper.pk}"
    assert redirect.json() == {"merged_into": keeper.pk}
    assert [c["id"] for c in api.get("/contacts").json()["items"]] == [keeper.pk]
    assert {c["id"] for c in api.get("/contacts", {"include_merged": "true"}).json()["items"]} == {old.pk, keeper.pk}
    before = _counts()
    again = api.post(f"/contacts/{old.pk}/merge", {"into": keeper.pk})
    assert (again.status_code, again.json()["code"]) == (409, "contact_merged")
    itself = api.post(f"/contacts/{keeper.pk}/merge", {"into": keeper.pk})
    assert (itself.status_code, itself.json()["code"]) == (422, "merge_same_contact")
    assert _counts() == before


def test_a_customer_sees_only_their_own_contact_and_changes_nothing(agent, customer, other_customer):
    api = ApiClient(customer)
    assert [c["id"] for c in api.get("/contacts").json()["items"]] == [customer.contact.pk]
    assert api.get(f"/contacts/{other_customer.contact.pk}").status_code == 404
    before = _counts()
    assert api.post("/contacts", {"name": "Fake"}).status_code == 403
    assert api.patch(f"/contacts/{customer.contact.pk}", {"name": "Renamed"}).status_code == 403
    assert api.patch(f"/contacts/{other_customer.contact.pk}", {"name": "Renamed"}).status_code == 404
    merge = api.post(f"/contacts/{customer.contact.pk}/merge", {"into": other_customer.contact.pk})
    assert merge.status_code == 404
    assert _counts() == before


# --- sites and relations --------------------------------------------------------------------------
def test_site_create_patch_and_relations(agent):
    api = ApiClient(agent)
    created = api.post("/sites", {"address_line1": "1 Elm St", "city": "Springfield", "postal_code": "12345",
                                  "latitude": "45.1234567", "longitude": -93.5})  # fmt: skip
    assert created.status_code == 201, created.content
    site_id = created.json()["id"]
    assert (created.json()["latitude"], created.json()["longitude"]) == (45.123457, -93.5)
    assert api.patch(f"/sites/{site_id}", {"access_notes": "Key under the mat"}).json()["access_notes"] == (
        "Key under the mat")  # fmt: skip
    one_sided = api.patch(f"/sites/{site_id}", {"latitude": None})
    assert (one_sided.status_code, one_sided.json()["code"]) == (422, "bad_coordinates")
    seller = _contact(agent, "Sam Seller", "sam@example.com")
    buyer = _contact(agent, "Bea Buyer", "bea@example.com")
    first = api.post(f"/sites/{site_id}/relations", {"contact_id": seller.pk, "role": "owner",
                                                     "valid_from": "2020-01-01"})  # fmt: skip
    second = api.post(f"/sites/{site_id}/relations", {"contact_id": buyer.pk, "role": "owner",
                                                      "valid_from": "2026-03-01"})  # fmt: skip
    assert (first.status_code, second.status_code) == (201, 201)
    relations = api.get(f"/sites/{site_id}/relations").json()["items"]
    assert [(r["contact_id"], r["valid_from"], r["valid_to"]) for r in relations] == [
        (buyer.pk, "2026-03-01", None), (seller.pk, "2020-01-01", "2026-03-01")]  # fmt: skip
    assert [s["id"] for s in api.get("/sites", {"contact": buyer.pk}).json()["items"]] == [site_id]
    assert api.get("/sites", {"contact": seller.pk}).json()["items"] == []
    assert [s["id"] for s in api.get("/sites", {"postal_code": "12345"}).json()["items"]] == [site_id]


def test_site_refusals(agent):
    api = ApiClient(agent)
    before = _counts()
    assert api.post("/sites", {"address_line1": "x", "city": "y", "latitude": 91, "longitude": 0}).status_code == 422
    assert api.post("/sites", {"address_line1": "x", "city": "y", "latitude": 1}).json()["code"] == "bad_coordinates"
    assert api.post("/sites", {"address_line1": " ", "city": "y"}).json()["code"] == "invalid"
    assert api.post("/sites", {"address_line1": "x", "city": "y", "organization_id": 424242}).status_code == 404
    assert _counts() == before


def test_a_customer_sees_only_the_sites_they_live_at(agent, customer, other_customer):
    mine = create_site(actor=agent, address_line1="1 Mine", city="X")
    theirs = create_site(actor=agent, address_line1="2 Theirs", city="X")
    relate_contact_to_site(actor=agent, site=mine, contact=customer.contact, role=SiteRole.OWNER)
    relate_contact_to_site(actor=agent, site=theirs, contact=other_customer.contact, role=SiteRole.OWNER)
    api = ApiClient(customer)
    assert [s["id"] for s in api.get("/sites").json()["items"]] == [mine.pk]
    assert api.get(f"/sites/{theirs.pk}").status_code == 404
    assert api.get(f"/sites/{theirs.pk}/relations").status_code == 404
    before = _counts()
    refused = api.post(f"/sites/{mine.pk}/relations", {"contact_id": customer.contact.pk, "role": "occupant"})
    assert refused.status_code == 403 and _counts() == before


# --- assets ------------------------------------------------------------------------------------------
def test_asset_create_filter_patch(agent):
    site = create_site(actor=agent, address_line1="1 Elm", city="X")
    other_site = create_site(actor=agent, address_line1="2 Oak", city="X")
    api = ApiClient(agent)
    door = api.post("/assets", {"name": "Garage door", "site_id": site.pk, "serial_number": "GD-1001",
                                "attributes": {"spring_size": "2x 0.243", "panels": 4}})  # fmt: skip
    assert door.status_code == 201 and door.json()["attributes"] == {"spring_size": "2x 0.243", "panels": 4}
    api.post("/assets", {"name": "Opener", "site_id": other_site.pk, "serial_number": "OP-1"})
    assert [a["name"] for a in api.get("/assets", {"site": site.pk}).json()["items"]] == ["Garage door"]
    assert [a["name"] for a in api.get("/assets", {"serial": "OP-1"}).json()["items"]] == ["Opener"]
    moved = api.patch(f"/assets/{door.json()['id']}", {"site_id": other_site.pk, "status": "needs_service"})
    assert (moved.json()["site_id"], moved.json()["status"]) == (other_site.pk, "needs_service")
    nested = api.patch(f"/assets/{door.json()['id']}", {"attributes": {"a": {"b": 1}}})
    assert nested.status_code == 422
    assert Asset.objects.get(pk=door.json()["id"]).attributes == {"spring_size": "2x 0.243", "panels": 4}


def test_a_customer_sees_assets_of_their_sites_only(agent, customer):
    mine = create_site(actor=agent, address_line1="1 Mine", city="X")
    relate_contact_to_site(actor=agent, site=mine, contact=customer.contact, role=SiteRole.OWNER)
    door = create_asset(actor=agent, name="Door", site=mine)
    elsewhere = create_asset(actor=agent, name="Heater")
    api = ApiClient(customer)
    assert [a["id"] for a in api.get("/assets").json()["items"]] == [door.pk]
    assert api.get(f"/assets/{elsewhere.pk}").status_code == 404
    assert api.patch(f"/assets/{door.pk}", {"name": "Mine"}).status_code == 403
    assert Asset.objects.get(pk=door.pk).name == "Door"


# --- orders ------------------------------------------------------------------------------------------
def test_order_with_lines_list_by_contact_and_patch(agent):
    ann = _contact(agent, "Ann", "ann@example.com")
    ben = _contact(agent, "Ben", "ben@example.com")
    api = ApiClient(agent)
    created = api.post("/orders", {
        "reference": "SHOP-1", "contact_id": ann.pk, "ordered_at": "2026-03-01T10:00:00Z", "currency": "usd",
        "lines": [{"description": "Spring", "unit_price": "40.00", "quantity": 2, "sku": "SP-1"},
                  {"description": "Labour", "unit_price": 85.5}],
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["total"], body["currency"], body["status"]) == ("165.50", "USD", "placed")
    assert [(ln["description"], ln["quantity"], ln["unit_price"]) for ln in body["lines"]] == [
        ("Spring", 2, "40.00"), ("Labour", 1, "85.50")]  # fmt: skip
    create_order(actor=agent, reference="SHOP-2", contact=ben, currency="USD",
                 ordered_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
                 lines=[OrderLineInput(description="Opener", unit_price=Decimal("300"))])  # fmt: skip
    assert [o["reference"] for o in api.get("/orders", {"contact": ann.pk}).json()["items"]] == ["SHOP-1"]
    patched = api.patch(f"/orders/{body['id']}", {"status": "refunded"})
    assert patched.json()["status"] == "refunded" and patched.json()["total"] == "165.50"
    assert api.get(f"/orders/{body['id']}").json()["status"] == "refunded"


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"ordered_at": "2026-03-01T10:00:00"}, 422, "invalid"),  # no time zone
        ({"total": "1.00"}, 422, "bad_amount"),
        ({"lines": [{"description": "x", "unit_price": "-1"}]}, 422, "bad_amount"),
        ({"lines": [{"description": "x", "unit_price": "1.001"}]}, 422, "validation_error"),
        ({"lines": [{"description": "x", "unit_price": "1e20"}]}, 422, "validation_error"),
        ({"currency": "dollars"}, 422, "validation_error"),
        ({"contact_id": 424242}, 404, "not_found"),
        ({"reference": "TAKEN"}, 409, "order_ref_taken"),
    ],
)
def test_order_refusals_write_nothing(agent, extra, status, code):
    ann = _contact(agent, "Ann", "ann@example.com")
    create_order(actor=agent, reference="TAKEN", contact=ann, currency="USD",
                 ordered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    payload = {"reference": "NEW-1", "contact_id": ann.pk, "ordered_at": "2026-03-01T10:00:00Z", "currency": "USD",
               "lines": [{"description": "Spring", "unit_price": "40.00"}], **extra}  # fmt: skip
    before = _counts()
    response = ApiClient(agent).post("/orders", payload)
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert _counts() == before


def test_a_customer_sees_only_their_orders(agent, customer, other_customer):
    mine = create_order(actor=agent, reference="M-1", contact=customer.contact, currency="USD",
                        ordered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    theirs = create_order(actor=agent, reference="T-1", contact=other_customer.contact, currency="USD",
                          ordered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    api = ApiClient(customer)
    assert [o["id"] for o in api.get("/orders").json()["items"]] == [mine.pk]
    assert api.get(f"/orders/{theirs.pk}").status_code == 404
    assert api.patch(f"/orders/{mine.pk}", {"status": "cancelled"}).status_code == 403
    assert Order.objects.get(pk=mine.pk).status == "placed"


def test_contact_list_query_count_does_not_grow(agent, django_assert_max_num_queries):
    for n in range(20):
        _contact(agent, f"P{n}", f"p{n}@example.com")
    api = ApiClient(agent)
    api.get("/me")
    with django_assert_max_num_queries(4):  # token and its user, contacts, their identities
        assert len(api.get("/contacts", {"limit": 50}).json()["items"]) == 20
