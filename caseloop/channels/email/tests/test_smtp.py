"""Real SMTP on loopback: `caseloop smtpd`'s handler receiving, and replies sent to an SMTP sink."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.email.actions import (
    create_mailbox,
    ingest_email,
    reply_by_email,
    send_due_outbound,
    send_outbound,
    take_rate_slot,
)
from caseloop.channels.email.choices import InboundSource, InboundState, OutboundKind, OutboundState
from caseloop.channels.email.models import InboundEmail, OutboundEmail, OutboundRateWindow
from caseloop.channels.email.smtpd import InboundHandler, make_controller
from caseloop.channels.email.tests.mail import body_of, case_of, raw_email
from caseloop.core import clock
from caseloop.timeline.models import TimelineEvent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """An SMTP server that keeps what it receives, or refuses it with a given reply."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.reply = "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.reply.startswith("250"):
            self.received.append((envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or b""))
        return self.reply


@pytest.fixture
def sink(settings):
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    yield handler
    controller.stop()


# --- receiving --------------------------------------------------------------------------
@pytest.fixture
def smtpd():
    handler = InboundHandler(inline=True, workers=1)
    controller = make_controller(handler, host="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()
    handler.close()


@pytest.mark.django_db(transaction=True)
def test_smtpd_stores_and_files_a_message_sent_over_smtp(smtpd):
    create_mailbox(actor=None, address="support@example.com")
    raw = raw_email(sender="Ann <ann@customer.test>", subject="Over the wire", text="Hello over SMTP")
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=10) as client:
        refused = client.sendmail("ann@customer.test", ["support+x@example.com"], raw)
    assert refused == {}
    inbound = InboundEmail.objects.get()
    # smtplib sends CRLF line ends and a final CRLF; the stored bytes are what went over the wire
    assert bytes(inbound.raw).replace(b"\r\n", b"\n").rstrip() == raw.replace(b"\r\n", b"\n").rstrip()
    assert (inbound.state, inbound.envelope_from, inbound.envelope_to) == (
        InboundState.PROCESSED, "ann@customer.test", ["support+x@example.com"])  # fmt: skip
    assert Case.objects.get().subject == "Over the wire"


@pytest.mark.django_db(transaction=True)
def test_smtpd_refuses_unknown_recipients_once_mailboxes_exist(smtpd):
    create_mailbox(actor=None, address="support@example.com")
    with (
        smtplib.SMTP("127.0.0.1", smtpd.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo,
    ):
        client.sendmail("ann@customer.test", ["nobody@example.com"], raw_email())
    assert excinfo.value.recipients["nobody@example.com"][0] == 550
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_smtpd_refuses_messages_over_the_size_limit(settings):
    settings.CASELOOP_EMAIL_MAX_BYTES = 2000
    handler = InboundHandler(inline=True, workers=1)
    controller = make_controller(handler, host="127.0.0.1", port=free_port())
    controller.start()
    try:
        with (
            smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPResponseException) as excinfo,
        ):
            client.sendmail("ann@customer.test", ["support@example.com"], raw_email(text="x" * 5000))
    finally:
        controller.stop()
        handler.close()
    assert excinfo.value.smtp_code == 552
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_smtpd_answers_451_when_it_cannot_store(smtpd, monkeypatch):
    from caseloop.channels.email import smtpd as smtpd_module

    def broken(**_):
        raise OSError("database unavailable")

    monkeypatch.setattr(smtpd_module, "ingest_email", broken)
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=10) as client, pytest.raises(smtplib.SMTPDataError) as excinfo:
        client.sendmail("ann@customer.test", ["support@example.com"], raw_email())
    assert excinfo.value.smtp_code == 451


# --- sending --------------------------------------------------------------------------
@pytest.mark.django_db
def test_reply_is_sent_after_commit_with_threading_headers(agent, sink, django_capture_on_commit_callbacks):
    create_mailbox(actor=None, address="support@example.com", name="ACME Support")
    first = ingest_email(raw=raw_email(message_id="<cust-1@customer.test>", cc="Eve <eve@customer.test>"),
                         source=InboundSource.SMTP, inline=True).inbound  # fmt: skip
    case = case_of(first)
    plan = AttachmentInput(filename="plan.txt", content=b"9-12", content_type="text/plain")
    body = MessageInput(body_text="We come Monday.\n\nBring the key.", body_html="<p>We come <b>Monday</b>.</p>",
                        attachments=[plan])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbound = reply_by_email(actor=agent, case=case, body=body)
    assert sink.received == []  # nothing leaves before commit
    for callback in callbacks:
        callback()
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts, outbound.last_error) == (OutboundState.SENT, 1, "")
    [(mail_from, rcpts, data)] = [r for r in sink.received if b"We come" in r[2]]
    assert mail_from == "support@example.com" and sorted(rcpts) == ["ann@customer.test", "eve@customer.test"]
    msg = message_from_bytes(data, policy=policy.default)
    assert msg["Message-ID"] == f"<{outbound.message_id}>"
    assert msg["In-Reply-To"] == "<cust-1@customer.test>"
    assert "<cust-1@customer.test>" in msg["References"]
    assert msg["Subject"] == f"Re: Garage door stuck [{case.number}]"
    assert msg["Reply-To"] == f"support+{case.number}@example.com"
    assert msg["From"] == "ACME Support <support@example.com>" and msg["Cc"] == "eve@customer.test"
    assert msg["Auto-Submitted"] is None
    assert body_of(msg, "plain") == "We come Monday.\n\nBring the key."
    assert body_of(msg, "html") == "<p>We come <b>Monday</b>.</p>"
    assert [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()] == [("plan.txt", "9-12")]
    assert TimelineEvent.objects.filter(kind="email.sent", case_id=case.pk).count() == 1


@pytest.mark.django_db
def test_acknowledgement_is_marked_auto_submitted(sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_email(raw=raw_email(message_id="<c@customer.test>"), source=InboundSource.SMTP, inline=True)
    [(_, rcpts, data)] = sink.received
    msg = message_from_bytes(data, policy=policy.default)
    assert rcpts == ["ann@customer.test"]
    assert (msg["Auto-Submitted"], msg["In-Reply-To"]) == ("auto-replied", "<c@customer.test>")
    assert OutboundEmail.objects.get().state == OutboundState.SENT


@pytest.mark.django_db
def test_reply_written_elsewhere_is_delivered_through_the_registry(agent, sink, django_capture_on_commit_callbacks):
    first = ingest_email(raw=raw_email(), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(first)
    with django_capture_on_commit_callbacks(execute=True):
        added = add_message(actor=agent, case=case, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                            body=MessageInput(body_text="Answer from the case page"))  # fmt: skip
    outbound = OutboundEmail.objects.get(case_message=added.message)
    assert outbound.state == OutboundState.SENT
    assert any(b"Answer from the case page" in data for _, _, data in sink.received)


@pytest.mark.django_db
def test_temporary_failure_is_retried_then_sent(agent, sink, settings, django_capture_on_commit_callbacks):
    settings.CASELOOP_EMAIL_ACKNOWLEDGE = False
    first = ingest_email(raw=raw_email(), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(first)
    sink.reply = "451 4.3.0 try later"
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Hi"))
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == (OutboundState.QUEUED, 1)
    assert outbound.last_error.startswith("451") and outbound.next_attempt_at > clock.now()
    sink.reply = "250 OK"
    assert send_due_outbound() == 0  # not due yet
    with clock.frozen_at(outbound.next_attempt_at + dt.timedelta(seconds=1)):
        assert send_due_outbound() == 1
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == (OutboundState.SENT, 2)


@pytest.mark.django_db
def test_permanent_failure_fails_at_once(agent, sink, django_capture_on_commit_callbacks):
    first = ingest_email(raw=raw_email(), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(first)
    sink.reply = "554 5.7.1 rejected"
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Hi"))
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == (OutboundState.FAILED, 1)
    assert outbound.last_error.startswith("554")
    assert TimelineEvent.objects.filter(kind="email.failed", case_id=case.pk).count() == 1


@pytest.mark.django_db
def test_sending_is_claimed_once(agent):
    first = ingest_email(raw=raw_email(), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(first)
    outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Hi"))  # commit not run: queued
    OutboundEmail.objects.filter(pk=outbound.pk).update(state=OutboundState.SENDING, claimed_at=clock.now())
    assert send_outbound(outbound_id=outbound.pk).attempts == 0  # someone else holds it: untouched


# --- loop protection ----------------------------------------------------------------------
@pytest.mark.django_db
def test_rate_slots_stop_at_the_limit_and_reset_next_hour(settings):
    settings.CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = 3
    at = dt.datetime(2026, 3, 3, 10, 15, tzinfo=dt.UTC)
    assert [take_rate_slot(address="A@x.test", now=at) for _ in range(5)] == [True, True, True, False, False]
    assert take_rate_slot(address="a@x.test", now=at + dt.timedelta(hours=1)) is True
    assert list(OutboundRateWindow.objects.order_by("window_start").values_list("address", "count")) == [
        ("a@x.test", 3), ("a@x.test", 1)]  # fmt: skip


@pytest.mark.django_db
def test_an_auto_responder_loop_gets_only_a_few_acknowledgements(settings, sink, django_capture_on_commit_callbacks):
    # a customer's broken responder writes a new mail (no auto headers) each time it hears from us
    settings.CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = 3
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(6):
            ingest_email(raw=raw_email(subject=f"Ticket {n}"), source=InboundSource.SMTP, inline=True)
    states = list(OutboundEmail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).order_by("id")
                  .values_list("state", flat=True))  # fmt: skip
    assert states == [OutboundState.SENT] * 3 + [OutboundState.SUPPRESSED] * 3
    assert len(sink.received) == 3


@pytest.mark.django_db
def test_a_reply_over_the_limit_is_held_to_the_next_hour(agent, settings, sink, django_capture_on_commit_callbacks):
    settings.CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = 1
    settings.CASELOOP_EMAIL_ACKNOWLEDGE = False
    first = ingest_email(raw=raw_email(), source=InboundSource.SMTP, inline=True).inbound
    case = case_of(first)
    with django_capture_on_commit_callbacks(execute=True):
        one = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="One"))
        two = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Two"))
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.state == OutboundState.SENT
    assert (two.state, two.attempts) == (OutboundState.QUEUED, 0) and "held until" in two.last_error
    assert two.next_attempt_at == clock.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    with clock.frozen_at(two.next_attempt_at + dt.timedelta(seconds=1)):
        send_due_outbound()
    two.refresh_from_db()
    assert two.state == OutboundState.SENT
    assert Message.objects.filter(case=case, direction=Direction.OUTBOUND).count() == 2
