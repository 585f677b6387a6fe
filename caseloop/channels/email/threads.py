"""Which case an inbound email belongs to.

In this order, first match wins:

1. A Message-ID it answers (In-Reply-To, then References, newest first) is one
   we sent (`OutboundEmail.message_id`) or one we received on a case
   (`Message.external_id`): our ids are random and unguessable, so whoever
   quotes them is in the conversation.
2. A case token: `[CL-10234]` in the subject, or `support+CL-10234@…` in a
   recipient address. A token is easy to type, so it threads only mail from
   someone already on that case (the requester, a participant, or a contact
   of the case's organization); anyone else starts a new case. A staff member
   is on every case (staff see every case).
3. Otherwise: a new case.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.db.models.functions import Lower

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case, Message
from caseloop.channels.email.models import CaseParticipant, Mailbox, OutboundEmail
from caseloop.channels.email.parsing import ParsedEmail
from caseloop.core.fastdb import get_by, values_by
from caseloop.customers.models import Contact
from caseloop.customers.selectors import surviving_contact
from caseloop.identity.choices import STAFF_ROLES
from caseloop.identity.models import User


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    case: Case
    how: str  # "message_id" | "subject_token" | "address_token"


def case_token_pattern() -> re.Pattern[str]:
    prefix = re.escape(settings.CASELOOP_CASE_NUMBER_PREFIX)
    return re.compile(rf"\[{prefix}-(\d{{1,18}})\]", re.IGNORECASE)


def _address_token_pattern() -> re.Pattern[str]:
    prefix = re.escape(settings.CASELOOP_CASE_NUMBER_PREFIX)
    return re.compile(rf"^[^@+]+\+{prefix}-(\d{{1,18}})@", re.IGNORECASE)


def our_addresses(mailboxes: Sequence[Mailbox] | None = None, *, delivered_to: Sequence[str] = ()) -> frozenset[str]:
    """Every address of ours: the mailboxes (given, or read now), the default From address, and
    the addresses a message was delivered to (`delivered_to`, normalised by the caller: with no
    mailbox configured the SMTP server takes mail for any address, and whatever it took is ours)."""
    rows = mailboxes if mailboxes is not None else Mailbox.objects.only("address")
    addresses = {m.address for m in rows} | {a for a in delivered_to if a}
    default = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].strip().lower()
    if default:
        addresses.add(default)
    return frozenset(addresses)


def staff_by_address(addresses: Collection[str]) -> dict[str, User]:
    """The staff users (roles other than customer and partner) among these addresses, by
    lower-cased address: one query. Compared case-insensitively on the whole address (a user's
    email may have been stored with capitals by `createsuperuser` or the Django admin); a
    `+tag` is part of the address, as it is for contacts. A deactivated account counts too:
    someone on leave, or gone, was staff and is never to become a customer contact."""
    wanted = {a.strip().lower() for a in addresses if a and "@" in a}
    if not wanted:
        return {}
    rows = User.objects.annotate(address=Lower("email")).filter(address__in=wanted, role__in=list(STAFF_ROLES))
    found: dict[str, User] = {}
    for user in rows.order_by("id"):
        found.setdefault(user.email.strip().lower(), user)
    return found


def find_thread(
    *, parsed: ParsedEmail, recipients: Sequence[str], sender: Contact | User, sender_address: str
) -> ThreadMatch | None:
    by_id = _by_message_id(parsed.thread_ids)
    if by_id is not None:
        return ThreadMatch(case=by_id, how="message_id")
    for case_id, how in _tokens(parsed.subject, recipients):
        case = get_by(Case, id=case_id)
        if case is not None and _is_on_case(case, sender, sender_address):
            return ThreadMatch(case=case, how=how)
    return None


def _by_message_id(ids: Sequence[str]) -> Case | None:
    if not ids:
        return None
    # The nearest id (In-Reply-To) nearly always answers: two prepared unique-key reads
    # (core.fastdb). Only when it does not are the older References asked, all in two queries.
    nearest = ids[0]
    row = values_by(OutboundEmail, ["case_id"], message_id=nearest) or values_by(
        Message, ["case_id"], channel=Channel.EMAIL, external_id=nearest
    )
    if row is not None:
        return get_by(Case, id=row[0])
    older = ids[1:]
    if not older:
        return None
    ours = dict(OutboundEmail.objects.filter(message_id__in=older).values_list("message_id", "case_id"))
    received = dict(
        Message.objects.filter(channel=Channel.EMAIL, external_id__in=older).values_list("external_id", "case_id")
    )
    for ident in older:  # nearest first
        case_id = ours.get(ident) or received.get(ident)
        if case_id is not None:
            return get_by(Case, id=case_id)
    return None


def _tokens(subject: str, recipients: Sequence[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = [(int(m), "subject_token") for m in case_token_pattern().findall(subject)]
    pattern = _address_token_pattern()
    for address in recipients:
        match = pattern.match(parseaddr(address)[1].strip())
        if match:
            found.append((int(match.group(1)), "address_token"))
    return found


def _is_on_case(case: Case, sender: Contact | User, sender_address: str) -> bool:
    if isinstance(sender, User):
        return sender.is_staff_member
    sender = surviving_contact(sender)
    requester = surviving_contact(case.requester)
    if requester.pk == sender.pk:
        return True
    if case.organization_id is not None and sender.organization_id == case.organization_id:
        return True
    return CaseParticipant.objects.filter(case=case, address=sender_address).exists()
