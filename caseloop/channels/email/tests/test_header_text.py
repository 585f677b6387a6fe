"""Text that becomes a mail header cannot stop our mail (security review, ADR 0076).

A customer chooses a case's subject (portal, API) and an attachment's name and
type (API). A line break in one was stored as typed; the reply's header then
held it, Django refused to write the email (BadHeaderError), and the error
escaped `send_outbound`: the reply stayed `sending` for good, and the sweep
behind retries (`send_due_outbound`, run by `caseloop fetchmail`'s loop) raised
on it every ten minutes, taking the fetchmail process down with it. Now such
text is one line when stored, rows stored before are written safely, and an
email that still cannot be written fails at once with its reason.
"""

from __future__ import annotations

import base64

import pytest
from django.core import mail

from caseloop.cases.actions import MessageInput
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.models import Case, MessageAttachment
from caseloop.channels.email.actions import reply_by_email, send_due_outbound, send_outbound
from caseloop.channels.email.choices import OutboundState
from caseloop.channels.email.models import OutboundEmail
from caseloop.identity.models import User
from caseloop.portal.actions import open_case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db

INJECTED = "Door broken\r\nBcc: everyone@attacker.test"


def test_a_customers_subject_with_a_line_break_is_one_line_and_the_reply_is_sent(
    customer: User, agent: User, django_capture_on_commit_callbacks
) -> None:
    # given a customer who typed a line break (and a header after it) into the portal's subject
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(actor=customer, subject=INJECTED, text="It is stuck.").case
    assert case.subject == "Door broken Bcc: everyone@attacker.test"
    # when a rep answers by email, then the answer goes out, with no header of the customer's making
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="We come Monday."))
    outbound.refresh_from_db()
    assert outbound.state == OutboundState.SENT
    [sent] = mail.outbox
    assert sent.subject == f"Re: Door broken Bcc: everyone@attacker.test [{case.number}]"
    assert sent.bcc == [] and "everyone@attacker.test" not in sent.recipients()


def test_a_subject_stored_with_a_line_break_before_the_fix_still_gets_its_reply_sent(
    agent: User, django_capture_on_commit_callbacks
) -> None:
    case = make_case(subject="Door broken")
    Case.objects.filter(pk=case.pk).update(subject=INJECTED)  # as it was stored before the fix
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="We come Monday."))
    outbound.refresh_from_db()
    assert outbound.state == OutboundState.SENT
    assert mail.outbox[0].subject == f"Re: Door broken Bcc: everyone@attacker.test [{case.number}]"


def test_an_email_that_cannot_be_written_fails_with_its_reason_and_the_sweep_goes_on(
    agent: User, django_capture_on_commit_callbacks
) -> None:
    # given a queued reply with a header no email can carry (a line break in References)
    case = make_case(subject="Door broken")
    with django_capture_on_commit_callbacks(execute=True):
        bad = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="We come Monday."))
    OutboundEmail.objects.filter(pk=bad.pk).update(state=OutboundState.QUEUED, attempts=0,
                                                   references="<a@x.test>\r\nBcc: everyone@attacker.test")  # fmt: skip
    mail.outbox = []
    # when it is sent, then it fails for good with its reason instead of raising (and staying `sending`)
    failed = send_outbound(outbound_id=bad.pk)
    assert failed.state == OutboundState.FAILED
    assert failed.last_error.startswith("the email could not be written:")
    assert mail.outbox == []
    # and the sweep finds nothing left to trip over
    assert send_due_outbound() == 0


def test_attachment_names_and_types_stored_before_the_fix_are_written_safely(
    agent: User, django_capture_on_commit_callbacks
) -> None:
    case = make_case(subject="Door broken")
    with django_capture_on_commit_callbacks(execute=True):
        photo = AttachmentInput(filename="door.png", content=b"png")
        first = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Photo", attachments=(photo,)))
    link = MessageAttachment.objects.get(message=first.case_message)
    MessageAttachment.objects.filter(pk=link.pk).update(filename="door\r\nX-Evil: 1.png")
    type(link.attachment).objects.filter(pk=link.attachment_id).update(content_type="image/png\r\nX-Evil: 2")
    OutboundEmail.objects.filter(pk=first.pk).update(state=OutboundState.QUEUED, attempts=0)
    mail.outbox = []
    assert send_outbound(outbound_id=first.pk).state == OutboundState.SENT
    written = mail.outbox[0].message().as_bytes()
    assert b"X-Evil" not in written.replace(b"doorX-Evil: 1.png", b"")
    assert b"Content-Type: image/png\n" in written and b'filename="doorX-Evil: 1.png"' in written


def test_api_attachment_names_and_types_lose_line_breaks_and_download_cleanly(customer: User, agent: User) -> None:
    # given a customer's case, and an attachment sent through the API with a header in its name and type
    case = open_case(actor=customer, subject="Door broken", text="It is stuck.").case
    api = ApiClient(customer)
    response = api.post(f"/cases/{case.pk}/messages", {
        "direction": "inbound", "body_text": "Photo",
        "attachments": [{"filename": "door\r\nSet-Cookie: a=b.png", "content_type": "text/html\r\nX-Evil: 1",
                         "content_base64": base64.b64encode(b"<b>not a png</b>").decode()}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    link = MessageAttachment.objects.select_related("attachment").get(message_id=response.json()["id"])
    assert link.filename == "doorSet-Cookie: a=b.png"
    assert link.attachment.content_type == "image/png"  # not one line of type: ours for the name
    # when a rep downloads it, then it is a download of that name, never a second header
    from django.test import Client

    staff = Client()
    staff.force_login(agent)
    download = staff.get(f"/attachments/{link.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="doorSet-Cookie: a=b.png"'
    assert download["Content-Type"] == "image/png" and "Set-Cookie" not in download.headers


def test_files_stored_before_the_fix_download_cleanly_for_staff_and_customer(customer: User, agent: User) -> None:
    from django.test import Client

    case = open_case(actor=customer, subject="Door broken", text="Photo", attachments=[
        AttachmentInput(filename="door.png", content=b"\x89PNG\r\n\x1a\n")]).case  # fmt: skip
    link = MessageAttachment.objects.get(message__case=case)
    MessageAttachment.objects.filter(pk=link.pk).update(filename="door\r\nX-Evil: 1.png")
    type(link.attachment).objects.filter(pk=link.attachment_id).update(content_type="text/html\r\nX-Evil: 2")
    staff, portal = Client(), Client()
    staff.force_login(agent)
    portal.force_login(customer)
    for response in (staff.get(f"/attachments/{link.pk}/"), portal.get(f"/portal/files/{link.pk}/")):
        assert response.status_code == 200  # was a 500: Django refuses a header with a line break
        assert response["Content-Disposition"] == 'attachment; filename="doorX-Evil: 1.png"'
        assert response["Content-Type"] == "image/png" and "X-Evil" not in response.headers
        assert response["X-Content-Type-Options"] == "nosniff"
