"""A message without a Message-ID, delivered again by a relay, is recognised as the same message."""

from __future__ import annotations

import pytest

from caseloop.cases.models import Case, Message
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundReason, InboundSource, InboundState, OutboundKind
from caseloop.channels.email.models import InboundEmail, OutboundEmail
from caseloop.channels.email.parsing import parse_email, peek_message_id, synthetic_message_id

RAW = b"From: alice@ext.test\r\nTo: support@example.com\r\nSubject: Help\r\nContent-Type: text/plain\r\n\r\nnomid\r\n"


def ingest(raw: bytes) -> InboundEmail:
    return ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound


@pytest.mark.parametrize(
    "redelivered",
    [
        b"Received: from relay2\r\n\tby mx.example.com; Tue, 7 Apr 2026 10:00:00 +0000\r\n" + RAW,
        b"Return-Path: <bounce@ext.test>\r\nDelivered-To: support@example.com\r\nX-Spam-Score: 1.2\r\n" + RAW,
        RAW.replace(b"\r\n", b"\n"),
        RAW.replace(b"Subject: Help", b"Subject:  Help"),
    ],
    ids=["received", "trace-and-x-fields", "line-endings", "whitespace"],
)
def test_synthetic_id_ignores_trace_fields_and_line_endings(redelivered):
    assert synthetic_message_id(redelivered) == synthetic_message_id(RAW)
    assert peek_message_id(redelivered) == parse_email(redelivered).message_id == synthetic_message_id(RAW)


@pytest.mark.parametrize(
    "other",
    [
        RAW.replace(b"nomid", b"another body"),
        RAW.replace(b"Subject: Help", b"Subject: Help again"),
        RAW.replace(b"From: alice@", b"From: bob@"),
        RAW.replace(b"Subject: Help\r\n", b"Subject: Help\r\nDate: Tue, 7 Apr 2026 10:00:00 +0000\r\n"),
    ],
    ids=["body", "subject", "from", "date"],
)
def test_synthetic_id_differs_for_a_different_message(other):
    assert synthetic_message_id(other) != synthetic_message_id(RAW)


@pytest.mark.django_db
def test_redelivery_without_message_id_is_a_duplicate_not_a_second_case():
    first = ingest(RAW)
    again = ingest(b"Received: from relay2\r\n" + RAW)
    assert first.pk != again.pk  # different bytes: two stored rows
    assert (again.state, again.reason_code) == (InboundState.IGNORED, InboundReason.DUPLICATE)
    assert (again.case_id, again.case_message_id) == (first.case_id, first.case_message_id)
    assert Case.objects.count() == 1 and Message.objects.count() == 1
    assert OutboundEmail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).count() == 1
