"""Call webhooks kept as they arrived: a failing live-call step apologises, callbacks replay, old rows are purged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from caseloop.cases.models import Case, Message
from caseloop.channels.phone import actions as phone_actions
from caseloop.channels.phone import views as phone_views
from caseloop.channels.phone.actions import (
    create_line,
    keep_webhook,
    mark_webhook_failed,
    mark_webhook_processed,
    purge_webhooks,
    route_call,
    start_call,
)
from caseloop.channels.phone.choices import WebhookState
from caseloop.channels.phone.errors import PhoneErrorCode
from caseloop.channels.phone.models import Call, WebhookDelivery
from caseloop.channels.phone.tests.signing import parse_twiml, provider_settings, signed_post
from caseloop.channels.phone.webhooks import SORRY_FAILED, replay_webhook
from caseloop.channels.sms import views as sms_views
from caseloop.channels.sms.models import SmsMessage
from caseloop.core import background, clock
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.testing.factories import make_agent, make_team
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

LINE = "+15550100"
CALLER = "+15557654321"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _provider(settings):
    provider_settings(settings)


@pytest.fixture
def routed_call(admin_user) -> Call:
    """A call that was put through to support and has not ended yet."""
    create_line(actor=admin_user, number=LINE, name="Main line", flow=None, team=make_team("Support"))
    call = start_call(call_sid="CA1", from_number=CALLER, to_number=LINE)
    route_call(call=call, team="support")
    return call


def broken(**_: object) -> None:
    raise RuntimeError("the database went away")


def test_a_failing_step_of_a_live_call_apologises_and_hangs_up_and_cannot_be_replayed(client, admin_user, monkeypatch):
    create_line(actor=admin_user, number=LINE, name="Main line", flow=None, team=None)
    with monkeypatch.context() as patch:
        patch.setattr(phone_views, "start_call", broken)
        response = signed_post(client, "/phone/twilio/voice/", {"CallSid": "CA1", "From": CALLER, "To": LINE})

    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=utf-8"
    assert [(el.tag, el.text) for el in parse_twiml(response.content)] == [("Say", SORRY_FAILED), ("Hangup", None)]
    row = WebhookDelivery.objects.get()
    assert (row.endpoint, row.state, row.error_type, row.attempts) == (
        "phone_channel:voice",
        WebhookState.FAILED,
        "builtins.RuntimeError",
        1,
    )
    with pytest.raises(DomainError) as refused:
        replay_webhook(actor=None, delivery_id=row.pk)
    assert (refused.value.code, refused.value.status) == (PhoneErrorCode.WEBHOOK_NOT_REPLAYABLE, 409)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (WebhookState.FAILED, 1) and not Call.objects.exists()


def test_every_step_of_a_call_is_kept_processed(client, routed_call):
    signed_post(client, "/phone/twilio/dial/", {"CallSid": "CA1", "DialCallStatus": "completed",
                                               "DialCallDuration": "30"})  # fmt: skip
    signed_post(client, "/phone/twilio/status/", {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "40"})

    assert list(WebhookDelivery.objects.order_by("id").values_list("endpoint", "state", "response_status")) == [
        ("phone_channel:dial", WebhookState.PROCESSED, 200),
        ("phone_channel:status", WebhookState.PROCESSED, 200),
    ]


def test_a_failed_call_status_callback_is_replayed_and_logs_the_call_once(client, routed_call, monkeypatch):
    params = {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "40"}
    with monkeypatch.context() as patch:
        patch.setattr(phone_views, "finish_call", broken)
        response = signed_post(client, "/phone/twilio/status/", params)
    assert response.status_code == 500
    row = WebhookDelivery.objects.get()
    assert (row.endpoint, row.state) == ("phone_channel:status", WebhookState.FAILED)
    assert Call.objects.get().logged_at is None

    replay_webhook(actor=None, delivery_id=row.pk)
    replayed = replay_webhook(actor=None, delivery_id=row.pk)

    assert (replayed.state, replayed.attempts) == (WebhookState.PROCESSED, 3)
    call = Call.objects.get()
    assert (call.duration_seconds, call.case_id, call.message_id) == (
        40,
        Case.objects.get().pk,
        Message.objects.get().pk,
    )
    assert AuditEntry.objects.filter(action="webhook.retry", object_id=row.pk).count() == 2


def test_a_retry_is_for_administrators_of_rows_that_exist_and_are_not_still_processing(routed_call):
    with clock.frozen_at(NOW):
        row = keep_webhook(endpoint="phone_channel:status", path="/phone/twilio/status/",
                           url="https://caseloop.example/phone/twilio/status/",
                           params=[("CallSid", "CA1"), ("CallStatus", "completed")])  # fmt: skip
    # received moments ago and not yet marked: its first processing may still be running
    with clock.frozen_at(NOW + dt.timedelta(minutes=1)), pytest.raises(DomainError) as busy:
        replay_webhook(actor=None, delivery_id=row.pk)
    assert busy.value.code == PhoneErrorCode.WEBHOOK_IN_PROGRESS
    with clock.frozen_at(NOW + dt.timedelta(minutes=11)), pytest.raises(DomainError) as denied:
        replay_webhook(actor=make_agent(), delivery_id=row.pk)
    assert denied.value.code == CommonErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as missing:
        replay_webhook(actor=None, delivery_id=row.pk + 100)
    assert missing.value.code == CommonErrorCode.NOT_FOUND
    row.refresh_from_db()
    assert (row.state, row.attempts) == (WebhookState.RECEIVED, 1)
    # a request cut off mid-processing (the server restarted) is retried once it is stale
    with clock.frozen_at(NOW + dt.timedelta(minutes=11)):
        assert replay_webhook(actor=None, delivery_id=row.pk).state == WebhookState.PROCESSED
    assert Call.objects.get().logged_at is not None


def _kept(received_at: dt.datetime, state: WebhookState) -> int:
    with clock.frozen_at(received_at):
        row = keep_webhook(endpoint="sms_channel:inbound", path="/sms/twilio/inbound/",
                           url="https://caseloop.example/sms/twilio/inbound/",
                           params=[("MessageSid", "SM1")])  # fmt: skip
        if state == WebhookState.PROCESSED:
            mark_webhook_processed(delivery_id=row.pk, response_status=200)
        elif state == WebhookState.FAILED:
            mark_webhook_failed(delivery_id=row.pk, error=RuntimeError("boom"))
    return row.pk


def test_the_purge_forgets_processed_rows_past_the_keeping_time_and_keeps_failed_ones(settings, capsys):
    settings.CASELOOP_WEBHOOK_KEEP_DAYS = 30
    old_processed = _kept(NOW - dt.timedelta(days=31), WebhookState.PROCESSED)
    recent_processed = _kept(NOW - dt.timedelta(days=29), WebhookState.PROCESSED)
    old_failed = _kept(NOW - dt.timedelta(days=90), WebhookState.FAILED)
    old_received = _kept(NOW - dt.timedelta(days=90), WebhookState.RECEIVED)

    assert "webhooks_purge" in background.CHECKS  # the minute checks run it
    with clock.frozen_at(NOW):
        call_command("webhooks_purge")

    assert "webhooks: 1 processed request purged" in capsys.readouterr().out
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {recent_processed, old_failed, old_received}
    assert old_processed not in WebhookDelivery.objects.values_list("id", flat=True)
    # by hand, failed ones too
    with clock.frozen_at(NOW):
        assert purge_webhooks(failed=True) == 1
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {recent_processed, old_received}


def test_the_failed_requests_page_lists_them_and_retries_a_text_for_administrators(
    client, admin_user, agent, monkeypatch
):
    create_line(actor=admin_user, number=LINE, name="Main line", flow=None, team=make_team("Support"))
    sms_params = {"MessageSid": "SM1", "From": CALLER, "To": LINE, "Body": "Hello"}
    with monkeypatch.context() as patch:
        patch.setattr(sms_views, "receive_sms", broken)
        patch.setattr(phone_views, "start_call", broken)
        signed_post(client, "/sms/twilio/inbound/", sms_params)
        signed_post(client, "/phone/twilio/voice/", {"CallSid": "CA1", "From": CALLER, "To": LINE})
    text = WebhookDelivery.objects.get(endpoint="sms_channel:inbound")
    voice = WebhookDelivery.objects.get(endpoint="phone_channel:voice")

    client.force_login(agent)
    assert client.get("/phone/webhooks/").status_code == 403
    assert client.post(f"/phone/webhooks/{text.pk}/retry/").status_code == 403
    assert not SmsMessage.objects.exists()

    client.force_login(admin_user)
    page = client.get("/phone/webhooks/").content.decode()
    assert "sms_channel:inbound" in page and "phone_channel:voice" in page and "the database went away" in page
    assert f"/phone/webhooks/{text.pk}/retry/" in page and f"/phone/webhooks/{voice.pk}/retry/" not in page

    response = client.post(f"/phone/webhooks/{text.pk}/retry/")

    assert response.status_code == 302 and response["Location"] == "/phone/webhooks/"
    assert SmsMessage.objects.get().provider_sid == "SM1"
    text.refresh_from_db()
    assert text.state == WebhookState.PROCESSED
    assert client.post(f"/phone/webhooks/{voice.pk}/retry/").status_code == 409


def test_the_purge_deletes_in_batches_until_none_is_due(monkeypatch):
    monkeypatch.setattr(phone_actions, "WEBHOOK_PURGE_BATCH", 2)
    old = [_kept(NOW - dt.timedelta(days=40 + i), WebhookState.PROCESSED) for i in range(5)]
    recent = _kept(NOW - dt.timedelta(days=1), WebhookState.PROCESSED)

    with clock.frozen_at(NOW):
        assert purge_webhooks(keep_days=30) == len(old)

    assert list(WebhookDelivery.objects.values_list("id", flat=True)) == [recent]


def test_the_requests_page_goes_page_by_page_within_its_state(client, admin_user):
    for minute in range(51):  # a page holds 50
        _kept(NOW - dt.timedelta(minutes=minute), WebhookState.FAILED)
    client.force_login(admin_user)

    first = client.get("/phone/webhooks/?state=failed").content.decode()
    second = client.get("/phone/webhooks/?state=failed&page=2").content.decode()

    assert "Page 1 of 2" in first and 'href="?state=failed&page=2">Older</a>' in first
    assert "Page 2 of 2" in second and 'href="?state=failed&page=1">Newer</a>' in second
