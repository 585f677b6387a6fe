"""NUL in a query string or a form is a 400 at the door, never a database error behind it."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.views.decorators.csrf import csrf_exempt

from caseloop.channels.phone.models import IvrFlow
from caseloop.config.middleware import RefuseNulMiddleware
from caseloop.testing.api import ApiClient
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db


def test_a_nul_in_a_page_query_is_a_400_page(agent):
    response = signed_in(agent).get("/inbox/", {"q": "door\x00"})
    assert response.status_code == 400 and "NUL" in response.content.decode()
    assert "<h1>That request could not be read</h1>" in response.content.decode()  # the app's page, not bare text
    assert signed_in(agent).get("/inbox/", {"q": "door"}).status_code == 200


def test_a_nul_in_an_api_query_is_a_problem(agent):
    response = ApiClient(agent).get("/search", {"q": "door\x00"})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "nul_in_text"


def test_a_nul_in_a_form_field_or_its_name_is_refused_before_the_view_writes(admin_user):
    client = signed_in(admin_user)
    assert client.post("/phone/ivr/", {"name": "Main\x00line"}).status_code == 400  # multipart, as a browser sends
    encoded = client.post("/phone/ivr/", "name=Main%00line", content_type="application/x-www-form-urlencoded")
    assert encoded.status_code == 400
    assert client.post("/phone/ivr/", {"na\x00me": "Main"}).status_code == 400
    assert not IvrFlow.objects.exists()


def test_a_csrf_exempt_view_taking_multipart_finds_its_raw_body_unread():
    # a webhook that checks a signature over the raw body must be able to read it: the form is not parsed for it
    @csrf_exempt
    def webhook(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.body[:10])

    request = RequestFactory().post("/sms/hook/", {"Body": "hi\x00"})  # multipart
    middleware = RefuseNulMiddleware(webhook)
    assert middleware.process_view(request, webhook, (), {}) is None
    assert webhook(request).status_code == 200
    encoded = RequestFactory().post("/sms/hook/", "Body=hi%00", content_type="application/x-www-form-urlencoded")
    refused = middleware.process_view(encoded, webhook, (), {})
    assert refused is not None and refused.status_code == 400
    assert encoded.body == b"Body=hi%00"  # url-encoded bodies stay readable after the check
