"""Error pages as a deployment (DEBUG off) shows them: in the asker's look, and 500 without the database."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.views.defaults import server_error

from caseloop.config.urls import handler404
from caseloop.config.urls import urlpatterns as site_urlpatterns
from caseloop.identity.models import User
from caseloop.testing.factories import make_agent

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a forged header")


# this module is the URLconf of the tests below: the site's own, plus views that fail on purpose
urlpatterns = [path("boom/", _boom), path("suspicious/", _suspicious), *site_urlpatterns]
__all__ = ["handler404", "urlpatterns"]

WORKSPACE_NAV = '<nav class="topnav" aria-label="Main">'
STYLESHEET = '<link rel="stylesheet" href="/static/web/app.css">'


@pytest.fixture
def rep(client: Client) -> Client:
    client.force_login(make_agent(username="nora", display_name="Nora Notfound"))
    return client


def test_the_tests_see_what_a_deployment_shows() -> None:
    assert settings.DEBUG is False  # Django's technical pages would hide the templates under test


@pytest.mark.parametrize("url", ["/nonexistent/", "/attachments/999999/", "/cases/999999999999/extra/"])
def test_staff_get_a_not_found_page_in_the_workspace(rep: Client, url: str) -> None:
    response = rep.get(url)
    page = response.content.decode()
    assert response.status_code == 404
    assert WORKSPACE_NAV in page and "<h1>Page not found</h1>" in page
    assert '<a class="button button-primary" href="/inbox/">Go to the inbox</a>' in page


def test_a_customer_gets_a_not_found_page_in_the_portal_with_no_workspace(client: Client, customer: User) -> None:
    client.force_login(customer)
    for url in ("/portal/nope/", "/nonexistent/"):
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert '<body class="portal">' in page and "We could not find that page" in page, url
        assert '<a href="/portal/">Back to your requests</a>' in page, url
        assert WORKSPACE_NAV not in page and "/inbox/" not in page, url


def test_a_visitor_gets_the_neutral_portal_look_with_the_way_in(client: Client) -> None:
    response = client.get("/nonexistent/")
    page = response.content.decode()
    assert response.status_code == 404 and '<body class="portal">' in page and WORKSPACE_NAV not in page
    assert '<a href="/portal/sign-in/">See your requests</a>' in page


def test_staff_on_a_portal_address_get_the_portal_look(rep: Client) -> None:
    page = rep.get("/portal/nope/").content.decode()
    assert '<body class="portal">' in page and WORKSPACE_NAV not in page


def test_an_htmx_request_gets_the_not_found_fragment(rep: Client) -> None:
    response = rep.get("/nonexistent/", headers={"HX-Request": "true"})
    assert response.status_code == 404
    fragment = '<p class="alert alert-error" role="alert">That was not found; reload the page.</p>\n'
    assert response.content.decode() == fragment


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_shows_the_styled_page(rep: Client) -> None:
    rep.raise_request_exception = False
    response = rep.get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert STYLESHEET in page and "Something went wrong on our side" in page and 'href="/"' in page
    assert "a bug" not in page and "Nora" not in page  # nothing of the error, nor of who asked


def test_the_server_error_page_reads_nothing_from_the_database(django_assert_num_queries) -> None:
    request = RequestFactory().get("/inbox/")  # no session, no user: what Django has when it renders a 500
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_a_bad_request_shows_the_styled_page(client: Client) -> None:
    response = client.get("/suspicious/")
    page = response.content.decode()
    assert response.status_code == 400
    assert STYLESHEET in page and "That request could not be read" in page and "forged" not in page


def test_a_form_whose_csrf_check_fails_says_it_expired_and_changed_nothing(customer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"identifier": "carla@example.com", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert STYLESHEET in page and "That form has expired" in page and "Nothing was changed." in page
