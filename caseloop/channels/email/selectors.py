"""Reads of the email channel, with permission in the query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from caseloop.channels.email.choices import InboundState
from caseloop.channels.email.models import DisplayBody, InboundEmail, OutboundEmail
from caseloop.core.errors import NotFound
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role, require_staff


def inbound_for_admin(actor: User, *, state: InboundState | None = InboundState.QUARANTINED) -> QuerySet[InboundEmail]:
    """Inbound mail for the quarantine page (administrators only), newest first, without the raw bytes."""
    require_role(actor, Role.ADMIN)
    rows = InboundEmail.objects.defer("raw").select_related("mailbox").order_by("-id")
    return rows.filter(state=state) if state is not None else rows


def access_inbound(actor: User, inbound_id: int) -> InboundEmail:
    require_role(actor, Role.ADMIN)
    inbound = InboundEmail.objects.select_related("mailbox").filter(pk=inbound_id).first()
    if inbound is None:
        raise NotFound("Inbound email", inbound_id)
    return inbound


def display_texts(message_ids: Iterable[int]) -> dict[int, str]:
    """Trimmed display text of those messages that have one; others show `body_text` whole."""
    return dict(DisplayBody.objects.filter(message_id__in=list(message_ids)).values_list("message_id", "text"))


def delivery_states(actor: User, message_ids: Iterable[int]) -> dict[int, OutboundEmail]:
    """The email delivery record of each outbound message (staff only): state, attempts, last error."""
    require_staff(actor)
    rows = OutboundEmail.objects.filter(case_message_id__in=list(message_ids))
    return {row.case_message_id: row for row in rows if row.case_message_id is not None}
