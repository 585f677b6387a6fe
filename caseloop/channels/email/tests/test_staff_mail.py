"""Mail from a staff member's own address is theirs: an internal note, never a customer's message."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundReason, InboundSource, InboundState, OutboundKind
from caseloop.channels.email.models import CaseEmail, CaseParticipant, InboundEmail, OutboundEmail
from caseloop.channels.email.parsing import forwarded_sender
from caseloop.channels.email.tests.mail import case_of, message_of, raw_email
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.factories import make_agent, make_customer_user

pytestmark = pytest.mark.django_db

CUSTOMER_MAIL_ID = "<first@customer.test>"


def ingest(raw: bytes) -> InboundEmail:
    return ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound


@pytest.fixture
def dana(db) -> User:
    return make_agent(username="dana", email="dana.agent@example.com", display_name="Dana Agent")


@pytest.fixture
def opened(dana) -> Case:
    """A case opened by Ann's mail (acknowledged to her), solved by Dana."""
    case = case_of(ingest(raw_email(message_id=CUSTOMER_MAIL_ID)))
    change_status(actor=dana, case=case, status=CaseStatus.SOLVED)
    return Case.objects.get(pk=case.pk)


def _state() -> tuple[int, int, list[str]]:
    contacts = sorted(ContactIdentity.objects.values_list("value", flat=True))
    return Case.objects.count(), OutboundEmail.objects.count(), contacts


def test_reply_all_from_an_agent_is_their_note_and_changes_nothing_for_the_customer(dana, opened):
    make_agent(username="colin", email="colin@example.com")
    before = _state()
    inbound = ingest(raw_email(
        sender="Dana Agent <Dana.Agent@EXAMPLE.com>", to="Ann Smith <ann@customer.test>",
        cc="support@example.com, Colin <COLIN@example.com>, Bob <bob@customer.test>",
        subject="Re: Garage door stuck", text="We will send a technician on Monday.",
        in_reply_to=CUSTOMER_MAIL_ID,
    ))  # fmt: skip
    assert (inbound.state, inbound.case_id) == (InboundState.PROCESSED, opened.pk)
    note = message_of(inbound)
    assert (note.direction, note.author_user_id, note.author_contact_id) == (Direction.NOTE, dana.pk, None)
    assert note.body_text.startswith("We will send a technician on Monday.")
    case = Case.objects.get(pk=opened.pk)
    assert (case.status, case.first_response_at) == (CaseStatus.SOLVED, None)  # not reopened, not a response
    # no acknowledgement, no contact for Dana or Colin; Bob, a customer copied, is kept on the case
    assert _state() == (before[0], before[1], sorted([*before[2], "bob@customer.test"]))
    assert list(CaseParticipant.objects.filter(case=case).values_list("address", flat=True)) == ["bob@customer.test"]
    assert CaseEmail.objects.get(case=case).reply_address == "ann@customer.test"  # replies still go to Ann


def test_a_case_token_from_an_agent_joins_the_case(dana, opened):
    inbound = ingest(raw_email(sender="dana.agent@example.com", subject=f"Fwd: [{opened.number}] photos"))
    assert (inbound.case_id, message_of(inbound).direction) == (opened.pk, Direction.NOTE)


def test_a_staff_address_stored_with_capitals_is_recognised(opened):
    # `createsuperuser` and the Django admin keep the local part as typed
    admin = make_agent(username="root", role=Role.ADMIN)
    User.objects.filter(pk=admin.pk).update(email="Root.Admin@Example.com")
    inbound = ingest(raw_email(sender="root.admin@example.com", in_reply_to=CUSTOMER_MAIL_ID))
    assert message_of(inbound).author_user_id == admin.pk
    assert not ContactIdentity.objects.filter(value="root.admin@example.com").exists()


def test_a_customer_user_is_still_a_customer(opened):
    make_customer_user(name="Carla", email="carla@example.com")
    inbound = ingest(raw_email(sender="carla@example.com", in_reply_to=CUSTOMER_MAIL_ID))
    message = message_of(inbound)
    assert (message.direction, message.author_user_id) == (Direction.INBOUND, None)
    assert message.author_contact is not None
    assert message.author_contact.identities.get().value == "carla@example.com"


def test_a_deactivated_agent_is_still_staff_never_a_customer(opened):
    gone = make_agent(email="gone@example.com")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    inbound = ingest(raw_email(sender="gone@example.com", in_reply_to=CUSTOMER_MAIL_ID))
    assert (message_of(inbound).direction, message_of(inbound).author_user_id) == (Direction.NOTE, gone.pk)
    assert not ContactIdentity.objects.filter(value="gone@example.com").exists()


def test_an_agent_copied_by_a_customer_gets_no_contact(dana, opened):
    ingest(raw_email(cc="Dana <dana.agent@example.com>", in_reply_to=CUSTOMER_MAIL_ID))
    assert not CaseParticipant.objects.exists()
    assert not ContactIdentity.objects.filter(value="dana.agent@example.com").exists()


GMAIL_FORWARD = """FYI, see below.

---------- Forwarded message ---------
From: Ann Smith <Ann@Customer.test>
Date: Tue, 24 Nov 2026 at 10:02
Subject: Garage door stuck
To: Dana Agent <dana.agent@example.com>

The door will not open.
"""


def _attached_forward() -> bytes:
    inner = EmailMessage()
    inner["From"] = '"Smith, Ann" <ann@customer.test>'
    inner["To"] = "dana.agent@example.com"
    inner["Subject"] = "Garage door stuck"
    inner.set_content("The door will not open.")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "dana.agent@example.com", "support@example.com", "Fwd: Garage"
    outer["Message-ID"] = "<fwd@example.com>"
    outer.set_content("FYI")
    outer.add_attachment(inner)
    return outer.as_bytes()


@pytest.mark.parametrize(
    "raw",
    [raw_email(sender="Dana <dana.agent@example.com>", subject="Fwd: Garage door stuck", text=GMAIL_FORWARD),
     _attached_forward()],
    ids=["inline", "attached"],
)  # fmt: skip
def test_a_customer_mail_forwarded_by_an_agent_opens_a_case_for_the_customer(dana, raw):
    inbound = ingest(raw)
    assert inbound.state == InboundState.PROCESSED
    case = case_of(inbound)
    requester = Contact.objects.get(pk=case.requester_id)
    assert list(requester.identities.values_list("value", flat=True)) == ["ann@customer.test"]
    assert case.subject.startswith("Garage")
    assert case.status == CaseStatus.NEW and case.first_response_at is None
    [note] = Message.objects.filter(case=case)
    assert (note.direction, note.author_user_id) == (Direction.NOTE, dana.pk)
    assert "The door will not open." in note.body_text
    assert not OutboundEmail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).exists()  # nobody acknowledged
    assert CaseEmail.objects.get(case=case).reply_address == "ann@customer.test"
    assert not ContactIdentity.objects.filter(value="dana.agent@example.com").exists()


@pytest.mark.parametrize(
    "text",
    ["Please call Ann about her door.", GMAIL_FORWARD.replace("Ann Smith <Ann@Customer.test>", "colin@example.com"),
     GMAIL_FORWARD.replace("Ann Smith <Ann@Customer.test>", "Ann Smith")],
    ids=["no-forward", "forward-of-staff", "forward-without-address"],
)  # fmt: skip
def test_new_mail_from_an_agent_without_a_customer_to_name_is_quarantined(dana, text):
    make_agent(username="colin", email="colin@example.com")
    inbound = ingest(raw_email(sender="dana.agent@example.com", subject="Fwd: Garage door stuck", text=text))
    assert (inbound.state, inbound.reason_code) == (InboundState.QUARANTINED, InboundReason.FROM_STAFF)
    assert "Dana Agent (dana.agent@example.com)" in inbound.reason
    assert (Case.objects.count(), Contact.objects.count(), OutboundEmail.objects.count()) == (0, 0, 0)


def test_an_agent_on_a_closed_case_joins_its_follow_up_or_is_quarantined(dana, opened):
    change_status(actor=dana, case=opened, status=CaseStatus.CLOSED)
    inbound = ingest(raw_email(sender="dana.agent@example.com", in_reply_to=CUSTOMER_MAIL_ID))
    assert (inbound.state, inbound.reason_code, Case.objects.count()) == (InboundState.QUARANTINED,
                                                                          InboundReason.FROM_STAFF, 1)  # fmt: skip
    follow_up = case_of(ingest(raw_email(in_reply_to=CUSTOMER_MAIL_ID, text="Broken again")))
    again = ingest(raw_email(sender="dana.agent@example.com", in_reply_to=CUSTOMER_MAIL_ID, text="On it"))
    assert (again.case_id, message_of(again).direction) == (follow_up.pk, Direction.NOTE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GMAIL_FORWARD, ("Ann Smith", "ann@customer.test")),
        ("hi\n\nBegin forwarded message:\n\nFrom: Ann <ann@customer.test>\nSubject: x\n", ("Ann", "ann@customer.test")),
        ("-------- Forwarded Message --------\nSubject: x\nDate: y\nFrom: \tann@customer.test\n",
         ("", "ann@customer.test")),
        ("-----Original Message-----\nFrom: Ann Smith [mailto:ann@customer.test]\nSent: Monday\n",
         ("Ann Smith", "ann@customer.test")),
        ("---------- Forwarded message ---------\nFrom: Ann Smith\nDate: y\n", None),
        ("From: ann@customer.test\n\nno forward heading", None),
        ("---------- Forwarded message ---------\n" + "\n" * 9 + "From: ann@customer.test\n", None),
    ],
    ids=["gmail", "apple", "thunderbird", "outlook", "name-only", "no-heading", "too-far"],
)  # fmt: skip
def test_forwarded_sender(text, expected):
    assert forwarded_sender(text) == expected
