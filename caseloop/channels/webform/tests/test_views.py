"""The contact form over HTTP: CSRF, the honeypot, limits, oversized uploads, and the thank-you page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case, Message
from caseloop.channels.webform.models import RateWindow, WebSubmission
from caseloop.channels.webform.tests.helpers import PNG
from caseloop.customers.models import Contact

pytestmark = pytest.mark.django_db


def fresh_form(client: Client) -> tuple[str, str]:
    """GET the form; return (csrf token, form token) as a browser would read them."""
    page = client.get("/contact/")
    assert page.status_code == 200
    html = page.content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    form_token = re.search(r'name="form_token" value="([^"]+)"', html)
    assert csrf and form_token
    return csrf.group(1), form_token.group(1)


def fields(form_token: str, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Ann Smith", "email": "ann@example.com", "topic": "repair", "website": "",
            "message": "The garage door will not close.", "form_token": form_token}  # fmt: skip
    data.update(overrides)
    return data


def nothing_stored() -> bool:
    return not (Case.objects.exists() or Message.objects.exists() or Contact.objects.exists()
                or WebSubmission.objects.exists())  # fmt: skip


def test_the_form_page_has_the_fields_a_hidden_honeypot_and_a_strict_policy(client):
    page = client.get("/contact/")
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    assert "script-src 'self'" in page["Content-Security-Policy"]
    for name in ("name", "email", "topic", "message", "attachments", "form_token", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in html
    assert re.search(r'<div class="hp-field" aria-hidden="true">\s*<label for="id_website">', html)
    assert 'tabindex="-1"' in html and '<option value="repair">A repair</option>' in html
    assert "style=" not in html and "<script" not in html


def test_a_submission_redirects_to_a_thank_you_page_that_names_no_case(client):
    csrf, form_token = fresh_form(client)
    photo = SimpleUploadedFile("door.png", PNG, content_type="image/png")
    response = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, attachments=[photo]))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == "/contact/sent/"
    assert (case.channel, case.message_count, case.messages.get().message_attachments.count()) == (Channel.WEB, 1, 1)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "We will reply by email to the address you gave" in html
    assert case.number not in html and "CL-" not in html


def test_a_stranger_typing_a_customers_address_learns_nothing_and_writes_nothing_into_her_case(
    client, django_capture_on_commit_callbacks
):
    """ADR 0076: the page used to say "We added it to your open request CL-…" to whoever typed the address."""
    with django_capture_on_commit_callbacks(execute=True):
        csrf, form_token = fresh_form(client)
        client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, email="carla@example.com"))
    hers = Case.objects.get()
    mail.outbox.clear()

    def answer(email: str) -> tuple[int, str, str]:
        stranger = Client()
        csrf, form_token = fresh_form(stranger)
        with django_capture_on_commit_callbacks(execute=True):
            text = "Please send the refund to IBAN XX00 1234."
            posted = stranger.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, email=email, message=text))
        page = stranger.get(posted["Location"]).content.decode()
        return posted.status_code, posted["Location"], re.sub(r'value="[^"]*"', "", page)  # csrf tokens differ

    # the same answer for an address with an open request and for one we never saw
    assert answer("carla@example.com") == answer("nobody@example.com")
    status, location, page = answer("carla@example.com")
    assert (status, location) == (302, "/contact/sent/") and hers.number not in page and "open request" not in page
    # her case holds only her own message; the stranger's text opened cases of their own
    hers.refresh_from_db()
    assert hers.message_count == 1 and Case.objects.filter(requester=hers.requester).count() == 3
    # the numbers went to the address's owner only, each in the confirmation of its own case
    confirmations = [m for m in mail.outbox if m.to == ["carla@example.com"]]
    numbers = {c.number for c in Case.objects.exclude(pk=hers.pk).filter(requester=hers.requester)}
    named = {found.group(1) for m in confirmations if (found := re.search(r"\[(CL-\d+)\]", str(m.subject)))}
    assert len(confirmations) == 2 and named == numbers


def test_submitting_the_same_form_again_makes_one_case_and_the_same_page(client):
    csrf, form_token = fresh_form(client)
    first = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf))
    again = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf))
    assert Case.objects.count() == 1 and Message.objects.count() == 1
    assert first["Location"] == again["Location"] == "/contact/sent/"


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing():
    browser = Client(enforce_csrf_checks=True)
    _, form_token = fresh_form(browser)
    refused = browser.post("/contact/", fields(form_token))
    assert refused.status_code == 403 and nothing_stored()
    forged = Client(enforce_csrf_checks=True)  # another site's page: no cookie, a made-up token
    refused = forged.post("/contact/", fields(form_token, csrfmiddlewaretoken="x" * 64))
    assert refused.status_code == 403 and nothing_stored()
    csrf, form_token = fresh_form(browser)
    assert browser.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf)).status_code == 302


def test_a_robot_filling_the_honeypot_sees_thanks_without_a_case(client):
    csrf, form_token = fresh_form(client)
    response = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == "/contact/sent/"
    page = client.get(response["Location"]).content.decode()
    assert "We will reply by email to the address you gave" in page and "CL-" not in page
    assert nothing_stored()


def test_the_limit_answers_429_with_the_message_and_retry_after(client, settings):
    settings.CASELOOP_WEBFORM_MAX_PER_IP = 1
    csrf, form_token = fresh_form(client)
    assert client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf)).status_code == 302
    csrf, form_token = fresh_form(client)
    limited = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, email="bob@example.com",
                                              message="Second message"))  # fmt: skip
    html = limited.content.decode()
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "So that everyone can reach us, please wait" in html
    assert "Second message" in html  # what they wrote is still in the form
    assert Case.objects.count() == 1


def test_an_oversized_upload_is_refused_before_it_is_read(client, settings):
    settings.CASELOOP_WEBFORM_MAX_FILES = 1
    settings.CASELOOP_WEBFORM_MAX_FILE_BYTES = 1024  # the body limit is then 1 KiB + 256 KiB
    csrf, form_token = fresh_form(client)
    huge = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 300 * 1024, content_type="application/pdf")
    refused = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, attachments=[huge]))
    assert refused.status_code == 413 and "Please attach fewer or smaller files." in refused.content.decode()
    assert nothing_stored() and RateWindow.objects.count() == 0
    # the size is judged before the CSRF check reads the body: no token, still 413 (not the middleware's 403)
    strict = Client(enforce_csrf_checks=True)
    huge.seek(0)
    assert strict.post("/contact/", fields(form_token, attachments=[huge])).status_code == 413


def test_a_refused_file_names_itself_and_nothing_is_stored(client):
    csrf, form_token = fresh_form(client)
    program = SimpleUploadedFile("invoice.pdf.exe", b"MZ\x90\x00", content_type="application/pdf")
    refused = client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf, attachments=[program]))
    assert refused.status_code == 415
    assert "invoice.pdf.exe: this type of file cannot be attached. Allowed: JPG, PDF, PNG, TXT." in (
        refused.content.decode())  # fmt: skip
    assert nothing_stored()


def test_an_incomplete_form_comes_back_with_field_errors_and_a_token(client):
    csrf, _ = fresh_form(client)
    response = client.post("/contact/", {"csrfmiddlewaretoken": csrf, "name": "Ann", "email": "ann@", "topic": "",
                                         "message": "Hello"})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 422
    assert "Enter a valid email address." in html and "This field is required." in html
    assert re.search(r'name="form_token" value="[A-Za-z0-9_-]{20,}"', html)
    assert nothing_stored()


def test_staff_see_a_form_message_marked_as_from_an_address_nobody_verified(client, agent):
    csrf, form_token = fresh_form(client)
    client.post("/contact/", fields(form_token, csrfmiddlewaretoken=csrf))
    case = Case.objects.get()
    staff = Client()
    staff.force_login(agent)
    page = staff.get(f"/cases/{case.pk}/").content.decode()
    assert page.count("address not verified") == 1
