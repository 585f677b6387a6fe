"""Signing in to the portal through the pages: the same answer for every address, a link a mail
scanner cannot use up, and a session only after the person presses the button."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Channel, Direction
from caseloop.channels.email.choices import OutboundState
from caseloop.channels.email.models import OutboundEmail
from caseloop.identity.choices import Role
from caseloop.portal.models import SignInLink
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db


def ask(client: Client, email: str):
    return client.post("/portal/sign-in/", {"email": email})


def link_path() -> str:
    found = re.search(r"https://help\.example\.com(/portal/sign-in/[^/\s]+/)", str(mail.outbox[-1].body))
    assert found is not None
    return found.group(1)


def test_known_and_unknown_addresses_get_the_same_answer(client, django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        known = ask(client, "ann@example.com")
        unknown = ask(client, "zed@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.content.decode().replace("ann@example.com", "X") == unknown.content.decode().replace(
        "zed@example.com", "X")  # fmt: skip
    assert "Check your email" in known.content.decode()
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_opening_the_link_only_shows_a_button_and_pressing_it_signs_in(client, django_capture_on_commit_callbacks):
    contact = make_contact(name="Ann Smith", email="ann@example.com")
    case = make_case(requester=contact, subject="Door grinding")
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "ann@example.com")
    path = link_path()
    scanner = Client().get(path)  # a mail scanner opens every link
    assert scanner.status_code == 200 and "Press the button to sign in" in scanner.content.decode()
    assert SignInLink.objects.get().used_at is None
    browser = Client()
    browser.get(path)
    signed_in = browser.post(path, {"next": f"/portal/cases/{case.pk}/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == f"/portal/cases/{case.pk}/"
    page = browser.get(signed_in["Location"])
    assert page.status_code == 200 and "Door grinding" in page.content.decode()
    contact.refresh_from_db()
    assert contact.user is not None and contact.user.role == Role.CUSTOMER
    assert int(browser.session["_auth_user_id"]) == contact.user.pk
    # the same link again: refused, and no session for whoever tries
    other = Client()
    for again in (other.get(path), other.post(path)):  # opening it says so at once; pressing does nothing
        assert again.status_code == 410 and "This link was used already" in again.content.decode()
    assert "_auth_user_id" not in other.session


def test_next_outside_the_portal_is_ignored(client, django_capture_on_commit_callbacks):
    make_contact(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "ann@example.com")
    response = Client().post(link_path(), {"next": "https://evil.example/portal/"})
    assert response["Location"] == "/portal/"


def test_a_bad_link_says_so_and_offers_a_new_one():
    for response in (Client().get("/portal/sign-in/not-a-token/"), Client().post("/portal/sign-in/not-a-token/")):
        html = response.content.decode()
        assert response.status_code == 404 and "This link does not work" in html and "Get a new link" in html


def test_an_expired_link_says_so_when_opened(client, django_capture_on_commit_callbacks):
    import datetime as dt

    from caseloop.core import clock

    make_contact(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "ann@example.com")
    later = SignInLink.objects.get().expires_at + dt.timedelta(seconds=1)
    with clock.frozen_at(later):
        response = Client().get(link_path())
    assert response.status_code == 410 and "This link has expired" in response.content.decode()


def test_too_many_requests_answer_429_with_retry_after(client):
    for _ in range(3):
        assert ask(client, "ann@example.com").status_code == 200
    limited = ask(client, "ann@example.com")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Several sign-in links were asked for in a short time." in limited.content.decode()


def test_a_malformed_address_is_a_form_error(client):
    response = ask(client, "ann@")
    assert response.status_code == 422 and "Enter a valid email address." in response.content.decode()


def test_signing_out_ends_the_session(customer):
    browser = Client()
    browser.force_login(customer)
    assert browser.get("/portal/").status_code == 200
    assert browser.post("/portal/sign-out/")["Location"] == "/portal/sign-in/"
    assert browser.get("/portal/").status_code == 302


def test_a_reply_on_a_portal_case_is_emailed_to_the_customer(customer, agent, django_capture_on_commit_callbacks):
    from caseloop.portal.actions import open_case

    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(actor=customer, subject="Gate", text="The gate squeaks.").case
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, channel=Channel.PORTAL,
                    body=MessageInput(body_text="Oil is on its way."))  # fmt: skip
    sent = OutboundEmail.objects.select_related("case_message").get()
    assert sent.case_message is not None and sent.case_message.body_text == "Oil is on its way."
    assert (sent.state, sent.to_address) == (OutboundState.SENT, "carla@example.com")
    assert [m.to for m in mail.outbox] == [["carla@example.com"]] and f"[{case.number}]" in mail.outbox[0].subject


def test_a_customer_in_the_workspace_is_pointed_to_the_portal(customer):
    browser = Client()
    browser.force_login(customer)
    refused = browser.get("/inbox/")
    assert refused.status_code == 403 and 'href="/portal/">customer portal</a>' in refused.content.decode()


def test_an_emails_quoted_text_opens_below_the_trimmed_text_without_repeating_it(customer):
    from caseloop.channels.email.actions import ingest_email
    from caseloop.channels.email.choices import InboundSource
    from caseloop.channels.email.tests.mail import case_of, raw_email

    address = customer.email
    text = "Still stuck, sorry.\n\nOn Mon, 2 Mar 2026 at 09:00, Support <support@example.com> wrote:\n> Try the remote."
    inbound = ingest_email(raw=raw_email(sender=f"Ann <{address}>", text=text), source=InboundSource.SMTP,
                           inline=True).inbound  # fmt: skip
    case = case_of(inbound)
    client = Client()
    client.force_login(customer)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert '<div class="talk-body">Still stuck, sorry.</div>' in page
    toggle = page.split('<details class="talk-rest"><summary>Show the rest of the email</summary>')[1]
    assert toggle.split("</details>")[0] == (
        '<div class="talk-body">On Mon, 2 Mar 2026 at 09:00, Support &lt;support@example.com&gt; wrote:<br>'
        "&gt; Try the remote.</div>")  # fmt: skip
    assert page.count("Still stuck, sorry.") == 1
