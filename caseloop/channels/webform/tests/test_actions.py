"""The web form's action: new cases (never a stranger's open one), repeats, robots, limits and files."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from django.core import mail

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message, MessageAttachment
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundSource, OutboundKind, OutboundState
from caseloop.channels.email.models import OutboundEmail
from caseloop.channels.webform.actions import Outcome, submit_contact_form
from caseloop.channels.webform.errors import WebFormErrorCode
from caseloop.channels.webform.models import RateWindow, WebSubmission
from caseloop.channels.webform.tests.helpers import PDF, PNG, contact_request, token
from caseloop.core import clock
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.customers.models import Contact
from caseloop.testing.factories import make_contact, make_team

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def counts() -> tuple[int, int, int, int]:
    return (Case.objects.count(), Message.objects.count(), Contact.objects.count(), WebSubmission.objects.count())


def submit(**overrides):
    with clock.frozen_at(overrides.pop("at", START)):
        return submit_contact_form(request=contact_request(**overrides))


# --- a new case -------------------------------------------------------------------------------------------
def test_a_submission_opens_a_web_case_for_a_new_contact_and_acknowledges_it(django_capture_on_commit_callbacks):
    doors = make_team("Doors")
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(attachments=[AttachmentInput(filename="door.png", content=PNG, content_type="text/html")])
    case = Case.objects.get()
    assert (result.outcome, result.case) == (Outcome.OPENED, case)
    assert (case.channel, case.status, case.team_id) == (Channel.WEB, CaseStatus.NEW, doors.pk)
    assert case.subject == "A repair: The garage door will not close."
    assert list(case.tags.values_list("name", flat=True)) == ["repair"]
    contact = Contact.objects.get()
    assert (contact.name, case.requester_id) == ("Ann Smith", contact.pk)
    assert list(contact.identities.values_list("kind", "value")) == [("email", "ann@example.com")]
    message = Message.objects.get()
    assert (message.direction, message.channel, message.author_contact_id) == (Direction.INBOUND, Channel.WEB,
                                                                               contact.pk)  # fmt: skip
    assert message.body_text == "The garage door will not close.\nIt stops half way and goes back up."
    link = MessageAttachment.objects.select_related("attachment").get(message=message)
    # the browser's claimed type is not kept: ours for the extension is
    assert (link.filename, link.attachment.content_type, link.attachment.size) == ("door.png", "image/png", len(PNG))
    submission = WebSubmission.objects.get()
    facts = (submission.case_id, submission.message_id, submission.email, submission.topic, submission.continued)
    assert facts == (case.pk, message.pk, "ann@example.com", "repair", False) and submission.ip_address == "203.0.113.7"
    # the acknowledgement went out through the email channel, with the case token to reply on
    ack = OutboundEmail.objects.get()
    assert (ack.kind, ack.state, ack.to_address) == (OutboundKind.ACKNOWLEDGEMENT, OutboundState.SENT,
                                                     "ann@example.com")  # fmt: skip
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ann@example.com"] and f"[{case.number}]" in sent.subject
    assert sent.reply_to == [f"support+{case.number}@example.com"]
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"


def test_a_topic_without_a_team_uses_the_default_team_and_subjects_are_short(settings):
    billing = make_team("Accounts")
    settings.CASELOOP_WEBFORM_DEFAULT_TEAM = billing.slug
    long_line = "Invoice 2291 " + "was charged twice on my card " * 6
    result = submit(topic="billing", message=f"\n\n{long_line}\nThanks")
    assert result.case is not None and result.case.team_id == billing.pk
    # the first line that says something, cut at a word within 80 characters
    assert result.case.subject == "Billing: Invoice 2291 was charged twice on my card was charged twice on my card was…"


def test_a_known_address_is_the_known_contact_and_the_form_never_renames_it():
    known = make_contact(name="Ann Smith-Jones", email="ann@example.com")
    result = submit(name="Someone Else")
    assert result.case is not None and result.case.requester_id == known.pk
    known.refresh_from_db()
    assert known.name == "Ann Smith-Jones" and Contact.objects.count() == 1


def test_acknowledgements_can_be_turned_off(settings, django_capture_on_commit_callbacks):
    settings.CASELOOP_WEBFORM_ACKNOWLEDGE = False
    with django_capture_on_commit_callbacks(execute=True):
        submit()
    assert OutboundEmail.objects.count() == 0 and mail.outbox == []


# --- repeats, a second message ---------------------------------------------------------------------------------
def test_the_same_form_sent_twice_makes_one_case_and_is_not_counted_against_the_limit(
    settings, django_capture_on_commit_callbacks
):
    settings.CASELOOP_WEBFORM_MAX_PER_ADDRESS = 1
    once = token()
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(form_token=once)
        again = submit(form_token=once)
    assert (first.outcome, again.outcome) == (Outcome.OPENED, Outcome.DUPLICATE)
    assert again.case == first.case
    assert counts() == (1, 1, 1, 1)
    assert len(mail.outbox) == 1


def test_a_second_message_from_an_address_with_an_open_case_opens_its_own_case(django_capture_on_commit_callbacks):
    """ADR 0076: the address is not verified, so the form never writes into the case an address already has."""
    with django_capture_on_commit_callbacks(execute=True):
        first = submit()
        later = submit(message="Also: please send the refund to IBAN XX00 1234.", at=START + dt.timedelta(hours=3))
    assert (first.outcome, later.outcome) == (Outcome.OPENED, Outcome.OPENED)
    assert first.case is not None and later.case is not None and later.case != first.case
    first.case.refresh_from_db()
    assert first.case.message_count == 1
    assert list(first.case.messages.values_list("body_text", flat=True)) == [
        "The garage door will not close.\nIt stops half way and goes back up."
    ]
    assert later.case.requester_id == first.case.requester_id
    assert list(WebSubmission.objects.order_by("id").values_list("case_id", "continued")) == [
        (first.case.pk, False), (later.case.pk, False)]  # fmt: skip
    # each case is confirmed to the address, with its own number
    assert [m.to for m in mail.outbox] == [["ann@example.com"]] * 2
    assert [f"[{c.number}]" in m.subject for c, m in zip((first.case, later.case), mail.outbox, strict=True)] == [
        True, True]  # fmt: skip


# --- robots and limits -------------------------------------------------------------------------------------
def test_a_filled_in_honeypot_is_thanked_and_nothing_is_stored(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(honeypot="http://cheap-pills.example")
    assert (result.outcome, result.case) == (Outcome.DISCARDED, None)
    assert counts() == (0, 0, 0, 0)
    assert RateWindow.objects.count() == 0 and mail.outbox == []


def test_the_limit_per_address_refuses_with_a_clear_message_and_lifts_with_the_next_window(settings):
    settings.CASELOOP_WEBFORM_MAX_PER_ADDRESS = 2
    submit(), submit(at=START + dt.timedelta(minutes=10))
    before = counts()
    with pytest.raises(DomainError) as refused:
        submit(at=START + dt.timedelta(minutes=20), ip_address="198.51.100.9")
    assert (refused.value.code, refused.value.status) == (WebFormErrorCode.RATE_LIMITED, 429)
    assert "please wait 40 minutes" in refused.value.message
    assert refused.value.extra == {"retry_after_seconds": 40 * 60}
    assert counts() == before
    # the same address is refused from anywhere; another address is not
    assert submit(email="bob@example.com", at=START + dt.timedelta(minutes=21)).outcome == Outcome.OPENED
    assert submit(at=START + dt.timedelta(hours=1, minutes=1)).outcome == Outcome.OPENED


def test_the_limit_per_ip_counts_every_address_from_that_ip(settings):
    settings.CASELOOP_WEBFORM_MAX_PER_IP = 3
    for n in range(3):
        submit(email=f"person{n}@example.com")
    before = counts()
    with pytest.raises(DomainError) as refused:
        submit(email="person9@example.com")
    assert refused.value.code == WebFormErrorCode.RATE_LIMITED and counts() == before
    assert submit(email="person9@example.com", ip_address="198.51.100.9").outcome == Outcome.OPENED


def test_limits_are_stored_by_keyed_hash_never_by_address():
    submit()
    keys = list(RateWindow.objects.values_list("scope", "key_hash", "count"))
    assert sorted(scope for scope, _, _ in keys) == ["webform.address", "webform.ip"]
    assert all(len(h) == 64 and "example" not in h and count == 1 for _, h, count in keys)


# --- what is refused before anything is written ------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "code", "status"),
    [
        ({"topic": "lottery"}, WebFormErrorCode.UNKNOWN_TOPIC, 422),
        ({"form_token": "short"}, WebFormErrorCode.BAD_FORM_TOKEN, 422),
        ({"form_token": "x" * 20 + "<script>"}, WebFormErrorCode.BAD_FORM_TOKEN, 422),
        ({"message": "   "}, CommonErrorCode.INVALID, 422),
        ({"message": "x" * 20_001}, CommonErrorCode.INVALID, 422),
        ({"email": "not an address"}, "identity_invalid", 422),
        ({"attachments": [AttachmentInput("setup.exe", b"MZ\x90\x00")]}, WebFormErrorCode.FILE_TYPE_NOT_ALLOWED, 415),
        (
            {"attachments": [AttachmentInput("invoice.pdf", b"MZ\x90\x00 not a pdf")]},
            WebFormErrorCode.FILE_TYPE_NOT_ALLOWED,
            415,
        ),
        ({"attachments": [AttachmentInput("no-extension", PDF)]}, WebFormErrorCode.FILE_TYPE_NOT_ALLOWED, 415),
        (
            {"attachments": [AttachmentInput("photo.heic", b"\x00\x00\x00\x18ftypheic")]},
            WebFormErrorCode.FILE_TYPE_NOT_ALLOWED,
            415,
        ),  # a known type, but not on this site's allow-list
        ({"attachments": [AttachmentInput("notes.txt", b"")]}, WebFormErrorCode.FILE_EMPTY, 422),
        ({"attachments": [AttachmentInput("big.pdf", PDF + b"0" * 64 * 1024)]}, WebFormErrorCode.FILE_TOO_LARGE, 413),
        ({"attachments": [AttachmentInput(f"p{n}.png", PNG) for n in range(4)]}, WebFormErrorCode.TOO_MANY_FILES, 422),
    ],
)
def test_a_refused_submission_writes_nothing(overrides, code, status):
    with pytest.raises(DomainError) as refused:
        submit(**overrides)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert counts() == (0, 0, 0, 0)
    assert RateWindow.objects.count() == 0  # refused before the limits are counted


def test_allowed_files_keep_a_clean_name_and_our_content_type():
    files = [AttachmentInput("..\\..\\C:\\evil\\Quote\x07.PDF", PDF), AttachmentInput("list.txt", b"a,b\n")]
    submit(attachments=files)
    stored = list(MessageAttachment.objects.order_by("id").values_list("filename", "attachment__content_type"))
    assert stored == [("Quote.PDF", "application/pdf"), ("list.txt", "text/plain")]


# --- answers reach the customer, and their reply comes back -------------------------------------------------
def test_a_reply_on_a_web_case_is_emailed_and_the_answer_to_it_continues_the_case(
    agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = submit().case
        assert case is not None
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, channel=Channel.WEB,
                    body=MessageInput(body_text="We can come on Tuesday."))  # fmt: skip
    reply = OutboundEmail.objects.get(kind=OutboundKind.REPLY)
    assert (reply.state, reply.to_address) == (OutboundState.SENT, "ann@example.com")
    assert [m.body for m in mail.outbox][1] == "We can come on Tuesday."
    # the customer answers the acknowledgement: the case token threads it onto the same case
    answer = EmailMessage()
    answer["From"] = "Ann Smith <ann@example.com>"
    answer["To"] = f"support+{case.number}@example.com"
    answer["Subject"] = mail.outbox[0].subject
    answer["Message-ID"] = "<answer-1@example.com>"
    answer.set_content("Tuesday is fine.")
    ingest_email(raw=answer.as_bytes(), source=InboundSource.SMTP, envelope_to=[f"support+{case.number}@example.com"],
                 inline=True)  # fmt: skip
    assert Case.objects.count() == 1
    last = case.messages.order_by("id").values_list("channel", "body_text").last()
    assert last == (Channel.EMAIL, "Tuesday is fine.")
