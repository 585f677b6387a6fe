"""A GET on an address that only takes a form: /logout/ asks first, other 405s say so in the app's look."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.identity.models import User
from caseloop.testing.factories import make_agent, make_case

pytestmark = pytest.mark.django_db

WORKSPACE_NAV = '<nav class="topnav" aria-label="Main">'


@pytest.fixture
def rep(client: Client) -> Client:
    client.force_login(make_agent(username="otto", display_name="Otto Agent"))
    return client


def test_get_logout_asks_first_and_signs_out_only_by_its_button(rep: Client) -> None:
    response = rep.get("/logout/")
    page = response.content.decode()
    assert response.status_code == 200 and "<h1>Sign out?</h1>" in page and "Otto Agent" in page
    assert '<form method="post" action="/logout/"' in page
    assert "_auth_user_id" in rep.session
    assert rep.post("/logout/")["Location"] == "/login/"
    assert "_auth_user_id" not in rep.session


def test_get_logout_when_signed_out_goes_to_sign_in(client: Client) -> None:
    response = client.get("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_logout_still_checks_the_csrf_token(rep: Client) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = rep.cookies
    assert strict.post("/logout/").status_code == 403
    assert "_auth_user_id" in rep.session


def test_a_get_on_a_form_address_is_a_page_in_the_workspace(rep: Client) -> None:
    case = make_case()
    response = rep.get(f"/cases/{case.pk}/presence/")
    page = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert WORKSPACE_NAV in page and "<h1>Nothing to show here</h1>" in page
    assert "only receives what a form on a page sends" in page


def test_a_visitor_or_customer_gets_the_405_in_the_portal_look(client: Client, customer: User) -> None:
    for who in (None, customer):
        if who is not None:
            client.force_login(who)
        response = client.get("/inbox/bulk/")
        page = response.content.decode()
        assert response.status_code == 405 and '<body class="portal">' in page and WORKSPACE_NAV not in page


def test_an_htmx_405_is_a_fragment_and_the_api_keeps_its_problem(rep: Client) -> None:
    case = make_case()
    response = rep.get(f"/cases/{case.pk}/presence/", headers={"HX-Request": "true"})
    assert response.status_code == 405
    assert response.content.decode().startswith('<p class="alert alert-error" role="alert">This address only')
    api = rep.put("/api/v1/cases")
    assert api.status_code == 405 and api["Content-Type"] == "application/problem+json"
