"""Every write of the SMS channel: texts received, texts queued and sent, delivery states, STOP and START.

Inbound texts arrive through the provider's webhook (`views.inbound`) and are
filed like chat: the same number with an open phone or text case continues it
(`threads.open_case_for`), otherwise a new case is opened. Replies are queued
in the database when they are written and sent by a task after commit, through
the configured sender (`senders.get_sender`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from caseloop.cases.actions import MAX_BODY, MessageInput, add_message, create_case
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.phone.models import Call, PhoneLine
from caseloop.channels.phone.provider import url_for
from caseloop.channels.sms import tasks
from caseloop.channels.sms.choices import (
    PROVIDER_STATES,
    START_KEYWORDS,
    STATE_RANK,
    STOP_KEYWORDS,
    SmsDirection,
    SmsState,
)
from caseloop.channels.sms.models import SmsMessage, SmsOptOut
from caseloop.channels.sms.senders import OutgoingText, SendFailure, get_sender
from caseloop.channels.sms.threads import open_case_for
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.events import on_commit
from caseloop.customers.actions import find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.identities import normalise_identity
from caseloop.customers.models import ContactIdentity
from caseloop.customers.selectors import find_contact_by_identity
from caseloop.timeline.actions import record_event
from caseloop.timeline.choices import SubjectKind as S

logger = logging.getLogger(__name__)

MAX_TEXT = 1600  # what the provider joins into one message on the phone
RETRY_DELAYS = (30, 2 * 60, 10 * 60, 60 * 60)
CLAIM_TIMEOUT = dt.timedelta(minutes=5)


def normalise_number(raw: str) -> str | None:
    """A phone number in E.164, or None for what cannot be answered (withheld, short codes, sender names)."""
    try:
        return normalise_identity(IdentityKind.PHONE, raw)
    except DomainError:
        return None


# --- opt-out ------------------------------------------------------------------------------
def is_opted_out(number: str) -> bool:
    return SmsOptOut.objects.filter(number=number).exists()


def _keyword(body: str, opt_out_type: str) -> str:
    """ "STOP" or "START" when the text is an opt-out or opt-in keyword (or the provider says it is), else ""."""
    if opt_out_type.upper() in {"STOP", "START"}:
        return opt_out_type.upper()
    word = body.strip().strip(".!").upper()
    if word in STOP_KEYWORDS:
        return "STOP"
    if word in START_KEYWORDS:
        return "START"
    return ""


def _record_opt_change(*, number: str, keyword: str, word: str) -> None:
    now = clock.now()
    if keyword == "STOP":
        defaults = {"keyword": word[:20], "opted_out_at": now}
        _, created = SmsOptOut.objects.get_or_create(number=number, defaults=defaults)
        summary = f"{number} opted out of text messages ({word})"
    else:
        created = SmsOptOut.objects.filter(number=number).delete()[0] > 0
        summary = f"{number} opted in to text messages again ({word})"
    if not created:
        return
    contact = find_contact_by_identity(IdentityKind.PHONE, number)
    case = open_case_for(contact) if contact is not None else None
    record_event(kind="sms.opted_out" if keyword == "STOP" else "sms.opted_in",
                 subjects=[(S.CONTACT, contact.pk if contact else None), (S.CASE, case.pk if case else None)],
                 case_id=case.pk if case else None, summary=summary, occurred_at=now,
                 data={"number": number, "keyword": word})  # fmt: skip


# --- inbound ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SmsReceived:
    outcome: str  # "filed", "duplicate", "opted_out", "opted_in" or "ignored"
    sms: SmsMessage | None = None
    case: Case | None = None


def _inbound_text(body: str, media_urls: Sequence[str]) -> str:
    lines = [body.strip()] if body.strip() else []
    # pictures stay at the provider (fetching them needs the account's credentials); the links are kept
    lines += [f"[Picture: {url}]" for url in media_urls]
    text = "\n".join(lines) or "(empty text message)"
    if len(text) > MAX_BODY:
        # kept, cut to what a message holds, and saying so: refusing it would lose the whole text
        note = f"\n\n[This text was cut: it had {len(text):,} characters; the first ones are kept.]"
        text = text[: MAX_BODY - len(note)] + note
    return text


def receive_sms(
    *, sid: str, from_number: str, to_number: str, body: str, media_urls: Sequence[str] = (), opt_out_type: str = ""
) -> SmsReceived:
    """File one inbound text (idempotent on the provider's id).

    STOP (and the provider's other opt-out words) stops texts to that number
    until START; both are noted on the contact's timeline. Other texts become
    a message on the number's open phone/text case, or a new case.
    """
    body = body.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    number = normalise_number(from_number)
    if number is None:
        logger.warning("text %s from %r ignored: not a number that can be answered", sid, from_number)
        return SmsReceived(outcome="ignored")
    keyword = _keyword(body, opt_out_type)
    if keyword:
        with transaction.atomic():
            _record_opt_change(number=number, keyword=keyword, word=body.strip()[:20] or keyword)
        return SmsReceived(outcome="opted_out" if keyword == "STOP" else "opted_in")
    existing = SmsMessage.objects.filter(provider_sid=sid).select_related("case").first()
    if existing is not None:
        return SmsReceived(outcome="duplicate", sms=existing, case=existing.case)
    text = _inbound_text(body, media_urls)
    ours = normalise_number(to_number) or to_number.strip()
    line = PhoneLine.objects.filter(number=ours).select_related("team").first()
    now = clock.now()
    try:
        with transaction.atomic():
            # in the transaction: a text that fails to file leaves no contact behind
            contact = find_or_create_contact(actor=None, kind=IdentityKind.PHONE, value=number)
            case = open_case_for(contact)
            message_input = MessageInput(body_text=text, external_id=sid)
            if case is not None:
                added = add_message(actor=None, case=case, direction=Direction.INBOUND, body=message_input,
                                    channel=Channel.SMS, author_contact=contact, occurred_at=now)  # fmt: skip
                message, duplicate = added.message, added.duplicate
            else:
                first_line = body.strip().splitlines()[0][:80] if body.strip() else ""
                subject = first_line or f"Text message from {number}"
                created = create_case(actor=None, requester=contact, subject=subject,
                                      body=message_input, channel=Channel.SMS, team=line.team if line else None,
                                      opened_at=now)  # fmt: skip
                assert created.message is not None
                case, message, duplicate = created.case, created.message, created.duplicate
            if duplicate:
                raise _Duplicate
            sms = SmsMessage.objects.create(
                direction=SmsDirection.INBOUND, case=case, message=message, provider_sid=sid, from_number=number,
                to_number=ours, body=text, state=SmsState.RECEIVED, created_at=now, updated_at=now,
            )  # fmt: skip
    except (_Duplicate, IntegrityError):
        # the same text delivered twice at once: the other delivery filed it
        sms = SmsMessage.objects.select_related("case").get(provider_sid=sid)
        return SmsReceived(outcome="duplicate", sms=sms, case=sms.case)
    return SmsReceived(outcome="filed", sms=sms, case=case)


class _Duplicate(Exception):
    pass


# --- outbound ------------------------------------------------------------------------------
def _reply_numbers(case: Case) -> tuple[str, str]:
    """(the customer's number, our number) for a reply on `case`; "" where there is none.

    The conversation's own numbers first (the last text or call in), then the
    requester's phone and the configured sender.
    """
    from django.conf import settings

    last_text = (
        SmsMessage.objects.filter(case=case, direction=SmsDirection.INBOUND)
        .order_by("-id")
        .values_list("from_number", "to_number")
        .first()
    )
    last_call = (
        Call.objects.filter(case=case, direction="inbound", source="provider")
        .order_by("-id")
        .values_list("from_number", "to_number")
        .first()
    )
    theirs, ours = last_text or last_call or ("", "")
    if not theirs:
        theirs = (
            ContactIdentity.objects.filter(contact_id=case.requester_id, kind=IdentityKind.PHONE)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        ) or ""
    if not ours:
        ours = settings.CASELOOP_SMS_FROM_NUMBER or (
            PhoneLine.objects.filter(active=True).order_by("id").values_list("number", flat=True).first() or ""
        )
    return theirs, ours


def queue_sms_for_message(*, message_id: int) -> SmsMessage | None:
    """Queue the text of an outbound message (idempotent: one text per message).

    Not sendable at all (no number, opted out, too long) → the text is kept
    as suppressed or failed with the reason, and the case's timeline says so.
    """
    message = Message.objects.select_related("case").filter(pk=message_id).first()
    if message is None or message.direction != Direction.OUTBOUND:
        return None
    if message.channel not in (Channel.SMS, Channel.PHONE):
        return None
    existing = SmsMessage.objects.filter(message=message).first()
    if existing is not None:
        return existing
    case = message.case
    theirs, ours = _reply_numbers(case)
    state, error = SmsState.QUEUED, ""
    if not theirs:
        state, error = SmsState.SUPPRESSED, f"{case.requester} has no phone number to text."
    elif not ours:
        state, error = SmsState.SUPPRESSED, "There is no number of ours to text from (add a phone line)."
    elif is_opted_out(theirs):
        state, error = SmsState.SUPPRESSED, f"{theirs} opted out of text messages (STOP)."
    elif len(message.body_text) > MAX_TEXT:
        state, error = SmsState.FAILED, f"A text message is at most {MAX_TEXT} characters."
    now = clock.now()
    try:
        with transaction.atomic():
            sms = SmsMessage.objects.create(
                direction=SmsDirection.OUTBOUND, case=case, message=message, from_number=ours, to_number=theirs,
                body=message.body_text, state=state, error=error, next_attempt_at=now, created_at=now, updated_at=now,
            )  # fmt: skip
            if state != SmsState.QUEUED:
                _note_failure(sms, error)
    except IntegrityError:
        return SmsMessage.objects.get(message=message)
    if state == SmsState.QUEUED:
        on_commit(tasks.enqueue_sending, sms.pk)
    return sms


def _note_failure(sms: SmsMessage, reason: str) -> None:
    record_event(kind="sms.not_sent", subjects=[(S.CASE, sms.case_id)], case_id=sms.case_id,
                 summary=f"Text to {sms.to_number or 'the customer'} not sent: {reason}"[:300],
                 data={"sms": sms.pk, "state": sms.state})  # fmt: skip


def send_sms(*, sms_id: int) -> SmsMessage:
    """Send one queued text now (the task's body). Safe to call twice: only one caller claims it.

    The provider is called outside any transaction. A STOP that arrived after
    the text was queued still stops it. Temporary failures retry after 30 s,
    2 min, 10 min and 1 h; a permanent one fails at once.
    """
    now = clock.now()
    claimable = Q(pk=sms_id) & (
        Q(state=SmsState.QUEUED, next_attempt_at__lte=now)
        | Q(state=SmsState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )
    claimed = SmsMessage.objects.filter(claimable).update(state=SmsState.SENDING, claimed_at=now,
                                                          attempts=F("attempts") + 1, updated_at=now)  # fmt: skip
    sms = SmsMessage.objects.get(pk=sms_id)
    if not claimed:
        return sms
    if is_opted_out(sms.to_number):
        return _finish(sms, SmsState.SUPPRESSED, f"{sms.to_number} opted out of text messages (STOP).")
    text = OutgoingText(to_number=sms.to_number, from_number=sms.from_number, body=sms.body,
                        status_callback=url_for("sms_channel:status"))  # fmt: skip
    try:
        accepted = get_sender().send(text)
    except SendFailure as failure:
        if failure.permanent or sms.attempts > len(RETRY_DELAYS):
            return _finish(sms, SmsState.FAILED, failure.detail, code=failure.code)
        retry_at = now + dt.timedelta(seconds=RETRY_DELAYS[sms.attempts - 1])
        SmsMessage.objects.filter(pk=sms.pk).update(state=SmsState.QUEUED, next_attempt_at=retry_at,
                                                    error=failure.detail[:2000], updated_at=now)  # fmt: skip
        on_commit(tasks.enqueue_sending, sms.pk, retry_at)
        sms.refresh_from_db()
        return sms
    SmsMessage.objects.filter(pk=sms.pk).update(state=SmsState.SENT, provider_sid=accepted.sid, error="",
                                                updated_at=clock.now())  # fmt: skip
    sms.refresh_from_db()
    return sms


def _finish(sms: SmsMessage, state: SmsState, error: str, *, code: str = "") -> SmsMessage:
    with transaction.atomic():
        SmsMessage.objects.filter(pk=sms.pk).update(state=state, error=error[:2000], error_code=code[:20],
                                                    updated_at=clock.now())  # fmt: skip
        sms.refresh_from_db()
        _note_failure(sms, error)
    return sms


def record_status(*, sid: str, status: str, error_code: str = "") -> SmsMessage | None:
    """A provider's status callback: move the text's delivery state forward (never back).

    Unknown ids are answered and ignored (a text sent by another system on
    the same account). Undelivered and failed texts are noted on the timeline.
    """
    state = PROVIDER_STATES.get(status.strip().lower())
    sms = SmsMessage.objects.filter(provider_sid=sid, direction=SmsDirection.OUTBOUND).first() if sid else None
    if sms is None or state is None:
        return sms
    if STATE_RANK[SmsState(sms.state)] >= STATE_RANK[state]:
        return sms
    with transaction.atomic():
        moved = SmsMessage.objects.filter(pk=sms.pk, state=sms.state).update(
            state=state, error_code=error_code[:20], updated_at=clock.now()
        )
        sms.refresh_from_db()
        if moved and state in (SmsState.UNDELIVERED, SmsState.FAILED):
            _note_failure(sms, f"the provider reports {status}" + (f" (error {error_code})" if error_code else ""))
    return sms
