"""Every failure is problem+json from one place; garbage never makes a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from caseloop.cases.models import Case
from caseloop.customers.models import Asset, Contact, Order, Organization, Site
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def _assert_problem(response, status: int, code: str) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_FIELDS
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:caseloop:problem:{code}")
    return body


def test_no_credentials_is_401_with_a_bearer_challenge():
    response = ApiClient(None).get("/cases")
    body = _assert_problem(response, 401, "not_authenticated")
    assert body["title"] == "Unauthorized"
    assert response["WWW-Authenticate"] == 'Bearer realm="caseloop"'


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer cl_abc_def", "Basic dXNlcjpwYXNz", "Bearer", ""])
def test_bad_credentials_are_401(header):
    response = ApiClient(None).get("/me", headers={"Authorization": header})
    _assert_problem(response, 401, "not_authenticated")


def test_health_needs_no_token():
    assert ApiClient(None).get("/health").json() == {"status": "ok"}


def test_domain_error_carries_its_code_and_field(agent):
    body = _assert_problem(ApiClient(agent).post("/contacts", {"name": "A", "identities": [
        {"kind": "email", "value": "not-an-address"}]}), 422, "identity_invalid")  # fmt: skip
    assert body["errors"] == [{"field": "value", "code": "identity_invalid", "message": body["detail"]}]


def test_unknown_route_and_wrong_method(agent):
    _assert_problem(ApiClient(None).get("/no/such/thing"), 404, "not_found")
    response = ApiClient(agent).client.put("/api/v1/cases", b"{}", content_type="application/json")
    _assert_problem(response, 405, "method_not_allowed")
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"subject": "a"', 400, "malformed_json"),
        (b"\xff\xfe\x00{", 400, "invalid_utf8"),
        (b'{"subject": "caf\xe9"}', 400, "invalid_utf8"),
        (b'{"subject": NaN}', 400, "malformed_json"),
        (b'{"subject": "a", "requester": {"email": "a@example.com"}, "subject": "b"}', 400, "duplicate_key"),
        (b'{"subject": "a", "requester": {"email": "a@example.com", "email": "b@example.com"}}', 400, "duplicate_key"),
        (b'{"subject": "a\\u0000b", "requester": {"email": "a@example.com"}}', 400, "nul_in_text"),
        (b'{"subject": "a\\ud800b", "requester": {"email": "a@example.com"}}', 400, "lone_surrogate_in_text"),
        (
            b'{"subject": "x", "requester": {"email": "a@example.com", "name": "\\uDFFF"}}',
            400,
            "lone_surrogate_in_text",
        ),
        (
            b'{"subject": "x", "requester": {"email": "a@example.com"}, "tags": ["\\udc00\\ud800"]}',
            400,
            "lone_surrogate_in_text",
        ),
        (b'{"subject": "x", "requester": {"email": "a@example.com"}, "priority": 1e999}', 400, "number_out_of_range"),
        (b"[1, 2, 3]", 422, "validation_error"),
        (b'{"subject": "x", "requester": {"id": true}}', 422, "validation_error"),  # lax pydantic: contact 1
        (b'"just a string"', 422, "validation_error"),
        (b"null", 422, "validation_error"),
        (b"[" * 100_000, 400, "too_deeply_nested"),
    ],
)
def test_unreadable_bodies_are_400_and_wrong_shapes_422(agent, raw, status, code):
    _assert_problem(ApiClient(agent).post("/cases", raw=raw), status, code)
    assert Case.objects.count() == 0


def test_a_surrogate_pair_escaped_in_json_is_one_character_and_welcome(agent):
    raw = b'{"subject": "Door \\ud83d\\udeaa stuck", "requester": {"email": "a@example.com"}}'
    response = ApiClient(agent).post("/cases", raw=raw)
    assert response.status_code == 201, response.content
    assert response.json()["subject"] == "Door \U0001f6aa stuck"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversize_body_is_413(agent):
    big = json.dumps({"subject": "x", "requester": {"email": "a@example.com"}, "message": {"body_text": "y" * 2000}})
    _assert_problem(ApiClient(agent).post("/cases", raw=big.encode()), 413, "body_too_large")
    assert Case.objects.count() == 0


def test_an_unexpected_exception_is_a_500_problem_that_leaks_nothing(agent, monkeypatch, caplog):
    import caseloop.cases.api as cases_api

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(cases_api, "case_page", explode)
    response = ApiClient(agent).get("/cases")
    body = _assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.content.decode() and "RuntimeError" not in body["detail"]
    assert "hunter2" in caplog.text  # logged for the operator


def test_openapi_document_and_docs_are_served(agent):
    response = ApiClient(None).get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/cases" in schema["paths"] and "/api/v1/timeline" in schema["paths"]
    post_cases = schema["paths"]["/api/v1/cases"]["post"]
    assert set(post_cases["responses"]) >= {"200", "201", "4XX", "5XX"}
    assert "Problem" in schema["components"]["schemas"]
    assert {"BearerToken", "BrowserSession"} <= set(schema["components"]["securitySchemes"])
    assert ApiClient(None).get("/docs").status_code == 200


# --- garbage to every write: a problem, never a 500, nothing written ----------------------------------
GARBAGE = [
    b"",
    b"{}",
    b"[]",
    b"0",
    b'{"id": 1}',
    b'{"name": 12, "subject": [], "requester": "me", "direction": {}, "into": "x", "reference": null}',
    b'{"name": "' + b"x" * 5000 + b'"}',
    b'{"limit": -1, "cursor": {"a": 1}}',
    b'{"ordered_at": "yesterday", "lines": [{"unit_price": "1e999"}], "currency": "EURO"}',
    b'{"latitude": 1000, "longitude": "east", "address_line1": "", "city": ""}',
    b'{"status": "closed", "team": 99999999999999999999999, "custom_fields": []}',
    b'{"kind": "fax", "value": "' + b"9" * 300 + b'"}',
    b'{"attributes": {"a": {"nested": 1}}, "name": "x"}',
    '{"name": "\u202e\ud7ff", "subject": "\U0001f600"}'.encode(),
]


def _write_paths(case_id: int, contact_id: int, site_id: int, asset_id: int, organization_id: int,
                 order_id: int) -> list[tuple[str, str]]:  # fmt: skip
    return [
        ("post", "/cases"), ("patch", f"/cases/{case_id}"), ("post", f"/cases/{case_id}/messages"),
        ("post", "/contacts"), ("patch", f"/contacts/{contact_id}"), ("post", f"/contacts/{contact_id}/identities"),
        ("post", f"/contacts/{contact_id}/merge"), ("post", "/organizations"),
        ("patch", f"/organizations/{organization_id}"), ("post", "/sites"), ("patch", f"/sites/{site_id}"),
        ("post", f"/sites/{site_id}/relations"), ("post", "/assets"), ("patch", f"/assets/{asset_id}"),
        ("post", "/orders"), ("patch", f"/orders/{order_id}"), ("post", "/tokens"), ("post", "/custom-fields"),
    ]  # fmt: skip


def _counts() -> tuple[int, ...]:
    models = (Case, Contact, Organization, Site, Asset, Order, AuditEntry)
    return tuple(m.objects.count() for m in models)


def test_garbage_to_every_write_is_a_4xx_problem_and_writes_nothing(admin_user):
    from caseloop.customers.actions import create_asset, create_order, create_organization, create_site
    from caseloop.identity.models import ApiToken

    case = make_case()
    contact = make_contact()
    organization = create_organization(actor=admin_user, name="Acme")
    site = create_site(actor=admin_user, address_line1="1 Road", city="Town")
    asset = create_asset(actor=admin_user, name="Door")
    import datetime as dt

    order = create_order(actor=admin_user, reference="R-1", contact=contact, currency="USD",
                         ordered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    api = ApiClient(admin_user)
    before, tokens = _counts(), ApiToken.objects.count()
    paths = _write_paths(case.pk, contact.pk, site.pk, asset.pk, organization.pk, order.pk)
    for method, path in paths:
        for raw in GARBAGE:
            response = getattr(api, method)(path, raw=raw)
            label = f"{method.upper()} {path} {raw[:60]!r}"
            if response.status_code < 400:
                # a few bodies are valid for a few routes (an empty PATCH changes nothing)
                assert raw in (b"", b"{}") and method == "patch", label
                continue
            assert 400 <= response.status_code < 500, f"{label}: {response.status_code} {response.content[:300]!r}"
            assert response["Content-Type"] == "application/problem+json", label
            assert response.json()["code"], label
    assert _counts() == before and ApiToken.objects.count() == tokens


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=bogus", "status"), ("status=open&status=bogus", "status"), ("priority=zz", "priority"),
     ("sort=bogus", "sort"), ("limit=abc", "limit")],
)  # fmt: skip
def test_a_wrong_query_parameter_is_named_as_it_was_sent(agent, query, field):
    body = _assert_problem(ApiClient(agent).client.get(f"/api/v1/cases?{query}", headers=ApiClient(agent).headers),
                           422, "validation_error")  # fmt: skip
    assert [e["field"] for e in body["errors"]] == [field]
