"""Raw test messages built with the standard library, as mail clients send them."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import format_datetime

from caseloop.cases.models import Case, Message
from caseloop.channels.email.models import InboundEmail
from caseloop.core import clock

_seq = itertools.count(1)


def raw_email(
    *,
    sender: str = "Ann Smith <ann@customer.test>",
    to: str = "support@example.com",
    subject: str = "Garage door stuck",
    text: str = "The door will not open.",
    html: str | None = None,
    message_id: str | None = "auto",
    cc: str | None = None,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.now())
    if message_id == "auto":
        msg["Message-ID"] = f"<m{next(_seq)}.{id(msg)}@customer.test>"
    elif message_id is not None:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def bounce_for(*, recipient: str, original_message_id: str, reporter: str = "MAILER-DAEMON@mx.customer.test") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix sends it."""
    boundary = "dsn-boundary-1"
    return (
        f"From: Mail Delivery System <{reporter}>\r\n"
        f"To: support@example.com\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn{next(_seq)}@mx.customer.test>\r\n"
        f"Auto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n"
        f"--{boundary}\r\n"
        f"Content-Type: text/plain\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        f"Content-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.customer.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: failed\r\n"
        f"Status: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        f"--{boundary}\r\n"
        f"Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@example.com\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: <{original_message_id}>\r\n"
        f"Subject: Re: something\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def case_of(inbound: InboundEmail) -> Case:
    """The case an inbound email was filed on (it must have one)."""
    assert inbound.case_id is not None
    return Case.objects.get(pk=inbound.case_id)


def message_of(inbound: InboundEmail) -> Message:
    assert inbound.case_message_id is not None
    return Message.objects.get(pk=inbound.case_message_id)


def body_of(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n").strip()
