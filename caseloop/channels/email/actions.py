"""Every write of the email channel: receiving, processing, quarantine, participants and sending.

The inbound path is two steps with a commit between them:

1. `receive_email` stores the raw bytes (one INSERT, committed) and nothing
   else, so that whatever happens next the message is on disk. The same bytes
   delivered twice are one row (unique SHA-256).
2. `process_inbound` parses it and turns it into case actions in one
   transaction: a new case, a message on an existing case, a note (for an
   auto-reply), or a deliberate "ignored" with the reason (a duplicate, a
   loop, a bounce). When anything fails the transaction rolls back and the
   row is quarantined with the reason, for an administrator to re-process.

Outbound mail is queued as an `OutboundEmail` in the transaction that makes
the reply, and sent by a task after commit, with retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.attachments import MAX_ATTACHMENT_BYTES, AttachmentInput
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.email import tasks
from caseloop.channels.email.choices import (
    AutoKind,
    InboundReason,
    InboundSource,
    InboundState,
    OutboundKind,
    OutboundState,
    ParticipantRole,
)
from caseloop.channels.email.errors import EmailError, EmailErrorCode
from caseloop.channels.email.models import (
    CaseEmail,
    CaseParticipant,
    DisplayBody,
    InboundEmail,
    Mailbox,
    OutboundEmail,
    OutboundRateWindow,
)
from caseloop.channels.email.parsing import (
    ParsedAttachment,
    ParsedEmail,
    UnparseableEmail,
    forwarded_sender,
    parse_email,
    peek_message_id,
)
from caseloop.channels.email.threads import case_token_pattern, find_thread, our_addresses, staff_by_address
from caseloop.core import clock
from caseloop.core.errors import DomainError, Invalid
from caseloop.core.events import on_commit
from caseloop.core.fastdb import all_rows, get_by, insert, update, values_by
from caseloop.core.secretbox import SecretUnreadable, reseal, seal
from caseloop.customers.actions import IdentityInput, create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.errors import CustomerError, CustomerErrorCode
from caseloop.customers.identities import normalise_identity
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.customers.selectors import find_contact_by_identity, organization_of_domain, surviving_contact
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S
from caseloop.timeline.models import TimelineEvent

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 40 * 1024 * 1024
NO_SUBJECT = "(no subject)"
MAX_SUBJECT = 300


def max_message_bytes() -> int:
    return int(getattr(settings, "CASELOOP_EMAIL_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- mailboxes ------------------------------------------------------------------------------
MIN_POLL_SECONDS = 10
MAX_POLL_SECONDS = 24 * 3600
# what the audit log records of a mailbox (never the password: only that it changed)
_AUDITED = ("address", "name", "team_id", "acknowledge", "active", "imap_host", "imap_port", "imap_username",
            "imap_folder", "imap_archive_folder", "poll_seconds")  # fmt: skip


def _clean_mailbox(
    *,
    address: str,
    imap_host: str,
    imap_port: int,
    imap_username: str,
    poll_seconds: int | None,
    exclude: Mailbox | None = None,
) -> str:
    """Check a mailbox's settings; returns the normalised address."""
    normalised = address.strip().lower()
    local, _, domain = normalised.partition("@")
    if not local or not domain or "+" in local or " " in normalised or "@" in domain:
        raise EmailError(EmailErrorCode.BAD_ADDRESS, f"{address!r} is not a mailbox address.", field="address")
    taken = Mailbox.objects.filter(address=normalised)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise EmailError(EmailErrorCode.MAILBOX_EXISTS, f"{normalised} is already a mailbox.", status=409,
                         field="address")  # fmt: skip
    if not 1 <= imap_port <= 65535:
        raise Invalid("The IMAP port is a number from 1 to 65535 (993 for IMAPS).", field="imap_port")
    if bool(imap_host.strip()) != bool(imap_username.strip()):
        raise Invalid("IMAP needs both a server and a user name (or neither, to receive by SMTP only).",
                      field="imap_host" if not imap_host.strip() else "imap_username")  # fmt: skip
    if poll_seconds is not None and not MIN_POLL_SECONDS <= poll_seconds <= MAX_POLL_SECONDS:
        raise Invalid(f"Poll every {MIN_POLL_SECONDS} seconds to {MAX_POLL_SECONDS // 3600} hours.",
                      field="poll_seconds")  # fmt: skip
    return normalised


def _audited(mailbox: Mailbox) -> dict[str, object]:
    return {name: getattr(mailbox, name) for name in _AUDITED}


def create_mailbox(
    *,
    actor: User | None,
    address: str,
    name: str = "",
    team: Team | None = None,
    acknowledge: bool = True,
    imap_host: str = "",
    imap_port: int = 993,
    imap_username: str = "",
    imap_password: str = "",
    imap_folder: str = "INBOX",
    imap_archive_folder: str = "",
    poll_seconds: int | None = None,
) -> Mailbox:
    """Add a support address (administrators only). The IMAP password is stored sealed."""
    require_role(actor, Role.ADMIN)
    normalised = _clean_mailbox(address=address, imap_host=imap_host, imap_port=imap_port,
                                imap_username=imap_username, poll_seconds=poll_seconds)  # fmt: skip
    with transaction.atomic():
        mailbox = Mailbox.objects.create(
            address=normalised, name=name.strip(), team=team, acknowledge=acknowledge, imap_host=imap_host.strip(),
            imap_port=imap_port, imap_username=imap_username.strip(), imap_password_sealed=seal(imap_password),
            imap_folder=imap_folder.strip() or "INBOX", imap_archive_folder=imap_archive_folder.strip(),
            poll_seconds=poll_seconds,
        )  # fmt: skip
        record_audit(action="mailbox.create", object_type="mailbox", object_id=mailbox.pk, actor=actor,
                     after={**_audited(mailbox), "imap_password": "set" if imap_password else ""})  # fmt: skip
    return mailbox


def update_mailbox(
    *,
    actor: User | None,
    mailbox: Mailbox,
    address: str,
    name: str,
    team: Team | None,
    acknowledge: bool,
    imap_host: str,
    imap_port: int,
    imap_username: str,
    imap_folder: str,
    imap_archive_folder: str,
    poll_seconds: int | None,
    imap_password: str | None = None,
    clear_imap_password: bool = False,
) -> Mailbox:
    """Change a mailbox's settings (administrators only): every field as the edit form shows it.

    `imap_password` None keeps the stored password (the form never shows it),
    a value replaces it; `clear_imap_password` removes it. Pointing IMAP at
    another server, user or folder starts fetching that folder from its
    beginning (mail already stored is recognised by its digest).
    """
    require_role(actor, Role.ADMIN)
    normalised = _clean_mailbox(address=address, imap_host=imap_host, imap_port=imap_port,
                                imap_username=imap_username, poll_seconds=poll_seconds, exclude=mailbox)  # fmt: skip
    with transaction.atomic():
        current = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        before = _audited(current)
        where = (current.imap_host, current.imap_username, current.imap_folder)
        current.address, current.name, current.team, current.acknowledge = normalised, name.strip(), team, acknowledge
        current.imap_host, current.imap_port = imap_host.strip(), imap_port
        current.imap_username, current.imap_folder = imap_username.strip(), imap_folder.strip() or "INBOX"
        current.imap_archive_folder, current.poll_seconds = imap_archive_folder.strip(), poll_seconds
        password = "removed" if clear_imap_password else "changed" if imap_password else ""
        if password:
            current.imap_password_sealed = "" if clear_imap_password else seal(imap_password or "")
        if (current.imap_host, current.imap_username, current.imap_folder) != where:
            current.imap_uidvalidity, current.imap_last_uid = None, 0
        if password or current.imap_host != where[0] or current.imap_username != where[1]:
            current.imap_last_error = ""  # the error was about the old settings
        current.save()
        after = _audited(current)
        changed = {k for k in after if after[k] != before[k]}
        if changed or password:
            record_audit(action="mailbox.update", object_type="mailbox", object_id=current.pk, actor=actor,
                         before={k: before[k] for k in sorted(changed)},
                         after={**{k: after[k] for k in sorted(changed)},
                                **({"imap_password": password} if password else {})})  # fmt: skip
    return current


def set_mailbox_active(*, actor: User | None, mailbox: Mailbox, active: bool) -> Mailbox:
    """Disable a mailbox (no more mail is accepted or fetched for it; its cases keep it) or enable it again."""
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        changed = Mailbox.objects.filter(pk=mailbox.pk).exclude(active=active).update(active=active)
        if changed:
            record_audit(action="mailbox.enable" if active else "mailbox.disable", object_type="mailbox",
                         object_id=mailbox.pk, actor=actor, before={"active": not active},
                         after={"active": active})  # fmt: skip
    mailbox.active = active
    return mailbox


@dataclass(frozen=True, slots=True)
class Resealed:
    resealed: int
    unreadable: list[str]  # addresses whose password no configured key opens: enter it again


def reseal_mailbox_passwords(*, actor: User | None) -> Resealed:
    """Seal every stored IMAP password with the current (first) key: the step of a key rotation."""
    require_role(actor, Role.ADMIN)
    resealed, unreadable = 0, []
    for mailbox in Mailbox.objects.exclude(imap_password_sealed="").order_by("id"):
        try:
            sealed = reseal(mailbox.imap_password_sealed)
        except SecretUnreadable:
            unreadable.append(mailbox.address)
            continue
        # conditional: a password changed meanwhile in the admin page is already sealed with the new key
        resealed += Mailbox.objects.filter(pk=mailbox.pk, imap_password_sealed=mailbox.imap_password_sealed).update(
            imap_password_sealed=sealed
        )
    if resealed:
        record_audit(action="mailbox.rekey", object_type="mailbox", object_id=0, actor=actor,
                     after={"resealed": resealed, "unreadable": unreadable})  # fmt: skip
    return Resealed(resealed=resealed, unreadable=unreadable)


def record_imap_progress(*, mailbox: Mailbox, uidvalidity: int, last_uid: int, error: str = "") -> None:
    """Remember how far fetchmail got in a mailbox (called after each message is stored)."""
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_uidvalidity=uidvalidity, imap_last_uid=last_uid, imap_last_polled_at=clock.now(), imap_last_error=error
    )
    mailbox.imap_uidvalidity, mailbox.imap_last_uid, mailbox.imap_last_error = uidvalidity, last_uid, error


def record_imap_error(*, mailbox: Mailbox, error: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_error=error[:2000], imap_last_polled_at=clock.now())
    mailbox.imap_last_error = error[:2000]


def all_mailboxes() -> list[Mailbox]:
    """Every mailbox, active or not: a handful of rows, read with one prepared statement.

    Read afresh for each message rather than cached in the process, so a
    mailbox an administrator adds or disables counts from the next message on,
    in every smtpd, fetchmail and worker process.
    """
    return all_rows(Mailbox)


def mailbox_for(addresses: Sequence[str], mailboxes: Sequence[Mailbox] | None = None) -> Mailbox | None:
    """The active mailbox among these recipient addresses (plus-tags ignored), if any."""
    bases = [_base_address(a) for a in addresses if a]
    if not bases:
        return None
    found = {m.address: m for m in (all_mailboxes() if mailboxes is None else mailboxes) if m.active}
    return next((found[b] for b in bases if b in found), None)


def accepts_recipient(address: str) -> bool:
    """Whether the SMTP server takes mail for `address`: any configured mailbox (with or
    without a +tag), or any address at all while no mailbox is configured."""
    active = {m.address for m in all_mailboxes() if m.active}
    return not active or _base_address(address) in active


_BARE_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def _base_address(address: str) -> str:
    """`Support <Support+CL-12@Example.com>` → `support@example.com`."""
    address = address.strip()
    # a bare address (what envelopes and parsed headers hold) needs no RFC 5322 parsing
    spec = address if _BARE_ADDRESS.fullmatch(address) else parseaddr(address)[1].strip()
    local, _, domain = spec.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if domain else ""


# --- step 1: store the raw bytes -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    inbound: InboundEmail
    created: bool  # False: these exact bytes were stored before; nothing was written


def receive_email(
    *,
    raw: bytes,
    source: InboundSource,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    mailbox: Mailbox | None = None,
) -> Received:
    """Store a message exactly as it arrived, in its own committed transaction.

    Call it outside any transaction: its commit is the promise that the
    message is kept ("250 OK" to an SMTP client, "\\Seen" to an IMAP server).
    Nothing is parsed here beyond a header-only peek at the Message-ID.
    """
    return _store(raw=raw, source=source, envelope_from=envelope_from, envelope_to=envelope_to,
                  mailbox=mailbox if mailbox is not None else mailbox_for(envelope_to))  # fmt: skip


def _store(
    *, raw: bytes, source: InboundSource, envelope_from: str, envelope_to: Sequence[str], mailbox: Mailbox | None
) -> Received:
    digest = hashlib.sha256(raw).hexdigest()
    inbound = InboundEmail(
        mailbox=mailbox, source=source, envelope_from=envelope_from[:998],
        envelope_to=[a[:254] for a in envelope_to][:100], message_id=peek_message_id(raw), sha256=digest,
        size=len(raw), raw=raw, received_at=clock.now(),
    )  # fmt: skip
    try:
        with transaction.atomic():
            insert(inbound)  # a prepared INSERT (core.fastdb)
    except IntegrityError:
        # The same bytes were stored before (a retried delivery; the unique SHA-256 says so):
        # that row is the one. Asking the unique index is cheaper than looking first.
        existing = get_by(InboundEmail, sha256=digest)  # a prepared unique-key read
        if existing is None:
            raise
        return Received(inbound=existing, created=False)
    return Received(inbound=inbound, created=True)


def ingest_email(
    *,
    raw: bytes,
    source: InboundSource,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    mailbox: Mailbox | None = None,
    inline: bool = False,
) -> Received:
    """Store, then process now (`inline`) or through the task queue: the path of the SMTP server and fetchmail."""
    mailboxes = all_mailboxes()  # read once for both steps of an inline message
    received = _store(raw=raw, source=source, envelope_from=envelope_from, envelope_to=envelope_to,
                      mailbox=mailbox if mailbox is not None else mailbox_for(envelope_to, mailboxes))  # fmt: skip
    if not received.created or received.inbound.state != InboundState.RECEIVED:
        return received
    if inline:
        # the row and its bytes are in hand: file them without reading them back
        return Received(inbound=_process(received.inbound, mailboxes), created=True)
    on_commit(tasks.enqueue_processing, received.inbound.pk)
    return received


def process_pending(*, older_than: dt.timedelta = dt.timedelta(minutes=5), limit: int = 500) -> int:
    """Process rows left in "received" (a crash between storing and processing); returns how many."""
    cutoff = clock.now() - older_than
    ids = list(
        InboundEmail.objects.filter(state=InboundState.RECEIVED, received_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for inbound_id in ids:
        process_inbound(inbound_id=inbound_id)
    return len(ids)


# --- step 2: parse and turn into case actions ------------------------------------------------
def process_inbound(*, inbound_id: int) -> InboundEmail:
    """Turn a stored message into case actions, or quarantine it with the reason. Idempotent.

    A database that cannot be reached (DatabaseError outside our own writes'
    integrity checks) is raised, not quarantined: the row stays "received" and
    the task is retried, or `process_pending` picks it up.
    """
    inbound = get_by(InboundEmail, id=inbound_id)
    if inbound is None:
        raise InboundEmail.DoesNotExist(f"Inbound email {inbound_id} does not exist.")
    return _process(inbound, all_mailboxes())


# how far back a chain of stored-but-unfiled messages is filed first (each link one reply)
MAX_PARENTS_FIRST = 5


def _file_parents_first(inbound: InboundEmail, parsed: ParsedEmail, mailboxes: Sequence[Mailbox], depth: int) -> None:
    """File the stored-but-unfiled messages this one answers, before it.

    Several workers file the queue at once, and two SMTP connections may hand
    over a reply and the message it answers together: a reply filed first
    would open a new case instead of joining its conversation. The message it
    names in In-Reply-To (or the nearest References) is filed first when it is
    stored and still waiting; a message is claimed only once, so a worker
    racing for the same parent files it once. One prepared, indexed read per
    threaded message; nothing when the parent is filed already.
    """
    if depth >= MAX_PARENTS_FIRST:
        return
    for ident in parsed.thread_ids[:3]:
        row = values_by(InboundEmail, ["id"], message_id=ident, state=InboundState.RECEIVED)
        if row is not None and row[0] != inbound.pk:
            parent = get_by(InboundEmail, id=row[0])
            if parent is not None:
                _process(parent, mailboxes, depth=depth + 1)
            return


def _process(inbound: InboundEmail, mailboxes: Sequence[Mailbox], *, depth: int = 0) -> InboundEmail:
    """`process_inbound` for a row already read (or just stored).

    One transaction per message, so a failure loses nothing but that
    message's filing. The row is claimed at the end by a compare-and-set
    UPDATE (state still "received"): if another worker filed it meanwhile,
    nothing changes and this whole transaction rolls back, so a message is
    never filed twice. On SQLite no one else can write meanwhile (the
    IMMEDIATE transaction holds the write lock from its start).
    """
    if inbound.state != InboundState.RECEIVED:
        return inbound
    try:
        parsed = parse_email(bytes(inbound.raw))
    except UnparseableEmail as exc:
        return _set_outcome(inbound, InboundState.QUARANTINED, InboundReason.UNPARSEABLE, exc.message)
    inbound.from_address = parsed.from_address[:254]
    inbound.subject = parsed.subject[:300]
    inbound.auto_kind = parsed.auto_kind
    if inbound.size > max_message_bytes():
        return _set_outcome(inbound, InboundState.QUARANTINED, InboundReason.TOO_LARGE,
                            f"{inbound.size} bytes; the limit is {max_message_bytes()}.")  # fmt: skip
    if parsed.thread_ids:
        _file_parents_first(inbound, parsed, mailboxes, depth)
    inbound_id = inbound.pk
    try:
        with transaction.atomic():
            _route(inbound, parsed, mailboxes)
            inbound.processed_at = clock.now()
            claimed = update(inbound, ["state", "reason_code", "reason", "processed_at", "from_address", "subject",
                                       "auto_kind", "case", "case_message"], increment={"attempts": 1},
                             where={"state": InboundState.RECEIVED})  # fmt: skip
            if not claimed:
                raise _FiledElsewhere
        inbound.attempts += 1
        return inbound
    except _FiledElsewhere:
        return InboundEmail.objects.defer("raw").get(pk=inbound_id)
    except _Refused as refusal:
        return _set_outcome(inbound, InboundState.QUARANTINED, refusal.reason, refusal.detail)
    except DomainError as exc:
        return _set_outcome(inbound, InboundState.QUARANTINED, InboundReason.REJECTED, f"{exc.code}: {exc.message}")
    except DatabaseError as exc:
        if not isinstance(exc, IntegrityError):
            raise
        logger.exception("inbound email %s violated a constraint", inbound_id)
        return _set_outcome(inbound, InboundState.QUARANTINED, InboundReason.INTERNAL_ERROR,
                            f"{type(exc).__name__}: {exc}")  # fmt: skip
    except Exception as exc:
        # a bug must not lose the message: it waits in quarantine with the error
        logger.exception("processing inbound email %s failed", inbound_id)
        return _set_outcome(inbound, InboundState.QUARANTINED, InboundReason.INTERNAL_ERROR,
                            f"{type(exc).__name__}: {exc}")  # fmt: skip


class _FiledElsewhere(Exception):
    """Another worker filed the message while this one worked on it: roll back, keep theirs."""


class _Refused(Exception):
    """Raised inside the processing transaction to roll it back and quarantine."""

    def __init__(self, reason: InboundReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _set_outcome(inbound: InboundEmail, state: InboundState, reason: InboundReason, detail: str) -> InboundEmail:
    """Quarantine (or ignore) a row still "received", outside any filing transaction."""
    now = clock.now()
    InboundEmail.objects.filter(pk=inbound.pk, state=InboundState.RECEIVED).update(
        state=state, reason_code=reason, reason=detail[:5000], attempts=F("attempts") + 1, processed_at=now,
        from_address=inbound.from_address, subject=inbound.subject, auto_kind=inbound.auto_kind,
    )  # fmt: skip
    inbound.refresh_from_db()
    if state == InboundState.QUARANTINED:
        logger.warning("inbound email %s quarantined: %s: %s", inbound.pk, reason, detail)
    return inbound


def _ignore(inbound: InboundEmail, reason: InboundReason, detail: str) -> None:
    inbound.state, inbound.reason_code, inbound.reason = InboundState.IGNORED, reason, detail[:5000]


def _route(inbound: InboundEmail, parsed: ParsedEmail, mailboxes: Sequence[Mailbox]) -> None:
    """Decide what the message is and apply it; sets the row's state, case and message."""
    sender = parsed.from_address or _envelope_sender(inbound)
    if not sender:
        raise _Refused(InboundReason.NO_SENDER, "The message has no From address (nor an envelope sender).")
    ours = our_addresses(mailboxes, delivered_to=[_base_address(a) for a in inbound.envelope_to])
    if sender in ours or _base_address(sender) in ours:
        _ignore(inbound, InboundReason.LOOP, f"From {sender}, one of our own addresses.")
        return
    if parsed.auto_kind == AutoKind.BOUNCE:
        _handle_bounce(inbound, parsed)
        return
    duplicate = values_by(Message, ["id", "case_id"], channel=Channel.EMAIL, external_id=parsed.message_id)
    if duplicate is not None:
        inbound.case_id, inbound.case_message_id = duplicate[1], duplicate[0]
        _ignore(inbound, InboundReason.DUPLICATE, f"Message-ID <{parsed.message_id}> is message {duplicate[0]}.")
        return
    recipients = [*inbound.envelope_to, *(a for _, a in parsed.to), *(a for _, a in parsed.cc)]
    mailbox = next((m for m in mailboxes if m.pk == inbound.mailbox_id), None) if inbound.mailbox_id else None
    mailbox = mailbox or mailbox_for(recipients, mailboxes)
    # one query: is the sender, or anyone copied, one of our staff (never a customer contact)
    staff = staff_by_address([sender, *(a for _, a in parsed.to), *(a for _, a in parsed.cc)])
    if sender in staff:
        _file_from_staff(inbound, parsed, author=staff[sender], sender=sender, recipients=recipients,
                         mailbox=mailbox, ours=ours, staff=staff)  # fmt: skip
        return
    contact, failing = _sender_contact(sender, parsed.from_name)
    match = find_thread(parsed=parsed, recipients=recipients, sender=contact, sender_address=sender)
    body = _message_input(parsed)
    case: Case | None = match.case if match is not None else None
    message: Message | None = None
    opened = False
    if case is not None and case.status == CaseStatus.CLOSED:
        # a closed case takes no more messages: this joins the follow-up already opened for it, or starts one
        case = _open_follow_up(case)
    if case is not None:
        direction = Direction.NOTE if parsed.auto_kind == AutoKind.AUTO_REPLY else Direction.INBOUND
        added = add_message(actor=None, case=case, direction=direction, body=body, channel=Channel.EMAIL,
                            author_contact=contact if direction == Direction.INBOUND else None,
                            occurred_at=inbound.received_at)  # fmt: skip
        message = added.message
    else:
        if parsed.auto_kind == AutoKind.AUTO_REPLY:
            _ignore(inbound, InboundReason.UNTHREADED_AUTO_REPLY,
                    f"An automatic reply from {sender} that answers no case we know.")  # fmt: skip
            return
        created = create_case(
            actor=None, requester=contact, subject=_case_subject(parsed.subject), body=body, channel=Channel.EMAIL,
            team=_team_of(mailbox), opened_at=inbound.received_at,
        )  # fmt: skip
        case, message, opened = created.case, created.message, True
        if match is not None:
            record_event(kind="case.follow_up", subjects=[(S.CASE, case.pk), (S.CASE, match.case.pk)], actor=None,
                         case_id=case.pk, summary=f"{case.number} follows up closed {match.case.number}",
                         data={"closed_case": match.case.pk})  # fmt: skip
        if parsed.auto_kind == AutoKind.NONE and _acknowledges(mailbox):
            _queue_acknowledgement(case=case, to_address=parsed.reply_to or sender, mailbox=mailbox, parsed=parsed)
    assert message is not None
    if parsed.display_text.strip() and parsed.display_text.strip() != message.body_text.strip():
        insert(DisplayBody(message=message, text=parsed.display_text))
    our_address = mailbox.address if mailbox is not None else _first_of_ours(recipients, ours)
    _remember_addresses(case=case, mailbox=mailbox, our_address=our_address, reply_address=parsed.reply_to or sender,
                        new_case=opened)  # fmt: skip
    if parsed.auto_kind == AutoKind.NONE:
        if failing:
            _clear_failing(sender)
        _copy_participants(case=case, parsed=parsed, sender=sender, ours=ours, staff=staff)
    inbound.state, inbound.reason_code, inbound.reason = InboundState.PROCESSED, "", ""
    inbound.case, inbound.case_message = case, message


def _copy_participants(
    *, case: Case, parsed: ParsedEmail, sender: str, ours: frozenset[str], staff: Collection[str]
) -> None:
    """The people in To/Cc, kept on the case: not the sender, not our addresses, not staff (who get no contact)."""
    others = [(n, a) for n, a in parsed.cc] + [(n, a) for n, a in parsed.to]
    people = [(n, a) for n, a in others
              if a != sender and a not in staff and a not in ours and _base_address(a) not in ours]  # fmt: skip
    if people:
        add_participants(actor=None, case=case, people=people, exclude=case.requester)


def _file_from_staff(
    inbound: InboundEmail,
    parsed: ParsedEmail,
    *,
    author: User,
    sender: str,
    recipients: Sequence[str],
    mailbox: Mailbox | None,
    ours: frozenset[str],
    staff: Collection[str],
) -> None:
    """Mail from a staff member's own address (Reply-All or a forward from their mail client): theirs.

    It is filed as an internal note by that user, never as a customer's message:
    it does not reopen the case, stop or start an SLA clock, set the first
    response, get an acknowledgement, change where the case's replies go, or
    make a contact of the staff address. On a case it answers (Message-ID, or
    a case token: staff are on every case), it is a note there, or on the
    closed case's open follow-up. Answering no case, it opens one only when it
    forwards a customer's mail whose sender it shows cleanly (`forwarded_sender`):
    that customer is the requester (found or created), the email the staff
    member's note, and nobody is acknowledged. Anything else (no forwarded
    customer, a closed case without an open follow-up) is quarantined
    (`from_staff`) for a person to look at: a case needs a real requester, and a
    staff member is never one.
    """
    match = find_thread(parsed=parsed, recipients=recipients, sender=author, sender_address=sender)
    case: Case | None = match.case if match is not None else None
    if case is not None and case.status == CaseStatus.CLOSED:
        case = _open_follow_up(case)
        if case is None:
            assert match is not None
            raise _Refused(InboundReason.FROM_STAFF, f"From staff member {author.name} ({sender}), on "
                           f"{match.case.number}, which is closed and has no open follow-up.")  # fmt: skip
    customer: tuple[str, str] | None = None
    if case is None:
        if parsed.auto_kind == AutoKind.AUTO_REPLY:
            _ignore(inbound, InboundReason.UNTHREADED_AUTO_REPLY,
                    f"An automatic reply from {sender} that answers no case we know.")  # fmt: skip
            return
        customer = forwarded_sender(parsed.text)
        if customer is not None and (customer[1] in ours or _base_address(customer[1]) in ours
                                     or staff_by_address([customer[1]])):  # fmt: skip
            customer = None
        if customer is None:
            raise _Refused(InboundReason.FROM_STAFF, f"From staff member {author.name} ({sender}): it answers no "
                           "case and forwards no customer's mail that shows its sender.")  # fmt: skip
        requester = _contact_for(customer[1], customer[0])
        case = create_case(actor=author, requester=requester, subject=_case_subject(_forwarded_subject(parsed.subject)),
                           body=None, channel=Channel.EMAIL, team=_team_of(mailbox),
                           opened_at=inbound.received_at).case  # fmt: skip
    message = add_message(actor=author, case=case, direction=Direction.NOTE, body=_message_input(parsed),
                          channel=Channel.EMAIL, occurred_at=inbound.received_at).message  # fmt: skip
    if parsed.display_text.strip() and parsed.display_text.strip() != message.body_text.strip():
        insert(DisplayBody(message=message, text=parsed.display_text))
    if customer is not None:  # a new case: replies go to the customer, from the mailbox it came in on
        our_address = mailbox.address if mailbox is not None else _first_of_ours(recipients, ours)
        _remember_addresses(case=case, mailbox=mailbox, our_address=our_address, reply_address=customer[1],
                            new_case=True)  # fmt: skip
    if parsed.auto_kind == AutoKind.NONE:
        _copy_participants(case=case, parsed=parsed, sender=sender, ours=ours, staff=staff)
    inbound.state, inbound.reason_code, inbound.reason = InboundState.PROCESSED, "", ""
    inbound.case, inbound.case_message = case, message


_FORWARD_PREFIX = re.compile(r"^\s*(?:(?:fwd?|wg|tr|rv)\s*:\s*)+", re.IGNORECASE)


def _forwarded_subject(subject: str) -> str:
    """A forward's subject without its "Fwd:" / "WG:" prefixes: the customer's subject."""
    return _FORWARD_PREFIX.sub("", subject) or subject


def _open_follow_up(closed: Case) -> Case | None:
    """The newest follow-up of a closed case that still takes messages (the `case.follow_up` event links them)."""
    follow_ups = (
        TimelineEvent.objects.filter(kind="case.follow_up", subject_kind=S.CASE, subject_id=closed.pk)
        .exclude(case_id=closed.pk)
        .order_by("-id")
        .values_list("case_id", flat=True)[:20]
    )
    ids = [i for i in follow_ups if i is not None]
    open_ones = {c.pk: c for c in Case.objects.filter(pk__in=ids).exclude(status=CaseStatus.CLOSED)}
    return next((open_ones[i] for i in ids if i in open_ones), None)


def _envelope_sender(inbound: InboundEmail) -> str:
    address = parseaddr(inbound.envelope_from)[1].strip().lower()
    return address if "@" in address else ""


def _first_of_ours(recipients: Sequence[str], ours: frozenset[str]) -> str:
    for address in recipients:
        base = _base_address(address)
        if base in ours:
            return base
    return _base_address(recipients[0]) if recipients else ""


def _case_subject(subject: str) -> str:
    subject = " ".join(subject.split()) or NO_SUBJECT
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


def _attachment_limit() -> int:
    return int(getattr(settings, "CASELOOP_MAX_ATTACHMENT_BYTES", MAX_ATTACHMENT_BYTES))


def _message_input(parsed: ParsedEmail) -> MessageInput:
    """The case message for a parsed email; an attachment over the limit is named, not kept
    (the raw message still holds it)."""
    kept: list[AttachmentInput] = []
    notes: list[str] = []
    limit = _attachment_limit()
    for item in parsed.attachments:
        if len(item.content) > limit:
            notes.append(f"[{item.filename} ({len(item.content)} bytes) is over the attachment limit; "
                         f"the original email keeps it.]")  # fmt: skip
            continue
        kept.append(_attachment_input(item))
    text = parsed.text
    if notes:
        text = "\n\n".join([text, *notes]) if text.strip() else "\n".join(notes)
    if not text.strip() and not kept:
        text = parsed.subject.strip() or NO_SUBJECT  # a subject-only email still says something
    return MessageInput(body_text=text, body_html=parsed.html, attachments=tuple(kept), external_id=parsed.message_id)


def _attachment_input(item: ParsedAttachment) -> AttachmentInput:
    return AttachmentInput(filename=item.filename, content=item.content, content_type=item.content_type,
                           inline=item.inline, content_id=item.content_id)  # fmt: skip


def default_team() -> Team | None:
    slug = getattr(settings, "CASELOOP_EMAIL_DEFAULT_TEAM", "")
    return Team.objects.filter(slug=slug).first() if slug else None


def _acknowledges(mailbox: Mailbox | None) -> bool:
    if mailbox is not None:
        return mailbox.acknowledge
    return bool(getattr(settings, "CASELOOP_EMAIL_ACKNOWLEDGE", True))


def _team_of(mailbox: Mailbox | None) -> Team | None:
    if mailbox is None:
        return default_team()
    return get_by(Team, id=mailbox.team_id) if mailbox.team_id is not None else None


def _sender_contact(address: str, name: str) -> tuple[Contact, bool]:
    """The sender's contact (created if new), and whether mail to that address was failing.

    What `find_contact_by_identity` does, keeping the identity row: its
    `failing_since` tells whether there is a bounce mark to clear, so most
    messages need no write for it.
    """
    try:
        value = normalise_identity(IdentityKind.EMAIL, address)
    except CustomerError as exc:
        raise _Refused(InboundReason.NO_SENDER, f"The sender {address!r} is not a usable address.") from exc
    identity = get_by(ContactIdentity, kind=str(IdentityKind.EMAIL), value=value)
    contact = get_by(Contact, id=identity.contact_id) if identity is not None else None
    if identity is None or contact is None:
        return _new_contact(address, name), False
    return surviving_contact(contact), identity.failing_since is not None


def _contact_for(address: str, name: str) -> Contact:
    """The contact an address belongs to, created (with the organization of its domain) if new."""
    try:
        found = find_contact_by_identity(IdentityKind.EMAIL, address)
    except CustomerError as exc:
        raise _Refused(InboundReason.NO_SENDER, f"The sender {address!r} is not a usable address.") from exc
    return found if found is not None else _new_contact(address, name)


def _new_contact(address: str, name: str) -> Contact:
    """A contact for an address nobody has, in the organization whose domain it is."""
    domain = address.rpartition("@")[2]
    organization = organization_of_domain(domain) if domain else None
    display = " ".join(name.split())[:200] or address.partition("@")[0]
    try:
        with transaction.atomic():
            return create_contact(actor=None, name=display, organization=organization,
                                  identities=[IdentityInput(IdentityKind.EMAIL, address, is_primary=True)])  # fmt: skip
    except CustomerError as exc:
        if exc.code != CustomerErrorCode.IDENTITY_TAKEN:
            raise _Refused(InboundReason.NO_SENDER, f"The sender {address!r} is not usable: {exc.message}") from exc
        winner = find_contact_by_identity(IdentityKind.EMAIL, address)  # created concurrently
        if winner is None:
            raise
        return winner


def _remember_addresses(
    *, case: Case, mailbox: Mailbox | None, our_address: str, reply_address: str, new_case: bool
) -> None:
    """Where the case's replies go: the address of its latest email (written only when it changed)."""
    reply_address = reply_address[:254]
    known = None if new_case else values_by(CaseEmail, ["id", "reply_address"], case_id=case.pk)
    if known is None:
        insert(CaseEmail(case=case, mailbox=mailbox, our_address=our_address[:254], reply_address=reply_address))
    elif known[1] != reply_address:
        update(CaseEmail(pk=known[0], case=case, reply_address=reply_address), ["reply_address"])


def _clear_failing(address: str) -> None:
    """Mail from an address shows it works again."""
    ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=address, failing_since__isnull=False).update(
        failing_since=None
    )


def _handle_bounce(inbound: InboundEmail, parsed: ParsedEmail) -> None:
    """A delivery failure of an email we sent: mark it bounced and its failed recipients failing.

    Anyone can send something that looks like a bounce, so only one that names
    an email we sent (its Message-ID in the returned headers, In-Reply-To or
    References: our ids are random and unguessable) is acted on, and only that
    email's recipients are marked. Any other bounce is stored, ignored and logged.
    """
    bounce = parsed.bounce
    failed = list(bounce.failed_recipients) if bounce is not None else []
    named = [bounce.original_message_id] if bounce is not None and bounce.original_message_id else []
    named += [i for i in parsed.thread_ids if i not in named]
    outbound = _bounced_outbound(named)
    if outbound is None:
        logger.info("inbound email %s: a bounce that names no email we sent; ignored", inbound.pk)
        _ignore(inbound, InboundReason.BOUNCE, f"Delivery failed for {', '.join(failed) or 'unknown recipients'}; "
                "it names no email we sent, so nothing was marked.")  # fmt: skip
        return
    recipients = {outbound.to_address.strip().lower(), *(str(a).strip().lower() for a in outbound.cc)}
    ours = [a for a in failed if a in recipients]
    others = [a for a in failed if a not in recipients]
    if failed and not ours:
        logger.info("inbound email %s: a bounce for %s, not recipients of outbound %s; ignored",
                    inbound.pk, ", ".join(failed), outbound.pk)  # fmt: skip
        _ignore(inbound, InboundReason.BOUNCE, f"Delivery failed for {', '.join(failed)}, none of them a recipient "
                f"of the email it names; nothing was marked.")  # fmt: skip
        return
    marked = mark_identities_failing(addresses=ours, since=clock.now())
    error = f"bounced: {', '.join(ours) or outbound.to_address}"[:2000]
    OutboundEmail.objects.filter(pk=outbound.pk).update(state=OutboundState.BOUNCED, last_error=error)
    inbound.case_id = outbound.case_id
    record_event(kind="email.bounced", subjects=[(S.CASE, outbound.case_id)], actor=None, case_id=outbound.case_id,
                 summary=f"Email to {outbound.to_address} bounced", data={"outbound": outbound.pk,
                                                                          "failed": ours})  # fmt: skip
    detail = f"Delivery failed for {', '.join(ours) or 'unknown recipients'}"
    if marked:
        detail += f"; marked failing: {', '.join(marked)}"
    if others:
        detail += f"; not recipients of that email, not marked: {', '.join(others)}"
    _ignore(inbound, InboundReason.BOUNCE, detail + ".")


def _bounced_outbound(ids: Sequence[str]) -> OutboundEmail | None:
    """The email we sent that a bounce names, the returned headers' Message-ID first."""
    if not ids:
        return None
    found = {o.message_id: o for o in OutboundEmail.objects.filter(message_id__in=list(ids)[:50])}
    return next((found[i] for i in ids if i in found), None)


def mark_identities_failing(*, addresses: Sequence[str], since: dt.datetime) -> list[str]:
    """Set `failing_since` on the email identities that bounced (kept when already set).

    This writes a customers row from the email channel because only the
    channel knows a bounce when it sees one; it touches nothing but that field.
    """
    normalised = sorted({a.strip().lower() for a in addresses if a.strip()})
    rows = list(ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value__in=normalised))
    for identity in rows:
        if identity.failing_since is None:
            ContactIdentity.objects.filter(pk=identity.pk, failing_since__isnull=True).update(failing_since=since)
            record_event(kind="contact.identity_failing", subjects=[(S.CONTACT, identity.contact_id)], actor=None,
                         summary=f"Mail to {identity.value} bounced", data={"identity": identity.value})  # fmt: skip
    return [r.value for r in rows]


# --- participants -------------------------------------------------------------------------
def add_participants(
    *,
    actor: User | None,
    case: Case,
    people: Sequence[tuple[str, str]],
    role: ParticipantRole = ParticipantRole.CC,
    exclude: Contact | None = None,
) -> list[CaseParticipant]:
    """Keep people copied on a case's mail on the case; returns those added now.

    Each (name, address) becomes or matches a contact. The requester, and
    anyone already on the case, is left as they are.
    """
    require_staff(actor)
    existing = set(CaseParticipant.objects.filter(case=case).values_list("address", flat=True))
    added: list[CaseParticipant] = []
    now = clock.now()
    for name, address in people:
        address = address.strip().lower()
        if not address or address in existing:
            continue
        try:
            contact = _contact_for(address, name)
        except _Refused:
            continue  # an unusable Cc address is skipped; the raw message keeps it
        if exclude is not None and contact.pk == exclude.pk:
            continue
        existing.add(address)
        if values_by(CaseParticipant, ["id"], case_id=case.pk, address=address) is not None:
            continue  # added meanwhile by another filer
        try:
            with transaction.atomic():  # prepared INSERT (core.fastdb); the unique (case, address) guards races
                added.append(insert(CaseParticipant(case=case, address=address, contact=contact, role=role,
                                                    added_at=now)))  # fmt: skip
        except IntegrityError:
            continue
    if added:
        names = ", ".join(p.address for p in added)
        record_event(kind="case.participants_added", subjects=[(S.CASE, case.pk)], actor=actor, case_id=case.pk,
                     summary=f"{names} copied on {case.number}",
                     data={"participants": [p.address for p in added]})  # fmt: skip
    return added


# --- quarantine -----------------------------------------------------------------------------
def reprocess_inbound(*, actor: User, inbound_id: int) -> InboundEmail:
    """An administrator sends a quarantined (or ignored) message through processing again."""
    require_role(actor, Role.ADMIN)
    inbound = InboundEmail.objects.defer("raw").filter(pk=inbound_id).first()
    if inbound is None:
        from caseloop.core.errors import NotFound

        raise NotFound("Inbound email", inbound_id)
    if inbound.state not in (InboundState.QUARANTINED, InboundState.IGNORED):
        raise EmailError(EmailErrorCode.NOT_REPROCESSABLE,
                         f"Inbound email {inbound_id} is {inbound.state}; only quarantined or ignored mail is "
                         "re-processed.", status=409)  # fmt: skip
    with transaction.atomic():
        reset = InboundEmail.objects.filter(pk=inbound_id, state=inbound.state).update(
            state=InboundState.RECEIVED, reason_code="", reason=""
        )
        if not reset:
            raise EmailError(EmailErrorCode.NOT_REPROCESSABLE, "Someone re-processed it just now.", status=409)
        record_audit(action="inbound_email.reprocess", object_type="inbound_email", object_id=inbound_id, actor=actor,
                     before={"state": inbound.state, "reason_code": inbound.reason_code})  # fmt: skip
    return process_inbound(inbound_id=inbound_id)


# --- outbound -------------------------------------------------------------------------------
def _new_message_id(domain: str) -> str:
    return make_msgid(domain=domain or "caseloop.invalid").strip("<>")


def _from_mailbox(case: Case) -> tuple[Mailbox | None, str]:
    """The mailbox a case's mail is sent from, and that address."""
    facts = CaseEmail.objects.filter(case=case).select_related("mailbox").first()
    if facts is not None and facts.mailbox is not None:
        return facts.mailbox, facts.mailbox.address
    if facts is not None and facts.our_address:
        return None, facts.our_address
    first = Mailbox.objects.filter(active=True).order_by("id").first()
    if first is not None:
        return first, first.address
    return None, parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()


def _thread_ids(case: Case) -> list[str]:
    """Message-IDs of the case's conversation, oldest first (for References)."""
    inbound = Message.objects.filter(case=case, channel=Channel.EMAIL, external_id__isnull=False).values_list(
        "id", "external_id"
    )
    outbound = OutboundEmail.objects.filter(case=case).values_list("case_message_id", "message_id")
    ordered = sorted([(i, mid) for i, mid in inbound if mid] + [(i or 0, mid) for i, mid in outbound])
    return [mid for _, mid in ordered if not mid.endswith("@synthetic.caseloop")]


def _reply_subject(case: Case) -> str:
    subject = case.subject if case.subject.lower().startswith("re:") else f"Re: {case.subject}"
    token = f"[{case.number}]"
    if not case_token_pattern().search(subject):
        subject = f"{subject} {token}"
    return subject[:400]


def _recipient_of(case: Case) -> str:
    facts = CaseEmail.objects.filter(case=case).first()
    if facts is not None and facts.reply_address:
        return facts.reply_address
    identity = (
        ContactIdentity.objects.filter(contact_id=case.requester_id, kind=IdentityKind.EMAIL)
        .order_by("-is_primary", "id")
        .first()
    )
    if identity is None:
        raise EmailError(EmailErrorCode.NO_RECIPIENT, f"{case.requester} has no email address.")
    return identity.value


def queue_outbound_for_message(
    *, message_id: int, channels: Collection[str] = (Channel.EMAIL,)
) -> OutboundEmail | None:
    """Queue an outbound email message for sending (idempotent: one OutboundEmail per message).

    Called in the transaction of a reply or, for replies written elsewhere,
    after their commit by the channel registry. The send task runs after commit.
    `channels`: the message channels emailed here; a channel with no delivery
    of its own (the web form, the portal) passes its kind, and its replies
    reach the customer by email.
    """
    message = Message.objects.select_related("case").filter(pk=message_id).first()
    if message is None or message.direction != Direction.OUTBOUND or message.channel not in channels:
        return None
    existing = OutboundEmail.objects.filter(case_message=message).first()
    if existing is not None:
        return existing
    case = message.case
    from_address = _from_mailbox(case)[1]
    ids = _thread_ids(case)
    cc = list(CaseParticipant.objects.filter(case=case).order_by("id").values_list("address", flat=True))
    now = clock.now()
    try:
        with transaction.atomic():
            outbound = OutboundEmail.objects.create(
                case=case, case_message=message, kind=OutboundKind.REPLY,
                message_id=_new_message_id(from_address.rpartition("@")[2]), from_address=from_address,
                to_address=_recipient_of(case), cc=cc[:50], subject=_reply_subject(case),
                in_reply_to=ids[-1] if ids else "", references=" ".join(f"<{i}>" for i in ids[-20:]),
                next_attempt_at=now, created_at=now,
            )  # fmt: skip
    except IntegrityError:
        return OutboundEmail.objects.get(case_message=message)
    on_commit(tasks.enqueue_sending, outbound.pk)
    return outbound


def reply_by_email(*, actor: User, case: Case, body: MessageInput) -> OutboundEmail:
    """A rep answers a case by email: the reply and its queued email commit together."""
    require_staff(actor)
    with transaction.atomic():
        added = add_message(actor=actor, case=case, direction=Direction.OUTBOUND, body=body, channel=Channel.EMAIL)
        outbound = queue_outbound_for_message(message_id=added.message.pk)
        assert outbound is not None
    return outbound


def queue_acknowledgement(*, case: Case, to_address: str) -> OutboundEmail:
    """Confirm by email a case opened on another channel (the web form).

    The subject carries the case token and the Reply-To routes an answer back,
    so replying to it continues the same case.
    """
    from_address = _from_mailbox(case)[1]
    now = clock.now()
    outbound = insert(OutboundEmail(
        case=case, kind=OutboundKind.ACKNOWLEDGEMENT, message_id=_new_message_id(from_address.rpartition("@")[2]),
        from_address=from_address, to_address=to_address, subject=_reply_subject(case), next_attempt_at=now,
        created_at=now,
    ))  # fmt: skip
    on_commit(tasks.enqueue_sending, outbound.pk)
    return outbound


def _queue_acknowledgement(*, case: Case, to_address: str, mailbox: Mailbox | None, parsed: ParsedEmail) -> None:
    from_address = mailbox.address if mailbox is not None else _from_mailbox(case)[1]
    now = clock.now()
    references = [*parsed.references, parsed.message_id] if not parsed.synthetic_id else list(parsed.references)
    outbound = insert(OutboundEmail(
        case=case, kind=OutboundKind.ACKNOWLEDGEMENT, message_id=_new_message_id(from_address.rpartition("@")[2]),
        from_address=from_address, to_address=to_address, subject=_reply_subject(case),
        in_reply_to="" if parsed.synthetic_id else parsed.message_id,
        references=" ".join(f"<{i}>" for i in references[-20:]), next_attempt_at=now, created_at=now,
    ))  # fmt: skip
    on_commit(tasks.enqueue_sending, outbound.pk)


def max_per_address_per_hour() -> int:
    return int(getattr(settings, "CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR", 5))


def take_rate_slot(*, address: str, now: dt.datetime | None = None) -> bool:
    """Count one email to `address` in this clock hour, unless the hour's limit is reached.

    One conditional UPDATE (count < limit) is the check and the increment, so
    two workers can never both take the last slot; the hour's first email
    inserts the row (a concurrent first insert is absorbed by the unique key).
    """
    moment = now or clock.now()
    window = moment.replace(minute=0, second=0, microsecond=0)
    limit = max_per_address_per_hour()
    address = address.strip().lower()
    rows = OutboundRateWindow.objects.filter(address=address, window_start=window)
    for _ in range(2):
        if rows.filter(count__lt=limit).update(count=F("count") + 1):
            return True
        if rows.exists():
            return False
        try:
            with transaction.atomic():
                OutboundRateWindow.objects.create(address=address, window_start=window, count=1)
            return limit > 0
        except IntegrityError:
            continue
    return False


RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def _max_attempts() -> int:
    return int(getattr(settings, "CASELOOP_EMAIL_SEND_ATTEMPTS", len(RETRY_DELAYS) + 1))


def send_outbound(*, outbound_id: int) -> OutboundEmail:
    """Send one queued email now (the task's body). Safe to call twice: only one caller claims it.

    The SMTP conversation happens outside any transaction. A temporary
    failure schedules a retry; a permanent one (5xx) fails at once; the
    per-address limit holds a reply to the next hour and drops an
    acknowledgement (sending it late would help nobody).
    """
    from caseloop.channels.email.outbound import SendFailure, send_now

    now = clock.now()
    claimable = OutboundEmail.objects.filter(pk=outbound_id, next_attempt_at__lte=now).filter(
        state=OutboundState.QUEUED
    ) | OutboundEmail.objects.filter(pk=outbound_id, state=OutboundState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    claimed = OutboundEmail.objects.filter(pk__in=claimable.values("pk")).update(
        state=OutboundState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    outbound = OutboundEmail.objects.select_related("case").get(pk=outbound_id)
    if not claimed:
        return outbound
    if not take_rate_slot(address=outbound.to_address, now=now):
        limit = max_per_address_per_hour()
        if outbound.kind == OutboundKind.ACKNOWLEDGEMENT:
            why = f"{outbound.to_address} already got {limit} emails this hour (loop protection)."
            return _finish(outbound, OutboundState.SUPPRESSED, why)
        next_hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        OutboundEmail.objects.filter(pk=outbound.pk).update(
            state=OutboundState.QUEUED, next_attempt_at=next_hour, attempts=F("attempts") - 1,
            last_error=f"held until {next_hour:%H:%M} UTC: {outbound.to_address} already got {limit} emails this hour",
        )  # fmt: skip
        on_commit(tasks.enqueue_sending, outbound.pk, next_hour)
        outbound.refresh_from_db()
        return outbound
    try:
        send_now(outbound)
    except SendFailure as failure:
        if failure.permanent or outbound.attempts >= _max_attempts():
            return _finish(outbound, OutboundState.FAILED, failure.detail)
        delay = RETRY_DELAYS[min(outbound.attempts - 1, len(RETRY_DELAYS) - 1)]
        retry_at = now + dt.timedelta(seconds=delay)
        OutboundEmail.objects.filter(pk=outbound.pk).update(state=OutboundState.QUEUED, next_attempt_at=retry_at,
                                                            last_error=failure.detail[:2000])  # fmt: skip
        on_commit(tasks.enqueue_sending, outbound.pk, retry_at)
        outbound.refresh_from_db()
        return outbound
    return _finish(outbound, OutboundState.SENT, "")


def send_due_outbound(*, limit: int = 200) -> int:
    """Send every queued email whose time has come (the sweep behind deferred retries); returns how many."""
    now = clock.now()
    stale = now - CLAIM_TIMEOUT
    due = OutboundEmail.objects.filter(state=OutboundState.QUEUED, next_attempt_at__lte=now)
    due |= OutboundEmail.objects.filter(state=OutboundState.SENDING, claimed_at__lt=stale)
    ids = list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    for outbound_id in ids:
        send_outbound(outbound_id=outbound_id)
    return len(ids)


def _finish(outbound: OutboundEmail, state: OutboundState, error: str) -> OutboundEmail:
    now = clock.now()
    with transaction.atomic():
        sent_at = now if state == OutboundState.SENT else None
        OutboundEmail.objects.filter(pk=outbound.pk).update(state=state, last_error=error[:2000], sent_at=sent_at)
        what = {OutboundState.SENT: "sent to", OutboundState.FAILED: "could not be sent to",
                OutboundState.SUPPRESSED: "not sent (loop protection) to"}[state]  # fmt: skip
        label = "Acknowledgement" if outbound.kind == OutboundKind.ACKNOWLEDGEMENT else "Reply"
        record_event(kind=f"email.{state}", subjects=[(S.CASE, outbound.case_id)], actor=None,
                     case_id=outbound.case_id, summary=f"{label} {what} {outbound.to_address}",
                     data={"outbound": outbound.pk, "message": outbound.case_message_id,
                           "error": error[:300]})  # fmt: skip
    outbound.refresh_from_db()
    return outbound
