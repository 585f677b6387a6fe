"""Portal sign-in links behind a reverse proxy: each visitor its own limit per IP, and the links record the
visitor's address, not the proxy's (ADR 0076, fix 8)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from caseloop.portal.models import SignInLink
from caseloop.testing.factories import make_customer_user

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def through(peer: str, forwarded: str) -> Client:
    return Client(REMOTE_ADDR=peer, headers={"X-Forwarded-For": forwarded})


def ask(client: Client, email: str) -> int:
    return client.post("/portal/sign-in/", {"email": email}).status_code


def test_two_visitors_behind_a_trusted_proxy_have_a_limit_each(settings):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_PORTAL_LINKS_PER_IP = 1
    ann = through(PROXY, "203.0.113.7")
    assert (ask(ann, "ann@example.com"), ask(ann, "bob@example.com")) == (200, 429)
    assert ask(through(PROXY, "198.51.100.20"), "cy@example.com") == 200


def test_a_visitor_that_is_no_proxy_cannot_name_another_address(settings):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_PORTAL_LINKS_PER_IP = 1
    assert ask(through("198.51.100.66", "203.0.113.1"), "ann@example.com") == 200
    assert ask(through("198.51.100.66", "203.0.113.2"), "bob@example.com") == 429


def test_a_link_records_the_addresses_of_the_visitor_who_asked_and_who_used_it(
    settings, django_capture_on_commit_callbacks
):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    make_customer_user("Ann Smith", "ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(through(PROXY, "203.0.113.7"), "ann@example.com") == 200
    found = re.search(r"https://help\.example\.com(/portal/sign-in/[^/\s]+/)", str(mail.outbox[-1].body))
    assert found is not None
    assert through(PROXY, "198.51.100.20").post(found.group(1)).status_code == 302
    link = SignInLink.objects.get()
    assert (link.requested_ip, link.used_ip) == ("203.0.113.7", "198.51.100.20")
