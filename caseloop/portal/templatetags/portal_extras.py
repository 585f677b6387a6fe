"""Template helpers of the customer-facing pages (the portal and the contact form)."""

from __future__ import annotations

from django import template

from caseloop.channels.email.parsing import trimmed_away
from caseloop.portal import conf
from caseloop.portal.selectors import customer_status as _customer_status

register = template.Library()


@register.simple_tag
def portal_name() -> str:
    return conf.name()


@register.filter
def customer_status(status: str) -> str:
    """A case status as it reads to a customer ("Waiting for your answer", not "pending")."""
    return _customer_status(status)


@register.filter
def display_text(message_id: int, display: dict[int, str]) -> str:
    """The trimmed text of a message when it has one (an inbound email), else ""."""
    return display.get(message_id, "")


@register.filter
def cut_part(full: str, shown: str) -> str:
    """The quoted history and signature trimmed from an email (what its toggle opens on), or ""."""
    return trimmed_away(full, shown)
