"""Bounces are acted on only when they name an email we sent, and only for its recipients."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput
from caseloop.channels.email.actions import ingest_email, reply_by_email
from caseloop.channels.email.choices import InboundReason, InboundSource, InboundState, OutboundState
from caseloop.channels.email.models import InboundEmail, OutboundEmail
from caseloop.channels.email.tests.mail import bounce_for, case_of, raw_email
from caseloop.customers.models import ContactIdentity
from caseloop.testing.factories import make_contact
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db


def ingest(raw: bytes) -> InboundEmail:
    return ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound


def forged_dsn(victim: str) -> bytes:
    """The forged report from the QA findings: it names no message of ours."""
    return (
        "From: MAILER-DAEMON@evil.example\r\nTo: support@example.com\r\nMessage-ID: <bounce1@x>\r\n"
        "Subject: Undelivered\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        "--R\r\nContent-Type: text/plain\r\n\r\nfail\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; evil\r\n\r\nFinal-Recipient: rfc822; {victim}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--R--\r\n"
    ).encode()


def _sent_reply(agent, django_capture_on_commit_callbacks, sender: str = "gone@customer.test") -> OutboundEmail:
    case = case_of(ingest(raw_email(sender=sender)))
    with django_capture_on_commit_callbacks(execute=True):
        return reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Answer"))


def test_forged_bounce_naming_no_email_of_ours_marks_nobody():
    make_contact(name="Carla", email="carla@mailbox.test")
    inbound = ingest(forged_dsn("carla@mailbox.test"))
    assert (inbound.state, inbound.reason_code) == (InboundState.IGNORED, InboundReason.BOUNCE)
    assert "names no email we sent" in inbound.reason
    assert ContactIdentity.objects.get(value="carla@mailbox.test").failing_since is None
    assert not TimelineEvent.objects.filter(kind__in=["contact.identity_failing", "email.bounced"]).exists()


def test_genuine_bounce_marks_the_recipient_and_the_email(agent, django_capture_on_commit_callbacks):
    outbound = _sent_reply(agent, django_capture_on_commit_callbacks)
    inbound = ingest(bounce_for(recipient="gone@customer.test", original_message_id=outbound.message_id))
    assert (inbound.state, inbound.reason_code, inbound.case_id) == (InboundState.IGNORED, InboundReason.BOUNCE,
                                                                     outbound.case_id)  # fmt: skip
    assert ContactIdentity.objects.get(value="gone@customer.test").failing_since is not None
    assert OutboundEmail.objects.get(pk=outbound.pk).state == OutboundState.BOUNCED


def test_bounce_naming_our_email_marks_only_its_recipients(agent, django_capture_on_commit_callbacks):
    make_contact(name="Carla", email="carla@mailbox.test")
    outbound = _sent_reply(agent, django_capture_on_commit_callbacks)
    inbound = ingest(bounce_for(recipient="carla@mailbox.test", original_message_id=outbound.message_id))
    assert (inbound.state, inbound.reason_code) == (InboundState.IGNORED, InboundReason.BOUNCE)
    assert ContactIdentity.objects.get(value="carla@mailbox.test").failing_since is None
    assert OutboundEmail.objects.get(pk=outbound.pk).state != OutboundState.BOUNCED
    assert not TimelineEvent.objects.filter(kind__in=["contact.identity_failing", "email.bounced"]).exists()


def test_bounce_naming_our_email_in_in_reply_to_counts(agent, django_capture_on_commit_callbacks):
    outbound = _sent_reply(agent, django_capture_on_commit_callbacks)
    dsn = forged_dsn("gone@customer.test").replace(
        b"Subject:", f"In-Reply-To: <{outbound.message_id}>\r\nSubject:".encode(), 1
    )
    ingest(dsn)
    assert ContactIdentity.objects.get(value="gone@customer.test").failing_since is not None
    assert OutboundEmail.objects.get(pk=outbound.pk).state == OutboundState.BOUNCED
