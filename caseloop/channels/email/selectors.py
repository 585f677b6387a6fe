"""Reads of the email channel, with permission in the query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from caseloop.channels.email.choices import InboundState
from caseloop.channels.email.errors import EmailError, EmailErrorCode
from caseloop.channels.email.models import DisplayBody, InboundEmail, Mailbox, OutboundEmail
from caseloop.core.errors import NotFound
from caseloop.core.secretbox import SecretUnreadable, unseal
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


def mailboxes_for_admin(actor: User) -> list[Mailbox]:
    """Every mailbox with its team, active ones first (administrators only)."""
    require_role(actor, Role.ADMIN)
    return list(Mailbox.objects.select_related("team").order_by("-active", "address"))


def access_mailbox(actor: User, mailbox_id: int) -> Mailbox:
    require_role(actor, Role.ADMIN)
    mailbox = Mailbox.objects.select_related("team").filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound("Mailbox", mailbox_id)
    return mailbox


def quarantined_count(actor: User, *, cap: int = 99) -> int:
    """How many messages wait in quarantine, counted up to `cap` (the navigation shows "99+");
    0 for anyone but an administrator, who is the only one who can act on them."""
    if actor.role != Role.ADMIN:
        return 0
    # a bounded count on the (state, -id) index: the badge never scans a large quarantine
    return InboundEmail.objects.filter(state=InboundState.QUARANTINED).order_by()[: cap + 1].count()


def imap_password(mailbox: Mailbox) -> str:
    """The mailbox's IMAP password, unsealed to log in; raises EmailError when the key that sealed
    it is gone (CASELOOP_SECRETS_KEY or SECRET_KEY changed without keeping the old one)."""
    try:
        return unseal(mailbox.imap_password_sealed)
    except SecretUnreadable as exc:
        raise EmailError(
            EmailErrorCode.PASSWORD_UNREADABLE,
            f"The IMAP password of {mailbox.address} cannot be decrypted with the configured keys "
            "(CASELOOP_SECRETS_KEY or SECRET_KEY changed): enter it again.",
            status=409,
        ) from exc


def display_texts(message_ids: Iterable[int]) -> dict[int, str]:
    """Trimmed display text of those messages that have one; others show `body_text` whole."""
    return dict(DisplayBody.objects.filter(message_id__in=list(message_ids)).values_list("message_id", "text"))


def delivery_states(actor: User, message_ids: Iterable[int]) -> dict[int, OutboundEmail]:
    """The email delivery record of each outbound message (staff only): state, attempts, last error."""
    require_staff(actor)
    rows = OutboundEmail.objects.filter(case_message_id__in=list(message_ids))
    return {row.case_message_id: row for row in rows if row.case_message_id is not None}
