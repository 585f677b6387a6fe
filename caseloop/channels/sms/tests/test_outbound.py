"""Texts out: a rep's reply is queued, sent by the sender adapter, and followed by the provider's status callbacks.

The real HTTP sender is tested against a small fake provider on 127.0.0.1 (no network beyond loopback).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Channel, Direction
from caseloop.channels.phone.actions import create_line
from caseloop.channels.phone.tests.signing import BASE, signed_post
from caseloop.channels.sms.actions import queue_sms_for_message, receive_sms, send_sms
from caseloop.channels.sms.choices import SmsState
from caseloop.channels.sms.models import SmsMessage, SmsOptOut
from caseloop.channels.sms.senders import OutgoingText, RecordingSender, SendFailure, TwilioSender
from caseloop.core import clock
from caseloop.testing.factories import make_case, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

LINE = "+15550100"
CUSTOMER = "+15557654321"


@pytest.fixture
def sms_case(admin_user):
    create_line(actor=admin_user, number=LINE, name="Main", flow=None, team=make_team("Support"))
    return receive_sms(sid="SMin1", from_number=CUSTOMER, to_number=LINE, body="Door stuck").case


def reply(agent, case, text: str, capture, channel: Channel = Channel.SMS):
    with capture(execute=True):
        return add_message(
            actor=agent, case=case, direction=Direction.OUTBOUND, channel=channel, body=MessageInput(body_text=text)
        ).message


def test_a_reply_is_texted_from_the_number_the_customer_wrote_to(agent, sms_case, django_capture_on_commit_callbacks):
    message = reply(agent, sms_case, "A technician comes at 2 pm.", django_capture_on_commit_callbacks)
    sms = SmsMessage.objects.get(message=message)
    assert (sms.direction, sms.to_number, sms.from_number, sms.state, sms.attempts, sms.provider_sid) == (
        "outbound",
        CUSTOMER,
        LINE,
        SmsState.SENT,
        1,
        "SMrecorded000001",
    )
    assert RecordingSender.sent == [
        OutgoingText(
            to_number=CUSTOMER,
            from_number=LINE,
            body="A technician comes at 2 pm.",
            status_callback=f"{BASE}/sms/twilio/status/",
        )
    ]
    # sending again (a task run twice) sends nothing more
    send_sms(sms_id=sms.pk)
    assert len(RecordingSender.sent) == 1


def test_status_callbacks_move_the_state_forward_only(client, agent, sms_case, django_capture_on_commit_callbacks):
    sms = SmsMessage.objects.get(message=reply(agent, sms_case, "On our way", django_capture_on_commit_callbacks))

    def status(value: str, **extra: str) -> None:
        response = signed_post(
            client, "/sms/twilio/status/", {"MessageSid": str(sms.provider_sid), "MessageStatus": value, **extra}
        )
        assert response.status_code == 200

    status("sending")
    assert SmsMessage.objects.get(pk=sms.pk).state == SmsState.SENT  # "sending" is behind "sent": ignored
    status("delivered")
    assert SmsMessage.objects.get(pk=sms.pk).state == SmsState.DELIVERED
    status("undelivered", ErrorCode="30003")  # a late, contradicting callback does not undo delivery
    assert SmsMessage.objects.get(pk=sms.pk).state == SmsState.DELIVERED
    status("failed")
    assert not TimelineEvent.objects.filter(kind="sms.not_sent").exists()


def test_an_undelivered_text_is_noted_on_the_case(client, agent, sms_case, django_capture_on_commit_callbacks):
    sms = SmsMessage.objects.get(message=reply(agent, sms_case, "On our way", django_capture_on_commit_callbacks))
    signed_post(
        client,
        "/sms/twilio/status/",
        {"MessageSid": str(sms.provider_sid), "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    sms.refresh_from_db()
    assert (sms.state, sms.error_code) == (SmsState.UNDELIVERED, "30003")
    event = TimelineEvent.objects.get(kind="sms.not_sent")
    assert (event.case_id, event.summary) == (
        sms_case.pk,
        f"Text to {CUSTOMER} not sent: the provider reports undelivered (error 30003)",
    )


def test_nothing_is_texted_to_a_number_that_said_stop(agent, sms_case, django_capture_on_commit_callbacks):
    receive_sms(sid="SMin2", from_number=CUSTOMER, to_number=LINE, body="STOP")
    message = reply(agent, sms_case, "Are you still there?", django_capture_on_commit_callbacks)
    sms = SmsMessage.objects.get(message=message)
    assert (sms.state, sms.error, sms.attempts) == (
        SmsState.SUPPRESSED,
        f"{CUSTOMER} opted out of text messages (STOP).",
        0,
    )
    assert RecordingSender.sent == []
    assert TimelineEvent.objects.filter(kind="sms.not_sent", case_id=sms_case.pk).count() == 1


def test_a_stop_between_queueing_and_sending_still_stops_the_text(agent, sms_case):
    with clock.frozen_at(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)):
        message = add_message(
            actor=agent,
            case=sms_case,
            direction=Direction.OUTBOUND,
            channel=Channel.SMS,
            body=MessageInput(body_text="Hello?"),
        ).message
        sms = queue_sms_for_message(message_id=message.pk)
        assert sms is not None
        SmsOptOut.objects.create(number=CUSTOMER, keyword="STOP", opted_out_at=clock.now())
        sent = send_sms(sms_id=sms.pk)
    assert (sent.state, RecordingSender.sent) == (SmsState.SUPPRESSED, [])


def test_a_case_without_any_phone_number_keeps_the_reason(agent, django_capture_on_commit_callbacks):
    case = make_case(channel=Channel.SMS)  # opened through the API, requester has only an email
    sms = SmsMessage.objects.get(message=reply(agent, case, "Hi", django_capture_on_commit_callbacks))
    assert (sms.state, sms.to_number) == (SmsState.SUPPRESSED, "")
    assert sms.error == f"{case.requester} has no phone number to text."


def test_temporary_failures_retry_and_permanent_ones_fail(agent, sms_case, django_capture_on_commit_callbacks):
    RecordingSender.fail_with = SendFailure("HTTP 503: busy", permanent=False)
    with clock.frozen_at(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)):
        message = reply(agent, sms_case, "First try", django_capture_on_commit_callbacks)
    sms = SmsMessage.objects.get(message=message)
    assert (sms.state, sms.attempts, sms.error, sms.next_attempt_at) == (
        SmsState.QUEUED,
        1,
        "HTTP 503: busy",
        dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC),
    )
    with clock.frozen_at(dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC)):
        assert send_sms(sms_id=sms.pk).attempts == 1  # not due yet: untouched
    with clock.frozen_at(dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.UTC)):
        retried = send_sms(sms_id=sms.pk)
    assert (retried.state, retried.attempts, len(RecordingSender.sent)) == (SmsState.SENT, 2, 1)
    RecordingSender.fail_with = SendFailure(
        "HTTP 400: The 'To' number is not a valid phone number.", permanent=True, code="21211"
    )
    failed = SmsMessage.objects.get(message=reply(agent, sms_case, "Second", django_capture_on_commit_callbacks))
    assert (failed.state, failed.error_code, failed.attempts) == (SmsState.FAILED, "21211", 1)


def test_a_text_longer_than_the_provider_joins_fails_with_the_reason(
    agent, sms_case, django_capture_on_commit_callbacks
):
    sms = SmsMessage.objects.get(message=reply(agent, sms_case, "x" * 1601, django_capture_on_commit_callbacks))
    assert (sms.state, sms.error) == (SmsState.FAILED, "A text message is at most 1600 characters.")
    assert RecordingSender.sent == []


# --- the HTTP sender against a fake provider on loopback ----------------------------------------------
class FakeProvider(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    answer: tuple[int, dict[str, Any]] = (201, {"sid": "SMfake1", "status": "queued"})

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        FakeProvider.requests.append(
            {
                "path": self.path,
                "auth": self.headers["Authorization"],
                "form": parse_qs(self.rfile.read(length).decode()),
            }
        )
        status, payload = FakeProvider.answer
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider(settings) -> Iterator[str]:
    FakeProvider.requests = []
    FakeProvider.answer = (201, {"sid": "SMfake1", "status": "queued"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CASELOOP_TWILIO_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.CASELOOP_TWILIO_ACCOUNT_SID = "ACabc"
    settings.CASELOOP_TWILIO_AUTH_TOKEN = "tok"
    yield settings.CASELOOP_TWILIO_API_URL
    server.shutdown()
    server.server_close()


TEXT = OutgoingText(to_number=CUSTOMER, from_number=LINE, body="Hi there", status_callback="https://c.example/s/")


def test_the_twilio_sender_posts_the_messages_api_with_basic_auth(provider):
    accepted = TwilioSender().send(TEXT)
    assert (accepted.sid, accepted.status) == ("SMfake1", "queued")
    [request] = FakeProvider.requests
    assert request["path"] == "/2010-04-01/Accounts/ACabc/Messages.json"
    assert request["auth"] == "Basic " + base64.b64encode(b"ACabc:tok").decode()
    assert request["form"] == {
        "To": [CUSTOMER],
        "From": [LINE],
        "Body": ["Hi there"],
        "StatusCallback": ["https://c.example/s/"],
    }


@pytest.mark.parametrize(
    ("status", "payload", "permanent", "code"),
    [
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, True, "21211"),
        (429, {"code": 20429, "message": "Too Many Requests"}, False, "20429"),
        (503, {}, False, "503"),
    ],
)
def test_the_twilio_sender_tells_temporary_from_permanent_failures(provider, status, payload, permanent, code):
    FakeProvider.answer = (status, payload)
    with pytest.raises(SendFailure) as excinfo:
        TwilioSender().send(TEXT)
    assert (excinfo.value.permanent, excinfo.value.code) == (permanent, code)
    assert excinfo.value.detail.startswith(f"HTTP {status}")


def test_the_twilio_sender_without_credentials_or_provider(settings):
    settings.CASELOOP_TWILIO_ACCOUNT_SID = ""
    with pytest.raises(SendFailure) as excinfo:
        TwilioSender().send(TEXT)
    assert (excinfo.value.permanent, excinfo.value.code) == (True, "not_configured")
    settings.CASELOOP_TWILIO_ACCOUNT_SID = "ACabc"
    settings.CASELOOP_TWILIO_AUTH_TOKEN = "tok"
    settings.CASELOOP_TWILIO_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(SendFailure) as excinfo:
        TwilioSender().send(TEXT)
    assert excinfo.value.permanent is False


def test_a_reply_goes_through_the_http_sender_end_to_end(
    provider, settings, agent, sms_case, django_capture_on_commit_callbacks
):
    settings.CASELOOP_SMS_SENDER = "caseloop.channels.sms.senders.TwilioSender"
    sms = SmsMessage.objects.get(message=reply(agent, sms_case, "Fixed?", django_capture_on_commit_callbacks))
    assert (sms.state, sms.provider_sid) == (SmsState.SENT, "SMfake1")
    assert FakeProvider.requests[0]["form"]["Body"] == ["Fixed?"]
