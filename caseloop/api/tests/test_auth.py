"""Bearer tokens and the browser session, with CSRF on unsafe methods for the session."""

from __future__ import annotations

import datetime as dt

import pytest
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.identity.actions import create_token, revoke_token
from caseloop.identity.models import ApiToken
from caseloop.testing.factories import make_contact

pytestmark = pytest.mark.django_db

CASE_BODY = '{"subject": "From the browser", "requester": {"email": "b@example.com"}}'


def _bearer(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


def test_a_valid_token_identifies_its_user_and_a_revoked_one_does_not(agent):
    issued = create_token(user=agent, name="ci")
    client = Client()
    assert client.get("/api/v1/me", headers=_bearer(issued.plain)).json()["username"] == "agent"
    revoke_token(token=issued.token)
    assert client.get("/api/v1/me", headers=_bearer(issued.plain)).status_code == 401


def test_an_expired_token_or_inactive_user_is_refused(agent):
    issued = create_token(user=agent)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert Client().get("/api/v1/me", headers=_bearer(issued.plain)).status_code == 401
    fresh = create_token(user=agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert Client().get("/api/v1/me", headers=_bearer(fresh.plain)).status_code == 401


def test_a_tampered_secret_with_a_real_prefix_is_refused(agent):
    plain = create_token(user=agent).plain
    assert Client().get("/api/v1/me", headers=_bearer(plain[:-2] + "xx")).status_code == 401


def test_session_reads_without_csrf_but_writes_only_with_it(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get("/api/v1/me").json()["id"] == agent.pk
    refused = client.post("/api/v1/cases", CASE_BODY, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert Case.objects.count() == 0
    # what a page of the web UI does: the cookie holds the secret, the page sends a masked token
    page_request = RequestFactory().get("/")
    masked = get_token(page_request)
    client.cookies["csrftoken"] = page_request.META["CSRF_COOKIE"]
    accepted = client.post("/api/v1/cases", CASE_BODY, content_type="application/json",
                           headers={"X-CSRFToken": masked})  # fmt: skip
    assert accepted.status_code == 201, accepted.content
    assert Case.objects.count() == 1


def test_anonymous_write_is_401_not_a_csrf_403():
    response = Client(enforce_csrf_checks=True).post("/api/v1/cases", CASE_BODY, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_a_token_needs_no_csrf_even_with_a_session_cookie(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    contact = make_contact()
    body = f'{{"subject": "x", "requester": {{"id": {contact.pk}}}}}'
    headers = _bearer(create_token(user=agent).plain)
    response = client.post("/api/v1/cases", body, content_type="application/json", headers=headers)
    assert response.status_code == 201


def test_token_use_is_recorded_at_most_once_a_minute(agent):
    issued = create_token(user=agent)
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        Client().get("/api/v1/me", headers=_bearer(issued.plain))
    with clock.frozen_at(start + dt.timedelta(seconds=30)):
        Client().get("/api/v1/me", headers=_bearer(issued.plain))
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == start
