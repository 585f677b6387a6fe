"""Mail from the address it was delivered to is ours: ignored as a loop, never acknowledged to itself."""

from __future__ import annotations

import pytest

from caseloop.cases.models import Case
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundReason, InboundSource, InboundState
from caseloop.channels.email.models import InboundEmail, OutboundEmail
from caseloop.channels.email.tests.mail import raw_email

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, envelope_to: list[str]) -> InboundEmail:
    return ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=envelope_to, inline=True).inbound


@pytest.fixture(autouse=True)
def _other_from_address(settings):
    settings.DEFAULT_FROM_EMAIL = "caseloop <noreply@example.com>"  # not the address mail arrives at


@pytest.mark.parametrize(
    ("sender", "envelope_to"),
    [
        ("help@example.com", ["help@example.com"]),
        ("Help Desk <Help@Example.com>", ["help@example.com"]),
        ("help@example.com", ["help+CL-10001@example.com"]),
    ],
    ids=["same", "display-name-and-case", "plus-tag"],
)
def test_mail_from_the_delivered_to_address_is_a_loop_without_mailboxes(sender, envelope_to):
    inbound = ingest(raw_email(sender=sender, to="help@example.com"), envelope_to)
    assert (inbound.state, inbound.reason_code) == (InboundState.IGNORED, InboundReason.LOOP)
    assert Case.objects.count() == 0 and OutboundEmail.objects.count() == 0


def test_mail_from_a_customer_to_that_address_is_still_filed_and_acknowledged():
    inbound = ingest(raw_email(sender="ann@customer.test", to="help@example.com"), ["help@example.com"])
    assert inbound.state == InboundState.PROCESSED and Case.objects.count() == 1
    assert list(OutboundEmail.objects.values_list("to_address", flat=True)) == ["ann@customer.test"]
