"""Nothing is lost: every signed SMS webhook is kept as it arrived; a failure is kept to replay; a replay files once."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from caseloop.cases.models import Case, Message
from caseloop.channels.phone.actions import create_line
from caseloop.channels.phone.choices import WebhookState
from caseloop.channels.phone.models import WebhookDelivery
from caseloop.channels.phone.provider import compute_signature
from caseloop.channels.phone.tests.signing import BASE, TOKEN, parse_twiml, signed_post
from caseloop.channels.phone.webhooks import replay_webhook
from caseloop.channels.sms import views as sms_views
from caseloop.channels.sms.models import SmsMessage
from caseloop.core import clock
from caseloop.customers.models import Contact
from caseloop.testing.factories import make_case, make_team

pytestmark = pytest.mark.django_db

LINE = "+15550100"
CUSTOMER = "+15557654321"
INBOUND = "/sms/twilio/inbound/"
AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
# a picture text: MediaUrl0 and a repeated name, which the kept row must hold in order
PARAMS = [("MessageSid", "SM1"), ("From", CUSTOMER), ("To", LINE), ("Body", "Door stuck\nhalf open"), ("NumMedia", "1"),
          ("MediaUrl0", "https://api.twilio.com/media/ME1"), ("Extra", "a"), ("Extra", "b")]  # fmt: skip


def post_pairs(client, path: str, pairs: list[tuple[str, str]]):
    """POST `pairs` (repeated names included) signed as the provider signs them."""
    signature = compute_signature(auth_token=TOKEN, url=BASE + path, params=pairs)
    return client.post(path, data=urlencode(pairs), content_type="application/x-www-form-urlencoded",
                       HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip


def broken(**_: object) -> None:
    raise RuntimeError("the database went away")


@pytest.fixture
def line(admin_user):
    return create_line(actor=admin_user, number=LINE, name="Main", flow=None, team=make_team("Support"))


@pytest.fixture
def failed_text(client, line, monkeypatch) -> WebhookDelivery:
    """A signed text whose processing raised; the fault is gone again afterwards."""
    with monkeypatch.context() as patch:
        patch.setattr(sms_views, "receive_sms", broken)
        with clock.frozen_at(AT):
            response = post_pairs(client, INBOUND, PARAMS)
    assert (response.status_code, response["Content-Type"]) == (500, "text/plain")
    return WebhookDelivery.objects.get()


def test_a_text_whose_processing_raises_is_kept_failed_with_its_parameters(failed_text):
    row = failed_text
    assert (row.provider, row.endpoint, row.path, row.url, row.state) == (
        "twilio",
        "sms_channel:inbound",
        INBOUND,
        BASE + INBOUND,
        WebhookState.FAILED,
    )
    assert row.pairs == PARAMS  # in order, both values of the repeated name
    assert (row.error_type, row.error, row.attempts, row.received_at, row.last_tried_at) == (
        "builtins.RuntimeError",
        "the database went away",
        1,
        AT,
        AT,
    )
    assert (row.response_status, row.processed_at) == (None, None)
    assert not SmsMessage.objects.exists() and not Case.objects.exists()


def test_replaying_it_once_the_fault_is_gone_files_the_text_and_again_files_nothing_more(failed_text):
    row = replay_webhook(actor=None, delivery_id=failed_text.pk)

    assert (row.state, row.response_status, row.error_type, row.error, row.attempts) == (
        WebhookState.PROCESSED,
        200,
        "",
        "",
        2,
    )
    sms = SmsMessage.objects.get()
    assert (sms.provider_sid, sms.from_number, sms.body) == (
        "SM1",
        CUSTOMER,
        "Door stuck\nhalf open\n[Picture: https://api.twilio.com/media/ME1]",
    )
    assert Case.objects.get().subject == "Door stuck"

    again = replay_webhook(actor=None, delivery_id=failed_text.pk)

    assert (again.state, again.attempts) == (WebhookState.PROCESSED, 3)
    assert (SmsMessage.objects.count(), Message.objects.count(), Case.objects.count()) == (1, 1, 1)


def test_a_failure_after_the_text_was_filed_rolls_the_filing_back_so_the_replay_files_it_once(
    client, line, monkeypatch
):
    # the fault comes after receive_sms filed the text: the view's transaction takes the filing back with it
    with monkeypatch.context() as patch:
        patch.setattr(sms_views, "empty_twiml", lambda: broken())
        response = post_pairs(client, INBOUND, PARAMS)
    assert response.status_code == 500
    assert (SmsMessage.objects.count(), Message.objects.count(), Contact.objects.count()) == (0, 0, 0)
    row = WebhookDelivery.objects.get()
    assert row.state == WebhookState.FAILED

    replay_webhook(actor=None, delivery_id=row.pk)
    replay_webhook(actor=None, delivery_id=row.pk)

    assert (SmsMessage.objects.count(), Message.objects.count(), Contact.objects.count()) == (1, 1, 1)


def test_a_processed_text_is_kept_marked_processed(client, line):
    with clock.frozen_at(AT):
        response = post_pairs(client, INBOUND, PARAMS)

    assert response.status_code == 200 and parse_twiml(response.content).tag == "Response"
    row = WebhookDelivery.objects.get()
    assert (row.endpoint, row.state, row.response_status, row.processed_at, row.attempts, row.error) == (
        "sms_channel:inbound",
        WebhookState.PROCESSED,
        200,
        AT,
        1,
        "",
    )
    assert SmsMessage.objects.get().provider_sid == "SM1"


def test_a_text_with_a_nul_is_filed_with_u_fffd_and_kept_as_it_arrived(client, line):
    # every other form is refused for a NUL (RefuseNulMiddleware); a customer's text must not be lost for one
    pairs = [("MessageSid", "SM9"), ("From", CUSTOMER), ("To", LINE), ("Body", "Door\x00 stuck")]
    response = post_pairs(client, INBOUND, pairs)

    assert response.status_code == 200
    assert SmsMessage.objects.get().body == "Door\ufffd stuck"
    row = WebhookDelivery.objects.get()
    assert (row.pairs, row.state) == (pairs, WebhookState.PROCESSED)
    replay_webhook(actor=None, delivery_id=row.pk)
    assert SmsMessage.objects.count() == 1


def test_a_forged_or_unsigned_text_is_refused_and_nothing_is_kept(client, line):
    params = dict(PARAMS[:4])
    assert signed_post(client, INBOUND, params, signature="AAAA").status_code == 403
    assert signed_post(client, INBOUND, params, signature="").status_code == 403
    assert signed_post(client, INBOUND, params, token="someone-elses-token").status_code == 403

    assert not WebhookDelivery.objects.exists() and not SmsMessage.objects.exists()


def test_a_failed_status_callback_is_replayed(client, line, monkeypatch):
    now = clock.now()
    sms = SmsMessage.objects.create(direction="outbound", case=make_case(subject="Texted"), provider_sid="SMout",
                                    from_number=LINE, to_number=CUSTOMER, body="On our way", state="sent",
                                    created_at=now, updated_at=now)  # fmt: skip
    status = [("MessageSid", "SMout"), ("MessageStatus", "delivered")]
    with monkeypatch.context() as patch:
        patch.setattr(sms_views, "record_status", broken)
        assert post_pairs(client, "/sms/twilio/status/", status).status_code == 500
    row = WebhookDelivery.objects.get()
    assert (row.endpoint, row.state) == ("sms_channel:status", WebhookState.FAILED)

    assert replay_webhook(actor=None, delivery_id=row.pk).state == WebhookState.PROCESSED

    sms.refresh_from_db()
    assert sms.state == "delivered"
