"""An empty or too long string in a patch or a filter is refused as a string, not as a generic sequence."""

from __future__ import annotations

import pytest

from caseloop.customers.actions import create_asset, create_organization, create_site
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact

pytestmark = pytest.mark.django_db


def _problem(response) -> tuple[int, str, list[tuple[str, str, str]]]:
    body = response.json()
    return response.status_code, body["code"], [(e["field"], e["code"], e["message"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        ("assets", {"name": ""}, ("name", "string_too_short", "String should have at least 1 character")),
        ("assets", {"serial_number": "x" * 101}, ("serial_number", "string_too_long",
                                                  "String should have at most 100 characters")),
        ("contacts", {"name": ""}, ("name", "string_too_short", "String should have at least 1 character")),
        ("contacts", {"time_zone": ""}, ("time_zone", "string_too_short", "String should have at least 1 character")),
        ("contacts", {"language": "x" * 11}, ("language", "string_too_long",
                                               "String should have at most 10 characters")),
        ("organizations", {"name": ""}, ("name", "string_too_short", "String should have at least 1 character")),
        ("organizations", {"domain": "x" * 201}, ("domain", "string_too_long",
                                                   "String should have at most 200 characters")),
        ("sites", {"city": ""}, ("city", "string_too_short", "String should have at least 1 character")),
        ("sites", {"country": "USA"}, ("country", "string_too_long", "String should have at most 2 characters")),
        ("sites", {"address_line1": ""}, ("address_line1", "string_too_short",
                                           "String should have at least 1 character")),
    ],
)  # fmt: skip
def test_a_patch_with_an_empty_or_long_string_reads_as_a_string_error(agent, kind, body, error):
    ids = {
        "assets": lambda: create_asset(actor=agent, name="Door").pk,
        "contacts": lambda: make_contact().pk,
        "organizations": lambda: create_organization(actor=agent, name="Acme").pk,
        "sites": lambda: create_site(actor=agent, address_line1="1 Elm St", city="Springfield").pk,
    }
    response = ApiClient(agent).patch(f"/{kind}/{ids[kind]()}", body)
    assert _problem(response) == (422, "validation_error", [error])


def test_a_patch_still_refuses_nul_and_null_for_a_name(agent):
    asset = create_asset(actor=agent, name="Door", serial_number="GD-1")
    api = ApiClient(agent)
    refused = api.patch(f"/assets/{asset.pk}", {"name": "Do\u0000or"})
    assert (refused.status_code, refused.json()["code"]) == (400, "nul_in_text")
    assert api.patch(f"/assets/{asset.pk}", {"name": None}).status_code == 422  # a name cannot be cleared
    patched = api.patch(f"/assets/{asset.pk}", {"name": "Garage door", "model": ""})
    assert (patched.status_code, patched.json()["name"], patched.json()["model"]) == (200, "Garage door", "")


def test_a_filter_too_long_reads_as_a_string_error(agent):
    response = ApiClient(agent).get("/assets", {"serial": "x" * 101})
    assert _problem(response) == (422, "validation_error", [("serial", "string_too_long",
                                                            "String should have at most 100 characters")])  # fmt: skip
    assert ApiClient(agent).get("/contacts", {"email": "ann@example.com"}).status_code == 200
