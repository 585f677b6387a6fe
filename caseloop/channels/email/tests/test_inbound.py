"""Inbound mail: stored raw first, then threaded onto cases, or quarantined or ignored with a reason."""

from __future__ import annotations

import hashlib

import pytest

from caseloop.cases.actions import MessageInput, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.email.actions import (
    create_mailbox,
    ingest_email,
    process_inbound,
    receive_email,
    reply_by_email,
    reprocess_inbound,
)
from caseloop.channels.email.choices import (
    AutoKind,
    InboundReason,
    InboundSource,
    InboundState,
    OutboundKind,
    OutboundState,
)
from caseloop.channels.email.errors import EmailErrorCode
from caseloop.channels.email.models import (
    CaseEmail,
    CaseParticipant,
    DisplayBody,
    InboundEmail,
    OutboundEmail,
)
from caseloop.channels.email.parsing import synthetic_message_id
from caseloop.channels.email.tests.mail import bounce_for, case_of, message_of, raw_email
from caseloop.core.errors import DomainError
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.testing.factories import make_contact, make_team
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, **kw) -> InboundEmail:
    kw.setdefault("envelope_to", ["support@example.com"])
    return ingest_email(raw=raw, source=InboundSource.SMTP, inline=True, **kw).inbound


# --- storing ------------------------------------------------------------------------------
def test_raw_bytes_are_stored_unparsed_before_processing():
    raw = raw_email(subject="Hello", message_id="<first@customer.test>")
    received = receive_email(raw=raw, source=InboundSource.SMTP, envelope_from="ann@customer.test",
                             envelope_to=["support@example.com"])  # fmt: skip
    row = InboundEmail.objects.get(pk=received.inbound.pk)
    assert received.created
    assert bytes(row.raw) == raw and row.sha256 == hashlib.sha256(raw).hexdigest() and row.size == len(raw)
    assert (row.state, row.message_id, row.envelope_to) == (InboundState.RECEIVED, "first@customer.test",
                                                            ["support@example.com"])  # fmt: skip
    assert Case.objects.count() == 0  # nothing parsed yet


def test_the_same_bytes_delivered_twice_are_one_row_and_one_message():
    raw = raw_email(message_id="<twice@customer.test>")
    first = ingest_email(raw=raw, source=InboundSource.SMTP, inline=True)
    again = ingest_email(raw=raw, source=InboundSource.IMAP, inline=True)
    assert first.created and not again.created and again.inbound.pk == first.inbound.pk
    assert InboundEmail.objects.count() == 1 and Case.objects.count() == 1 and Message.objects.count() == 1


def test_same_message_id_with_different_bytes_is_ignored_as_duplicate():
    first = ingest(raw_email(message_id="<dup@customer.test>", text="one"))
    second = ingest(raw_email(message_id="<dup@customer.test>", text="one", headers={"Received": "by mx2"}))
    assert second.state == InboundState.IGNORED and second.reason_code == InboundReason.DUPLICATE
    assert second.case_id == first.case_id and second.case_message_id == first.case_message_id
    assert Case.objects.count() == 1 and Message.objects.count() == 1


def test_message_without_message_id_gets_synthetic_id_from_its_digest():
    raw = raw_email(message_id=None)
    inbound = ingest(raw)
    expected = synthetic_message_id(raw)
    assert expected.endswith("@synthetic.caseloop") and len(expected.partition("@")[0]) == 64
    assert inbound.message_id == expected
    assert Message.objects.get().external_id == expected


# --- new cases ----------------------------------------------------------------------------
def test_first_email_opens_case_for_new_contact_with_acknowledgement(django_capture_on_commit_callbacks):
    team = make_team("Support")
    create_mailbox(actor=None, address="Support@Example.com", name="Example support", team=team)
    raw = raw_email(sender="Ann Smith <Ann@Customer.test>", subject="Garage door stuck",
                    text="It is stuck.\n\nOn Mon, Bob wrote:\n> old stuff")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        inbound = ingest(raw)
    case = Case.objects.get()
    message = Message.objects.get()
    contact = Contact.objects.get()
    assert (inbound.state, inbound.case_id, inbound.case_message_id) == (InboundState.PROCESSED, case.pk, message.pk)
    assert (case.subject, case.channel, case.team_id, case.requester_id) == ("Garage door stuck", Channel.EMAIL,
                                                                             team.pk, contact.pk)  # fmt: skip
    assert contact.name == "Ann Smith"
    assert list(contact.identities.values_list("value", flat=True)) == ["ann@customer.test"]
    assert message.body_text == "It is stuck.\n\nOn Mon, Bob wrote:\n> old stuff"
    assert DisplayBody.objects.get(message=message).text == "It is stuck."
    facts = CaseEmail.objects.get(case=case)
    assert (facts.our_address, facts.reply_address) == ("support@example.com", "ann@customer.test")
    ack = OutboundEmail.objects.get()
    assert (ack.kind, ack.state, ack.to_address, ack.attempts) == (OutboundKind.ACKNOWLEDGEMENT, OutboundState.SENT,
                                                                   "ann@customer.test", 1)  # fmt: skip


def test_subject_only_email_uses_subject_as_text_and_missing_subject_gets_placeholder():
    ingest(raw_email(subject="Please call me at 555-0100", text=""))
    ingest(raw_email(subject="", text="Body only", sender="b@customer.test"))
    assert sorted(Message.objects.values_list("body_text", flat=True)) == ["Body only", "Please call me at 555-0100"]
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["(no subject)", "Please call me at 555-0100"]


def test_html_only_mail_keeps_sanitised_html_and_derives_text():
    raw = raw_email(text="", html="<p>Hello <b>there</b></p><script>alert(1)</script><p>Second</p>")
    # an HTML-only message: drop the empty text part
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    html_part = msg.get_body(("html",))
    assert html_part is not None
    only_html = raw_email(text="placeholder")
    only = message_from_bytes(only_html, policy=policy.default)
    only.set_content(html_part.get_content(), subtype="html")
    inbound = ingest(only.as_bytes())
    message = message_of(inbound)
    assert message.body_text == "Hello there\nSecond"
    assert "<b>there</b>" in message.body_html and "script" not in message.body_html


def test_attachments_are_stored_on_the_message():
    raw = raw_email(attachments=[("invoice.pdf", b"%PDF-1.4 data", "application/pdf")])
    inbound = ingest(raw)
    links = list(message_of(inbound).message_attachments.values_list(
        "filename", "attachment__content_type", "attachment__size"))  # fmt: skip
    assert links == [("invoice.pdf", "application/pdf", 13)]


def test_oversized_attachment_is_named_not_kept(settings):
    settings.CASELOOP_MAX_ATTACHMENT_BYTES = 10
    inbound = ingest(raw_email(text="See file", attachments=[("big.bin", b"x" * 50, "application/octet-stream")]))
    message = message_of(inbound)
    assert message.message_attachments.count() == 0
    assert (
        message.body_text
        == "See file\n\n[big.bin (50 bytes) is over the attachment limit; the original email keeps it.]"
    )


def test_cc_recipients_are_kept_on_the_case_as_participants():
    create_mailbox(actor=None, address="support@example.com")
    inbound = ingest(raw_email(to="support@example.com, Dan <dan@customer.test>",
                               cc="Eve <EVE@customer.test>, support@example.com"))  # fmt: skip
    rows = list(CaseParticipant.objects.filter(case=case_of(inbound)).order_by("address").values_list(
        "address", "contact__name"))  # fmt: skip
    assert rows == [("dan@customer.test", "Dan"), ("eve@customer.test", "Eve")]
    assert TimelineEvent.objects.filter(case_id=inbound.case_id, kind="case.participants_added").count() == 1


def test_unconfigured_address_goes_to_default_team(settings):
    team = make_team("Frontline")
    settings.CASELOOP_EMAIL_DEFAULT_TEAM = team.slug
    inbound = ingest(raw_email(to="anything@elsewhere.test"), envelope_to=["anything@elsewhere.test"])
    assert case_of(inbound).team_id == team.pk


# --- threading ----------------------------------------------------------------------------
def test_reply_to_our_message_id_threads_onto_the_case(agent, django_capture_on_commit_callbacks):
    first = ingest(raw_email(message_id="<q1@customer.test>"))
    case = case_of(first)
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="We will come Monday."))
    answer = ingest(raw_email(subject="Re: something else entirely", message_id="<q2@customer.test>",
                              in_reply_to=f"<{outbound.message_id}>"))  # fmt: skip
    assert answer.case_id == case.pk and answer.state == InboundState.PROCESSED
    assert list(Message.objects.filter(case=case).order_by("id").values_list("direction", flat=True)) == [
        Direction.INBOUND, Direction.OUTBOUND, Direction.INBOUND]  # fmt: skip


def test_reference_to_an_earlier_inbound_message_threads_too():
    first = ingest(raw_email(message_id="<orig@customer.test>"))
    follow = ingest(raw_email(subject="One more thing", references="<orig@customer.test>"))
    assert follow.case_id == first.case_id and Case.objects.count() == 1


def test_a_reply_filed_before_the_message_it_answers_files_that_message_first():
    """Workers file the queue in any order: a reply must still join its conversation, not open a case."""

    def store(raw: bytes) -> InboundEmail:
        return receive_email(raw=raw, source=InboundSource.SMTP, envelope_from="ann@customer.test",
                             envelope_to=["support@example.com"]).inbound  # fmt: skip

    first = store(raw_email(message_id="<first@customer.test>"))
    second = store(raw_email(subject="Re: Garage door stuck", message_id="<second@customer.test>",
                             in_reply_to="<first@customer.test>", references="<first@customer.test>"))  # fmt: skip
    third = store(raw_email(subject="Re: Garage door stuck", message_id="<third@customer.test>",
                            in_reply_to="<second@customer.test>",
                            references="<first@customer.test> <second@customer.test>"))  # fmt: skip
    filed = process_inbound(inbound_id=third.pk)  # the newest first: both earlier ones are filed before it
    states = dict(InboundEmail.objects.values_list("id", "state"))
    assert states == {first.pk: InboundState.PROCESSED, second.pk: InboundState.PROCESSED,
                      third.pk: InboundState.PROCESSED}  # fmt: skip
    assert Case.objects.count() == 1 and filed.case_id == InboundEmail.objects.get(pk=first.pk).case_id
    case = Case.objects.get()
    assert [m.external_id for m in case.messages.order_by("id")] == [
        "first@customer.test", "second@customer.test", "third@customer.test",
    ]  # fmt: skip
    # the others, when their own tasks run, find themselves filed: nothing twice
    assert process_inbound(inbound_id=first.pk).state == InboundState.PROCESSED
    assert Message.objects.count() == 3


def test_subject_token_threads_mail_from_the_requester():
    first = ingest(raw_email())
    case = case_of(first)
    again = ingest(raw_email(subject=f"Re: [{case.number}] Garage door"))
    assert again.case_id == case.pk


def test_plus_address_token_threads_mail_from_the_requester():
    first = ingest(raw_email())
    case = case_of(first)
    again = ingest(raw_email(subject="no token here", to=f"support+{case.number}@example.com"),
                   envelope_to=[f"support+{case.number}@example.com"])  # fmt: skip
    assert again.case_id == case.pk


def test_subject_token_from_a_stranger_opens_a_new_case():
    first = ingest(raw_email())
    case = case_of(first)
    stranger = ingest(raw_email(sender="mallory@evil.test", subject=f"[{case.number}] let me in"))
    assert stranger.case_id != case.pk and Case.objects.count() == 2
    assert Message.objects.filter(case=case).count() == 1


def test_mail_to_a_closed_case_opens_a_follow_up(agent):
    first = ingest(raw_email())
    case = case_of(first)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    later = ingest(raw_email(subject=f"Re: [{case.number}] broken again"))
    assert later.case_id != case.pk and later.state == InboundState.PROCESSED
    assert TimelineEvent.objects.filter(kind="case.follow_up", subject_id=case.pk).count() == 1


def test_reply_reopens_a_solved_case(agent):
    first = ingest(raw_email())
    case = case_of(first)
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    ingest(raw_email(subject=f"Re: [{case.number}] still broken"))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


# --- machines: auto-replies, bulk, loops, bounces -------------------------------------------
def test_auto_reply_on_a_case_becomes_a_note_and_is_never_acknowledged(django_capture_on_commit_callbacks):
    first = ingest(raw_email(message_id="<q@customer.test>"))
    with django_capture_on_commit_callbacks(execute=True):
        ooo = ingest(raw_email(subject="Out of office", in_reply_to="<q@customer.test>",
                               headers={"Auto-Submitted": "auto-replied"}))  # fmt: skip
    assert (ooo.state, ooo.auto_kind, ooo.case_id) == (InboundState.PROCESSED, AutoKind.AUTO_REPLY, first.case_id)
    assert message_of(ooo).direction == Direction.NOTE
    # the only email queued is the acknowledgement of the first, human message
    assert list(OutboundEmail.objects.values_list("kind", "in_reply_to")) == [
        (OutboundKind.ACKNOWLEDGEMENT, "q@customer.test")]  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Autoreply": "yes"},
        {"Precedence": "auto_reply"},
        {"X-Autorespond": "Vacation"},
        {"Auto-Submitted": "auto-replied; vacation"},
    ],
    ids=["x-autoreply", "precedence", "x-autorespond", "auto-submitted"],
)
def test_unthreaded_auto_reply_is_ignored_with_reason(headers):
    inbound = ingest(raw_email(subject="Away", headers=headers))
    assert (inbound.state, inbound.reason_code, inbound.auto_kind) == (InboundState.IGNORED,
                                                                       InboundReason.UNTHREADED_AUTO_REPLY,
                                                                       AutoKind.AUTO_REPLY)  # fmt: skip
    assert Case.objects.count() == 0


def test_bulk_mail_opens_a_case_without_acknowledgement(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbound = ingest(raw_email(subject="Monitoring alert", headers={"Precedence": "bulk"}))
    assert inbound.state == InboundState.PROCESSED and inbound.auto_kind == AutoKind.BULK
    assert OutboundEmail.objects.count() == 0


def test_mail_from_our_own_address_is_a_loop_and_ignored():
    create_mailbox(actor=None, address="support@example.com")
    inbound = ingest(raw_email(sender="support@example.com", subject="Re: [CL-1] loop"))
    assert (inbound.state, inbound.reason_code) == (InboundState.IGNORED, InboundReason.LOOP)
    assert Case.objects.count() == 0


def test_bounce_marks_identity_failing_and_outbound_bounced(agent, django_capture_on_commit_callbacks):
    first = ingest(raw_email(sender="gone@customer.test"))
    case = case_of(first)
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_by_email(actor=agent, case=case, body=MessageInput(body_text="Answer"))
    bounce = ingest(bounce_for(recipient="gone@customer.test", original_message_id=outbound.message_id))
    assert (bounce.state, bounce.reason_code, bounce.auto_kind) == (InboundState.IGNORED, InboundReason.BOUNCE,
                                                                    AutoKind.BOUNCE)  # fmt: skip
    assert ContactIdentity.objects.get(value="gone@customer.test").failing_since is not None
    assert OutboundEmail.objects.get(pk=outbound.pk).state == OutboundState.BOUNCED
    assert TimelineEvent.objects.filter(kind="email.bounced", case_id=case.pk).count() == 1
    # mail from the address again shows it works
    ingest(raw_email(sender="gone@customer.test", subject=f"Re: [{case.number}] new address works"))
    assert ContactIdentity.objects.get(value="gone@customer.test").failing_since is None


# --- quarantine -----------------------------------------------------------------------------
def test_mail_without_sender_is_quarantined_with_reason():
    inbound = ingest(b"To: support@example.com\r\nSubject: who am I\r\n\r\nNo From header.\r\n")
    assert (inbound.state, inbound.reason_code) == (InboundState.QUARANTINED, InboundReason.NO_SENDER)
    assert inbound.reason and inbound.subject == "who am I"
    assert Case.objects.count() == 0


def test_envelope_sender_stands_in_for_a_missing_from():
    raw = b"To: support@example.com\r\nSubject: who am I\r\nMessage-ID: <x@y>\r\n\r\nNo From header.\r\n"
    inbound = ingest(raw, envelope_from="real@customer.test")
    assert inbound.state == InboundState.PROCESSED
    assert Case.objects.get().requester.identities.get().value == "real@customer.test"


def test_garbage_is_quarantined_as_unparseable():
    inbound = ingest(b"\x00\x01 this is not mail at all")
    assert (inbound.state, inbound.reason_code) == (InboundState.QUARANTINED, InboundReason.UNPARSEABLE)


def test_too_large_message_is_quarantined(settings):
    settings.CASELOOP_EMAIL_MAX_BYTES = 100
    inbound = ingest(raw_email(text="x" * 500))
    assert (inbound.state, inbound.reason_code) == (InboundState.QUARANTINED, InboundReason.TOO_LARGE)


def test_admin_reprocesses_quarantined_mail(admin_user, settings):
    settings.CASELOOP_EMAIL_MAX_BYTES = 100
    inbound = ingest(raw_email(text="x" * 500))
    settings.CASELOOP_EMAIL_MAX_BYTES = 10_000
    again = reprocess_inbound(actor=admin_user, inbound_id=inbound.pk)
    assert (again.state, again.reason_code, again.attempts) == (InboundState.PROCESSED, "", 2)
    assert Case.objects.count() == 1
    audit = AuditEntry.objects.get(action="inbound_email.reprocess")
    before = {"state": "quarantined", "reason_code": "too_large"}
    assert (audit.object_id, audit.actor_id, audit.before) == (inbound.pk, admin_user.pk, before)


def test_reprocess_is_for_admins_only_and_changes_nothing(agent, settings):
    settings.CASELOOP_EMAIL_MAX_BYTES = 100
    inbound = ingest(raw_email(text="x" * 500))
    with pytest.raises(DomainError) as excinfo:
        reprocess_inbound(actor=agent, inbound_id=inbound.pk)
    assert excinfo.value.code == "permission_denied"
    assert InboundEmail.objects.get(pk=inbound.pk).state == InboundState.QUARANTINED


def test_processed_mail_cannot_be_reprocessed(admin_user):
    inbound = ingest(raw_email())
    with pytest.raises(DomainError) as excinfo:
        reprocess_inbound(actor=admin_user, inbound_id=inbound.pk)
    assert excinfo.value.code == EmailErrorCode.NOT_REPROCESSABLE
    assert Message.objects.count() == 1


def test_processing_twice_is_a_no_op():
    inbound = ingest(raw_email())
    again = process_inbound(inbound_id=inbound.pk)
    assert again.state == InboundState.PROCESSED and Message.objects.count() == 1


def test_a_failure_inside_processing_rolls_back_and_quarantines(monkeypatch):
    from caseloop.channels.email import actions

    def broken(**_):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(actions, "add_participants", broken)
    inbound = ingest(raw_email(cc="eve@customer.test"))
    assert (inbound.state, inbound.reason_code) == (InboundState.QUARANTINED, InboundReason.INTERNAL_ERROR)
    assert "disk on fire" in inbound.reason
    assert Case.objects.count() == 0 and Contact.objects.count() == 0  # nothing half-written


def test_contact_matched_by_existing_identity():
    contact = make_contact(name="Known Person", email="known@customer.test")
    inbound = ingest(raw_email(sender="KNOWN@customer.test"))
    assert case_of(inbound).requester_id == contact.pk
    assert Contact.objects.count() == 1


def test_a_message_filed_by_another_worker_meanwhile_is_rolled_back_not_filed_twice():
    from caseloop.channels.email.actions import _process, all_mailboxes

    stored = receive_email(raw=raw_email(cc="eve@customer.test"), source=InboundSource.SMTP,
                           envelope_to=["support@example.com"]).inbound  # fmt: skip
    stale = InboundEmail.objects.get(pk=stored.pk)  # what a second worker read before the first one filed it
    filed = process_inbound(inbound_id=stored.pk)
    counts = (Case.objects.count(), Message.objects.count(), CaseParticipant.objects.count(),
              TimelineEvent.objects.count(), AuditEntry.objects.count())  # fmt: skip
    again = _process(stale, all_mailboxes())
    # the compare-and-set on "received" failed: the second filing rolled back whole
    assert (again.state, again.case_id, again.attempts) == (InboundState.PROCESSED, filed.case_id, 1)
    assert (Case.objects.count(), Message.objects.count(), CaseParticipant.objects.count(),
            TimelineEvent.objects.count(), AuditEntry.objects.count()) == counts  # fmt: skip


def test_an_older_reference_threads_when_the_nearest_is_unknown():
    first = ingest(raw_email(message_id="<root@customer.test>"))
    follow = ingest(raw_email(subject="Re: door", in_reply_to="<lost@elsewhere.test>",
                              references="<root@customer.test> <lost@elsewhere.test>"))  # fmt: skip
    assert follow.case_id == first.case_id and Case.objects.count() == 1


def test_replies_go_to_the_address_of_the_latest_email():
    first = ingest(raw_email(message_id="<a1@customer.test>"))
    ingest(raw_email(in_reply_to="<a1@customer.test>", message_id="<a2@customer.test>"))
    assert first.case_id is not None
    assert CaseEmail.objects.get(case_id=first.case_id).reply_address == "ann@customer.test"
    ingest(raw_email(in_reply_to="<a2@customer.test>", reply_to="Ann at home <ann@home.test>"))
    facts = CaseEmail.objects.get(case_id=first.case_id)
    assert (facts.our_address, facts.reply_address) == ("support@example.com", "ann@home.test")
    assert CaseEmail.objects.count() == 1


def test_a_mailbox_added_or_disabled_counts_from_the_next_message(admin_user):
    from caseloop.channels.email.actions import accepts_recipient

    assert accepts_recipient("anything@example.com")  # no mailbox yet: any address
    sales = create_mailbox(actor=admin_user, address="sales@example.com", team=make_team("Sales"))
    assert not accepts_recipient("anything@example.com") and accepts_recipient("sales+x@example.com")
    inbound = ingest(raw_email(to="sales@example.com"), envelope_to=["sales@example.com"])
    assert (inbound.mailbox_id, case_of(inbound).team_id) == (sales.pk, sales.team_id)
    sales.active = False
    sales.save(update_fields=["active"])
    assert accepts_recipient("anything@example.com")  # no active mailbox left
    later = ingest(raw_email(to="sales@example.com"), envelope_to=["sales@example.com"])
    assert later.mailbox_id is None
