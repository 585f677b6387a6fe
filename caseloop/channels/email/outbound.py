"""Building and sending one email through Django's email backend (SMTP in production)."""

from __future__ import annotations

import html
import smtplib
from dataclasses import dataclass
from email.errors import MessageError
from email.utils import formataddr

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection

from caseloop.cases.attachments import read_attachment, safe_content_type, safe_filename
from caseloop.cases.models import MessageAttachment
from caseloop.channels.email.choices import OutboundKind
from caseloop.channels.email.models import Mailbox, OutboundEmail
from caseloop.channels.email.threads import case_token_pattern
from caseloop.core.sanitize import one_line


@dataclass
class SendFailure(Exception):
    detail: str
    permanent: bool


def reply_to_address(outbound: OutboundEmail) -> str:
    """Where the customer's answer should go: the mailbox with the case as a +tag, so the
    answer threads even when a mail client drops our headers and the subject token."""
    local, _, domain = outbound.from_address.partition("@")
    if not getattr(settings, "CASELOOP_EMAIL_PLUS_ADDRESSING", True) or not domain:
        return outbound.from_address
    return f"{local}+{outbound.case.number}@{domain}"


def _display_name(outbound: OutboundEmail) -> str:
    mailbox = Mailbox.objects.filter(address=outbound.from_address).first()
    if mailbox is not None and mailbox.name:
        return mailbox.name
    return getattr(settings, "CASELOOP_EMAIL_FROM_NAME", "Customer service")


def _acknowledgement_text(outbound: OutboundEmail) -> str:
    case = outbound.case
    return (
        f"Hello,\n\nthank you for writing to us. We have received your message and opened case "
        f"{case.number}: {case.subject}\n\nA member of our team will answer you by email. To add anything, "
        f"reply to this email and keep [{case.number}] in the subject.\n"
    )


def _html_from_text(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def build_email(outbound: OutboundEmail) -> EmailMultiAlternatives:
    if outbound.kind == OutboundKind.ACKNOWLEDGEMENT:
        text, body_html, attachments = _acknowledgement_text(outbound), "", []
    else:
        message = outbound.case_message
        assert message is not None
        text, body_html = message.body_text, message.body_html
        attachments = list(MessageAttachment.objects.filter(message=message).select_related("attachment"))
    headers = {"Message-ID": f"<{outbound.message_id}>"}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = outbound.references
    if outbound.kind == OutboundKind.ACKNOWLEDGEMENT:
        # RFC 3834: other responders must not answer an automatic message (no ping-pong)
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    subject = one_line(outbound.subject)  # a case's subject stored with a line break before ADR 0076
    if not case_token_pattern().search(subject):
        subject = f"{subject} [{outbound.case.number}]"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((_display_name(outbound), outbound.from_address)),
        to=[outbound.to_address],
        cc=list(outbound.cc),
        reply_to=[reply_to_address(outbound)],
        headers=headers,
    )
    email.attach_alternative(body_html or _html_from_text(text), "text/html")
    for link in attachments:
        # names and types from outside, cleaned when stored since ADR 0076; rows from before are cleaned here
        name = safe_filename(link.filename)
        email.attach(name, read_attachment(link.attachment), safe_content_type(link.attachment.content_type, name))
    return email


def send_now(outbound: OutboundEmail) -> None:
    """Hand the email to the backend; raise SendFailure saying whether to retry."""
    try:
        email = build_email(outbound)
        with get_connection(fail_silently=False) as connection:
            sent = connection.send_messages([email])
    except (BadHeaderError, MessageError) as exc:
        # a header no email can carry (a line break in it): every retry would fail alike, and an error
        # escaping here would leave the row `sending` and stop the sweep of due mail at it
        raise SendFailure(f"the email could not be written: {exc}", permanent=True) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailure(f"recipients refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendFailure(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    if not sent:
        raise SendFailure("the email backend sent nothing", permanent=False)
