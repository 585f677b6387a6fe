"""Texts in through the provider's webhook: threading, new cases, duplicates, STOP and START, signatures."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MAX_BODY, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.phone.actions import create_line
from caseloop.channels.phone.tests.signing import parse_twiml, signed_post
from caseloop.channels.sms import actions as sms_actions
from caseloop.channels.sms.models import SmsMessage, SmsOptOut
from caseloop.customers.actions import IdentityInput, add_identity
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.testing.factories import make_case, make_contact, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

LINE = "+15550100"
CUSTOMER = "+15557654321"


def text(client, body: str, sid: str = "SM1", sender: str = CUSTOMER, **extra: str):
    response = signed_post(
        client,
        "/sms/twilio/inbound/",
        {"MessageSid": sid, "From": sender, "To": LINE, "Body": body, "NumMedia": "0", **extra},
    )
    assert response.status_code == 200, response.content
    assert parse_twiml(response.content).tag == "Response" and len(parse_twiml(response.content)) == 0
    return response


@pytest.fixture
def line(admin_user):
    return create_line(actor=admin_user, number=LINE, name="Main", flow=None, team=make_team("Support"))


def test_a_first_text_opens_a_case_for_a_new_contact_on_the_lines_team(client, line):
    text(client, "My garage door is stuck half open\nCan someone come today?")
    case = Case.objects.get()
    identity = ContactIdentity.objects.get(kind=IdentityKind.PHONE, value=CUSTOMER)
    assert (case.channel, case.requester_id, case.team_id, case.subject) == (
        Channel.SMS,
        identity.contact_id,
        line.team_id,
        "My garage door is stuck half open",
    )
    message = Message.objects.get()
    assert (message.direction, message.channel, message.external_id, message.author_contact_id) == (
        Direction.INBOUND,
        Channel.SMS,
        "SM1",
        identity.contact_id,
    )
    sms = SmsMessage.objects.get()
    assert (sms.direction, sms.case_id, sms.message_id, sms.from_number, sms.to_number, sms.state) == (
        "inbound",
        case.pk,
        message.pk,
        CUSTOMER,
        LINE,
        "received",
    )


def test_the_same_number_continues_its_open_case_and_a_closed_one_starts_another(client, line, agent):
    text(client, "Door stuck", sid="SM1")
    text(client, "Also the remote is dead", sid="SM2")
    case = Case.objects.get()
    assert list(case.messages.order_by("id").values_list("body_text", flat=True)) == [
        "Door stuck",
        "Also the remote is dead",
    ]
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    text(client, "It broke again", sid="SM3")
    assert Case.objects.count() == 2
    assert Case.objects.latest("id").messages.get().body_text == "It broke again"


def test_a_text_does_not_land_in_an_email_case_of_the_same_person(client, line):
    contact = make_contact(name="Ann Smith")
    add_identity(actor=None, contact=contact, identity=IdentityInput(IdentityKind.PHONE, CUSTOMER))
    email_case = make_case(requester=contact, channel=Channel.EMAIL)
    phone_case = make_case(requester=contact, channel=Channel.PHONE)
    text(client, "Calling you back about the door")
    assert Message.objects.get(external_id="SM1").case_id == phone_case.pk
    assert email_case.messages.count() == 1


def test_a_redelivered_text_is_one_message(client, line):
    text(client, "Door stuck", sid="SM1")
    text(client, "Door stuck", sid="SM1")
    assert (Case.objects.count(), Message.objects.count(), SmsMessage.objects.count()) == (1, 1, 1)


def test_pictures_are_kept_as_links(client, line):
    text(client, "", NumMedia="2", MediaUrl0="https://api.twilio.com/m/ME1", MediaUrl1="https://api.twilio.com/m/ME2")
    assert (
        Message.objects.get().body_text
        == "[Picture: https://api.twilio.com/m/ME1]\n[Picture: https://api.twilio.com/m/ME2]"
    )
    assert Case.objects.get().subject == f"Text message from {CUSTOMER}"


def test_a_media_count_in_other_digits_is_taken_as_no_pictures(client, line):
    # "²" passes str.isdigit() but int() refuses it: it was a 500
    text(client, "Door stuck", NumMedia="²", MediaUrl0="https://api.twilio.com/m/ME1")
    assert Message.objects.get().body_text == "Door stuck"


def test_a_text_longer_than_a_message_holds_is_kept_cut_with_a_note(client, line):
    # over 1,000,000 characters was a 500 and the text was lost
    text(client, "a" * (MAX_BODY + 10))
    body = Message.objects.get().body_text
    assert len(body) == MAX_BODY and body.startswith("a" * 1000)
    assert body.endswith("\n\n[This text was cut: it had 1,000,010 characters; the first ones are kept.]")
    assert SmsMessage.objects.get().body == body and Case.objects.get().subject == "a" * 80


def test_nul_in_a_text_is_stored_as_the_replacement_character(client, line):
    text(client, "Door\x00 stuck")
    assert Message.objects.get().body_text == SmsMessage.objects.get().body == "Door\ufffd stuck"
    assert Case.objects.get().subject == "Door\ufffd stuck"


def test_a_text_that_fails_to_file_leaves_no_contact_behind(client, line, monkeypatch):
    def broken(contact):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sms_actions, "open_case_for", broken)
    with pytest.raises(RuntimeError):
        sms_actions.receive_sms(sid="SM1", from_number=CUSTOMER, to_number=LINE, body="Door stuck")
    assert not Contact.objects.exists() and not ContactIdentity.objects.exists()
    assert (Case.objects.count(), SmsMessage.objects.count()) == (0, 0)


def test_stop_opts_the_number_out_and_start_opts_it_back_in(client, line):
    text(client, "Door stuck", sid="SM1")
    case = Case.objects.get()
    text(client, " stop ", sid="SM2")
    opt_out = SmsOptOut.objects.get()
    assert (opt_out.number, opt_out.keyword) == (CUSTOMER, "stop")
    # the keyword is not a message of the conversation; it is on the timeline of the person and the case
    assert Message.objects.count() == 1
    events = TimelineEvent.objects.filter(kind="sms.opted_out")
    assert {(e.subject_kind, e.subject_id) for e in events} == {("contact", case.requester_id), ("case", case.pk)}
    text(client, "STOP", sid="SM3")  # again: nothing new
    assert SmsOptOut.objects.count() == 1 and TimelineEvent.objects.filter(kind="sms.opted_out").count() == 2
    text(client, "Start", sid="SM4")
    assert not SmsOptOut.objects.exists()
    assert TimelineEvent.objects.filter(kind="sms.opted_in", subject_kind="case").count() == 1


def test_the_providers_own_opt_out_flag_counts_too(client, line):
    text(client, "ARRET", sid="SM1", OptOutType="STOP")
    assert SmsOptOut.objects.filter(number=CUSTOMER).exists() and not Case.objects.exists()


def test_unanswerable_senders_are_acknowledged_and_not_filed(client, line):
    text(client, "Your code is 1234", sender="VERIFY")
    assert not Case.objects.exists() and not SmsMessage.objects.exists()


def test_unsigned_or_badly_signed_texts_are_refused(client, line):
    params = {"MessageSid": "SM1", "From": CUSTOMER, "To": LINE, "Body": "hi"}
    assert signed_post(client, "/sms/twilio/inbound/", params, signature="").status_code == 403
    assert signed_post(client, "/sms/twilio/inbound/", params, token="wrong").status_code == 403
    assert (
        signed_post(
            client, "/sms/twilio/status/", {"MessageSid": "SM1", "MessageStatus": "failed"}, signature="bad"
        ).status_code
        == 403
    )
    assert not Case.objects.exists() and not SmsMessage.objects.exists()


def test_a_text_without_an_id_is_a_bad_request(client, line):
    response = signed_post(client, "/sms/twilio/inbound/", {"From": CUSTOMER, "To": LINE, "Body": "hi"})
    assert response.status_code == 400 and not Case.objects.exists()
