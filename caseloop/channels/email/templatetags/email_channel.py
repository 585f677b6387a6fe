"""What the workspace shows of the email channel: the quarantine badge, trimmed texts, delivery states."""

from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from caseloop.channels.email.choices import OutboundState
from caseloop.channels.email.models import OutboundEmail
from caseloop.channels.email.parsing import trimmed_away
from caseloop.channels.email.selectors import quarantined_count
from caseloop.identity.models import User

register = template.Library()

QUARANTINE_CAP = 99


@register.simple_tag
def quarantine_count(user: User) -> str:
    """The navigation badge: "3", "99+", or "" (nothing waits, or not an administrator)."""
    count = quarantined_count(user, cap=QUARANTINE_CAP)
    return "" if not count else f"{QUARANTINE_CAP}+" if count > QUARANTINE_CAP else str(count)


@register.filter
def lookup(mapping: Mapping[int, object] | None, key: int) -> object:
    """`{{ texts|lookup:m.pk }}`: the value for a message id, or None."""
    return mapping.get(key) if mapping else None


@register.filter
def cut_part(full: str, shown: str) -> str:
    """`{{ m.body_text|cut_part:short }}`: the quoted history and signature trimmed from an email, or ""."""
    return trimmed_away(full, shown)


_DELIVERY_TEXT = {
    OutboundState.QUEUED: "Email queued",
    OutboundState.SENDING: "Email sending",
    OutboundState.SENT: "Email sent",
    OutboundState.FAILED: "Email failed",
    OutboundState.BOUNCED: "Email bounced",
    OutboundState.SUPPRESSED: "Email not sent",
}


@register.simple_tag
def delivery_badge(outbound: OutboundEmail) -> SafeString:
    """A reply's email delivery state as words (the colour only repeats them), the last error on hover."""
    label = _DELIVERY_TEXT.get(OutboundState(outbound.state), outbound.state)
    detail = outbound.last_error or {
        OutboundState.QUEUED: "Waiting to be sent",
        OutboundState.SENDING: "Being handed to the mail server",
        OutboundState.SENT: f"Accepted by the mail server for {outbound.to_address}",
    }.get(OutboundState(outbound.state), "")
    if outbound.attempts > 1:
        detail = f"{detail} ({outbound.attempts} attempts)"
    return format_html('<span class="badge delivery delivery-{}" title="{}">{}</span>', outbound.state, detail, label)
