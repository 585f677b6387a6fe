"""The staff decorators every domain's pages share: sign-in, staff only, managers only, refusals."""

from __future__ import annotations

import pytest
from django.http import HttpResponse, HttpResponseBase
from django.test import RequestFactory

from caseloop.core.errors import NotFound
from caseloop.identity.access import StaffRequest, manager_page, staff_page
from caseloop.identity.choices import Role
from caseloop.testing.factories import make_agent
from caseloop.web import access as web_access

pytestmark = pytest.mark.django_db


@staff_page
def _hello(request: StaffRequest) -> HttpResponseBase:
    return HttpResponse(f"hello {request.user.username}")


@staff_page
def _missing(request: StaffRequest) -> HttpResponseBase:
    raise NotFound("Calendar", 7)


@manager_page
def _managers(request: StaffRequest) -> HttpResponseBase:
    return HttpResponse("for managers")


def _content(response: HttpResponseBase) -> bytes:
    assert isinstance(response, HttpResponse)
    return response.content


def _get(user=None, headers=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/somewhere/", headers=headers or {})
    request.user = user or AnonymousUser()
    return request


def test_a_visitor_is_sent_to_sign_in_and_an_htmx_fragment_redirects_the_window():
    assert _hello(_get())["Location"].startswith("/login/?next=/somewhere/")
    fragment = _hello(_get(headers={"HX-Request": "true", "HX-Current-URL": "/inbox/"}))
    assert (fragment.status_code, fragment["HX-Redirect"]) == (401, "/login/?next=/inbox/")


def test_a_customer_is_refused_and_staff_pass(customer, agent):
    assert _hello(_get(customer)).status_code == 403
    response = _hello(_get(agent))
    assert (response.status_code, _content(response)) == (200, f"hello {agent.username}".encode())


def test_a_domain_error_shows_with_its_status_as_a_page_or_a_fragment(agent):
    page = _missing(_get(agent))
    fragment = _missing(_get(agent, headers={"HX-Request": "true"}))
    assert page.status_code == fragment.status_code == 404
    assert b"<html" in _content(page) and b"<html" not in _content(fragment)


def test_manager_pages_refuse_an_agent_and_the_workspace_uses_the_same_decorators(agent):
    manager = make_agent(role=Role.MANAGER)
    refused = _managers(_get(agent))
    assert refused.status_code == 403 and b"service managers and administrators" in _content(refused)
    assert _managers(_get(manager)).status_code == 200
    assert web_access.staff_view is staff_page
    assert web_access.StaffRequest is StaffRequest


def test_parsed_says_what_is_wrong_and_an_unbound_form_is_refused_not_a_crash():
    from django import forms

    from caseloop.core.errors import Invalid
    from caseloop.identity.access import parsed

    class NameForm(forms.Form):
        name = forms.CharField()

    assert parsed(NameForm({"name": "Ann"})) == {"name": "Ann"}
    with pytest.raises(Invalid, match="name: This field is required") as missing:
        parsed(NameForm({}))
    assert missing.value.field == "name"
    # `Form(request.POST or None)` with an empty POST is unbound: invalid, and without errors to name
    with pytest.raises(Invalid, match="arrived empty"):
        parsed(NameForm(None))
