"""The contact form's limit per IP behind a reverse proxy: each visitor its own budget (ADR 0076, fix 8)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from caseloop.cases.models import Case
from caseloop.channels.webform.models import WebSubmission

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def submit(*, peer: str, forwarded: str, email: str) -> int:
    """A visitor's GET of the form and its POST, both through `peer`; the POST's status."""
    client = Client(REMOTE_ADDR=peer, headers={"X-Forwarded-For": forwarded})
    form_token = re.search(r'name="form_token" value="([^"]+)"', client.get("/contact/").content.decode())
    assert form_token is not None
    response = client.post("/contact/", {"name": "Ann Smith", "email": email, "topic": "repair", "website": "",
                                         "message": "The garage door will not close.",
                                         "form_token": form_token.group(1)})  # fmt: skip
    return response.status_code


def test_two_visitors_behind_a_trusted_proxy_have_a_limit_each(settings):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_WEBFORM_MAX_PER_IP = 1
    assert submit(peer=PROXY, forwarded="203.0.113.7", email="ann@example.com") == 302
    assert submit(peer=PROXY, forwarded="203.0.113.7", email="bob@example.com") == 429
    assert submit(peer=PROXY, forwarded="198.51.100.20", email="cy@example.com") == 302
    assert list(WebSubmission.objects.order_by("pk").values_list("ip_address", flat=True)) == [
        "203.0.113.7", "198.51.100.20"]  # fmt: skip


def test_a_visitor_that_is_no_proxy_cannot_name_another_address(settings):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_WEBFORM_MAX_PER_IP = 1
    assert submit(peer="198.51.100.66", forwarded="203.0.113.1", email="ann@example.com") == 302
    assert submit(peer="198.51.100.66", forwarded="203.0.113.2", email="bob@example.com") == 429
    assert Case.objects.count() == 1
    assert list(WebSubmission.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
