"""Calls through the provider's webhooks: signed requests in, TwiML out (parsed), and what is logged where."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.phone.actions import create_flow, create_line, publish_draft, save_draft
from caseloop.channels.phone.choices import CallOutcome
from caseloop.channels.phone.models import Call, IvrVersion
from caseloop.channels.phone.provider import compute_signature
from caseloop.channels.phone.tests.signing import BASE, TOKEN, parse_twiml, provider_settings, signed_post
from caseloop.core import clock
from caseloop.customers.actions import IdentityInput, add_identity
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import ContactIdentity
from caseloop.testing.factories import make_case, make_contact, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

LINE = "+15550100"
CALLER = "+15557654321"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

DEFINITION: dict[str, Any] = {
    "start": "main",
    "person": "support",
    "voice": "alice",
    "dial": {"support": "+15550111", "billing": "sip:billing@pbx.example.com"},
    "menus": {
        "main": {
            "prompt": "For repairs press 1. For billing press 2. For a person press 0.",
            "options": [
                {"digit": "1", "label": "Repairs", "action": "menu", "menu": "repairs"},
                {"digit": "2", "label": "Billing", "action": "team", "team": "billing"},
                {"digit": "0", "label": "Speak to a person", "action": "person"},
            ],
        },
        "repairs": {
            "prompt": "For spring sizes press 1. For a person press 0.",
            "options": [
                {"digit": "1", "label": "Spring sizes", "action": "answer", "text": "Most doors take a 2 inch spring."},
                {"digit": "0", "label": "Speak to a person", "action": "person"},
            ],
        },
    },
}


@pytest.fixture(autouse=True)
def _provider(settings):
    provider_settings(settings)
    settings.CASELOOP_PHONE_RECORD_CALLS = True
    settings.CASELOOP_PHONE_RING_SECONDS = 25


@pytest.fixture
def version(admin_user):
    support, billing = make_team("Support"), make_team("Billing")
    flow = create_flow(actor=admin_user, name="Main line")
    save_draft(actor=admin_user, flow=flow, definition=DEFINITION)
    published = publish_draft(actor=admin_user, flow=flow)
    create_line(actor=admin_user, number=LINE, name="Main line", flow=flow, team=support)
    assert billing.slug == "billing"
    return published


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return parse_twiml(response.content)


def call(client, path: str, sid: str = "CA1", **params: str) -> ET.Element:
    return twiml(signed_post(client, path, {"CallSid": sid, "From": CALLER, "To": LINE, **params}))


def menu_path(version: IvrVersion, menu: str, tries: int = 0) -> str:
    return f"/phone/twilio/menu/{version.pk}/{menu}/?tries={tries}"


def test_an_incoming_call_hears_the_published_start_menu(client, version):
    with clock.frozen_at(START):
        root = call(client, "/phone/twilio/voice/", CallStatus="ringing")
    gather, redirect = root
    assert gather.tag == "Gather" and redirect.tag == "Redirect"
    assert gather.attrib["action"] == BASE + menu_path(version, "main") and gather.attrib["numDigits"] == "1"
    assert (gather[0].tag, gather[0].text, gather[0].attrib["voice"]) == (
        "Say",
        DEFINITION["menus"]["main"]["prompt"],
        "alice",
    )
    assert redirect.text == BASE + menu_path(version, "main")  # no key pressed: back to us without Digits
    stored = Call.objects.get()
    assert (stored.call_sid, stored.from_number, stored.to_number, stored.ivr_version_id, stored.started_at) == (
        "CA1",
        CALLER,
        LINE,
        version.pk,
        START,
    )
    # the provider retrying the same webhook does not make a second call
    call(client, "/phone/twilio/voice/")
    assert Call.objects.count() == 1


def test_bad_or_missing_signatures_are_refused_and_nothing_is_written(client, version):
    params = {"CallSid": "CA9", "From": CALLER, "To": LINE}
    assert signed_post(client, "/phone/twilio/voice/", params, signature="").status_code == 403
    assert signed_post(client, "/phone/twilio/voice/", params, signature="AAAA").status_code == 403
    assert signed_post(client, "/phone/twilio/voice/", params, token="someone-elses-token").status_code == 403
    # a signature for other parameters (a request replayed with changes) is refused too
    other = compute_signature(auth_token=TOKEN, url=BASE + "/phone/twilio/voice/", params=[("CallSid", "CA8")])
    assert client.post("/phone/twilio/voice/", data=params, HTTP_X_TWILIO_SIGNATURE=other).status_code == 403
    assert client.get("/phone/twilio/voice/").status_code == 405
    assert Call.objects.count() == 0


def test_without_an_auth_token_every_webhook_is_refused(client, version, settings):
    settings.CASELOOP_TWILIO_AUTH_TOKEN = ""
    response = signed_post(client, "/phone/twilio/voice/", {"CallSid": "CA1", "From": CALLER, "To": LINE}, token="")
    assert response.status_code == 403
    assert Call.objects.count() == 0


def test_a_full_call_submenu_answer_then_a_person_is_logged_on_a_new_case(client, version):
    with clock.frozen_at(START):
        call(client, "/phone/twilio/voice/")
    with clock.frozen_at(START + dt.timedelta(seconds=8)):
        root = call(client, menu_path(version, "main"), Digits="1")
    assert root[0][0].text == DEFINITION["menus"]["repairs"]["prompt"]
    with clock.frozen_at(START + dt.timedelta(seconds=15)):
        root = call(client, menu_path(version, "repairs"), Digits="1")
    # the answer, then the same menu again
    assert [el.tag for el in root] == ["Say", "Gather", "Redirect"]
    assert root[0].text == "Most doors take a 2 inch spring."
    assert root[1].attrib["action"] == BASE + menu_path(version, "repairs")
    with clock.frozen_at(START + dt.timedelta(seconds=30)):
        root = call(client, menu_path(version, "repairs"), Digits="0")
    say, dial = root
    assert say.text == "Please hold while we put you through."
    assert dial.attrib == {
        "action": BASE + "/phone/twilio/dial/",
        "method": "POST",
        "timeout": "25",
        "record": "record-from-answer-dual",
        "recordingStatusCallback": BASE + "/phone/twilio/recording/",
        "recordingStatusCallbackMethod": "POST",
    }
    assert [(c.tag, c.text) for c in dial] == [("Number", "+15550111")]
    # the team answered after a while and they talked for 5 min 2 s
    root = call(client, "/phone/twilio/dial/", DialCallStatus="completed", DialCallDuration="302")
    assert [el.tag for el in root] == ["Hangup"]
    call(client, "/phone/twilio/recording/", RecordingUrl="https://api.twilio.com/rec/RE1", RecordingStatus="completed")
    with clock.frozen_at(START + dt.timedelta(seconds=400)):
        call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="370")
    stored = Call.objects.get()
    assert (stored.outcome, stored.ivr_seconds, stored.queue_seconds, stored.talk_seconds, stored.duration_seconds) == (
        CallOutcome.TALKED,
        30,
        38,
        302,
        370,
    )
    assert stored.path_labels == ["Repairs", "Spring sizes", "Speak to a person"] and stored.routed_team == "support"
    # the caller became a contact by their number; the call opened a phone case for the line's team
    case = Case.objects.get()
    assert ContactIdentity.objects.get(kind="phone", value=CALLER).contact_id == case.requester_id == stored.contact_id
    assert case.team is not None
    assert (case.channel, case.team.slug, case.subject, stored.case_id) == (
        Channel.PHONE,
        "support",
        f"Phone call from {CALLER}",
        case.pk,
    )
    message = Message.objects.get(case=case)
    assert (message.direction, message.channel, message.external_id, stored.message_id) == (
        Direction.INBOUND,
        Channel.PHONE,
        "call:CA1",
        message.pk,
    )
    assert message.body_text == (
        f"Phone call from {CALLER} on Main line ({LINE}).\n"
        "Menu: Repairs > Spring sizes > Speak to a person → team support\n"
        "0:30 in the menu · 0:38 waiting · 5:02 talking\n"
        "Recording: https://api.twilio.com/rec/RE1"
    )
    # the provider repeating the final callback logs nothing twice
    call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="370")
    assert Message.objects.count() == 1 and Case.objects.count() == 1


def test_a_call_continues_the_callers_open_phone_case(client, version):
    contact = make_contact(name="Ann Caller")
    add_identity(actor=None, contact=contact, identity=IdentityInput(IdentityKind.PHONE, CALLER))
    open_case = make_case(requester=contact, channel=Channel.PHONE)
    call(client, "/phone/twilio/voice/")
    call(client, menu_path(version, "main"), Digits="2")  # billing, a team of its own
    call(client, "/phone/twilio/dial/", DialCallStatus="no-answer", DialCallDuration="0")
    call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="40")
    stored = Call.objects.get()
    assert (stored.case_id, stored.outcome, stored.routed_team, stored.talk_seconds) == (
        open_case.pk,
        CallOutcome.UNANSWERED,
        "billing",
        0,
    )
    assert Case.objects.count() == 1
    assert "nobody answered" in Message.objects.filter(case=open_case).latest("id").body_text


def test_nobody_answering_the_put_through_is_told_so(client, version):
    call(client, "/phone/twilio/voice/")
    call(client, menu_path(version, "main"), Digits="0")
    root = call(client, "/phone/twilio/dial/", DialCallStatus="no-answer", DialCallDuration="0")
    assert [(el.tag, el.text) for el in root] == [
        ("Say", "Sorry, nobody could take your call right now. We have noted it. Goodbye."),
        ("Hangup", None),
    ]


def test_wrong_keys_and_silence_repeat_the_menu_then_reach_a_person(client, version):
    call(client, "/phone/twilio/voice/")
    root = call(client, menu_path(version, "main"), Digits="7")
    assert root[0].text == "Sorry, that is not one of the choices."
    assert root[1].attrib["action"] == BASE + menu_path(version, "main", tries=1)
    root = call(client, menu_path(version, "main", tries=1))  # silence: no Digits
    assert root[0].tag == "Gather" and root[0].attrib["action"] == BASE + menu_path(version, "main", tries=2)
    root = call(client, menu_path(version, "main", tries=2))
    assert [el.tag for el in root] == ["Say", "Dial"] and root[1][0].text == "+15550111"
    assert Call.objects.get().path_labels == ["No choice made: put through to a person"]


def test_numbers_in_other_scripts_are_taken_as_absent_not_as_a_server_error(client, version):
    # "²" (%C2%B2) passes str.isdigit() but int() refuses it: it was a 500, it is read as absent
    with clock.frozen_at(START):
        call(client, "/phone/twilio/voice/")
    root = twiml(signed_post(client, f"/phone/twilio/menu/{version.pk}/main/?tries=%C2%B2",
                             {"CallSid": "CA1", "From": CALLER, "To": LINE, "Digits": "7"}))  # fmt: skip
    assert root[1].attrib["action"] == BASE + menu_path(version, "main", tries=1)  # read as no tries yet
    call(client, menu_path(version, "main"), Digits="0")
    root = call(client, "/phone/twilio/dial/", DialCallStatus="completed", DialCallDuration="²")
    assert [el.tag for el in root] == ["Say", "Hangup"]  # no talk time given: nobody answered
    with clock.frozen_at(START + dt.timedelta(seconds=90)):
        call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="٣٠")
    stored = Call.objects.get()
    assert (stored.duration_seconds, stored.talk_seconds, stored.outcome) == (90, 0, CallOutcome.UNANSWERED)


def test_a_call_that_ends_in_the_menu_goes_on_the_callers_timeline_not_on_a_case(client, version):
    with clock.frozen_at(START):
        call(client, "/phone/twilio/voice/")
    call(client, menu_path(version, "main"), Digits="1")
    call(client, menu_path(version, "repairs"), Digits="1")
    with clock.frozen_at(START + dt.timedelta(seconds=50)):
        call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="48")
    stored = Call.objects.get()
    assert (stored.outcome, stored.ivr_seconds, stored.queue_seconds, stored.case_id) == (
        CallOutcome.SELF_SERVED,
        48,
        None,
        None,
    )
    assert Case.objects.count() == 0
    event = TimelineEvent.objects.get(kind="call.in_menu")
    assert (event.subject_kind, event.subject_id) == ("contact", stored.contact_id)
    assert (
        event.summary == f"Call from {CALLER} ended in the menu (heard an answer in the menu): Repairs > Spring sizes"
    )


def test_a_line_without_a_published_menu_apologises(client, admin_user):
    create_line(actor=admin_user, number=LINE, name="Spare", flow=None, team=None)
    root = call(client, "/phone/twilio/voice/")
    assert [el.tag for el in root] == ["Say", "Hangup"]
    call(client, "/phone/twilio/status/", CallStatus="completed", CallDuration="5")
    assert Call.objects.get().outcome == CallOutcome.NOT_CONFIGURED and Case.objects.count() == 0


def test_a_call_keeps_the_version_it_started_with(client, version, admin_user):
    call(client, "/phone/twilio/voice/")
    changed = {
        **DEFINITION,
        "menus": {**DEFINITION["menus"], "main": {**DEFINITION["menus"]["main"], "prompt": "New words."}},
    }
    save_draft(actor=admin_user, flow=version.flow, definition=changed)
    publish_draft(actor=admin_user, flow=version.flow)
    root = call(client, menu_path(version, "main", tries=1))  # the old version's URL, still served
    assert root[0][0].text == DEFINITION["menus"]["main"]["prompt"]
    root = call(client, "/phone/twilio/voice/", sid="CA2")
    assert root[0][0].text == "New words."


def test_a_withheld_number_that_reaches_a_person_still_gets_a_case(client, version):
    params = {"CallSid": "CA5", "From": "anonymous", "To": LINE}
    twiml(signed_post(client, "/phone/twilio/voice/", params))
    twiml(signed_post(client, menu_path(version, "main"), {**params, "Digits": "0"}))
    twiml(signed_post(client, "/phone/twilio/status/", {**params, "CallStatus": "completed", "CallDuration": "60"}))
    case = Case.objects.get()
    assert case.requester.name == "Caller with a withheld number" and not case.requester.identities.exists()
