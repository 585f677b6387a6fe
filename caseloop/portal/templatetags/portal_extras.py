"""Template helpers of the customer-facing pages (the portal and the contact form)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from caseloop.cases.choices import Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.email.parsing import trimmed_away
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.portal import conf
from caseloop.portal.selectors import customer_status as _customer_status

register = template.Library()


@register.simple_tag
def portal_name() -> str:
    return conf.name()


@register.filter
def customer_status(status: str, role: str = Role.CUSTOMER) -> str:
    """A case status as it reads to a customer ("Waiting for your answer", not "pending"), or to a partner
    when given the viewer's role (`case.status|customer_status:user.role`: "Waiting for the customer")."""
    return _customer_status(status, role=role)


@register.filter
def display_text(message_id: int, display: dict[int, str]) -> str:
    """The trimmed text of a message when it has one (an inbound email), else ""."""
    return display.get(message_id, "")


@register.filter
def cut_part(full: str, shown: str) -> str:
    """The quoted history and signature trimmed from an email (what its toggle opens on), or ""."""
    return trimmed_away(full, shown)


@dataclass(frozen=True, slots=True)
class Voice:
    side: str  # "yours" (the reader's side of the conversation) or "ours"
    who: str


@register.simple_tag
def voice(message: Message, case: Case, reader: User) -> Voice:
    """Who speaks in a message, as the reader of the page sees it.

    A partner working the case writes from outside (an inbound message by its own contact);
    to the customer it speaks for us (principle 5: the customer cannot tell them apart), to the
    partner the customer's messages are the other side. No query: the author is selected with
    the message, and the case's partner is an id.
    """
    name = message.author_name()
    if message.direction != Direction.INBOUND:
        return Voice("ours", f"{name}, our team" if message.author_user_id else name)
    author = message.author_contact
    if author is not None and author.user_id == reader.pk:
        return Voice("yours", "You")
    by_partner = author is not None and case.partner_id is not None and author.organization_id == case.partner_id
    if reader.role == Role.PARTNER:
        return Voice("yours", name) if by_partner else Voice("ours", f"{name}, the customer")
    return Voice("ours", f"{name}, working with us") if by_partner else Voice("yours", name)
