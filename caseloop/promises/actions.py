"""Every write to the promise ledger: making, keeping, releasing and breaking promises, and notices.

Promises are made by hand (a rep: "I'll call you back by 15:00") and by other
domains (an approval request promises an answer by its due time; an SLA
promises a first response; a quote promises its price). They are kept by
events on their case (`keep_promises`, called from listeners and from the
domains that own the events), or by hand. The checker (`promises.checker`)
marks the overdue ones broken in set-based passes; `send_apologies` then tells
each customer, honestly, once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import Invalid, PermissionDenied
from caseloop.customers.models import Organization
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_staff
from caseloop.promises.choices import LIVE_STATES, NoticeKind, PromiseKind, PromiseState
from caseloop.promises.errors import PromiseError, PromiseErrorCode
from caseloop.promises.kinds import SPECS, kinds_kept_by
from caseloop.promises.models import Notice, Promise
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 300
# Channels an apology can go back on; a case opened elsewhere (API, internal) is answered by email.
_CUSTOMER_CHANNELS = {Channel.EMAIL, Channel.WEB, Channel.PORTAL, Channel.CHAT, Channel.SMS}


def _subjects(promise: Promise) -> list[tuple[S, int | None]]:
    return [(S.CASE, promise.case_id), (S.CONTACT, promise.contact_id)]


def owner_name(promise: Promise) -> str:
    if promise.owner_user is not None:
        return promise.owner_user.name
    if promise.owner_team is not None:
        return promise.owner_team.name
    if promise.owner_partner is not None:
        return promise.owner_partner.name
    return "our team"


@dataclass(frozen=True, slots=True)
class Owner:
    """Who keeps a promise: a person, a team or a partner (at least one)."""

    user: User | None = None
    team: Team | None = None
    partner: Organization | None = None

    @property
    def empty(self) -> bool:
        return self.user is None and self.team is None and self.partner is None


def make_promise(
    *,
    actor: User | None,
    case: Case,
    kind: PromiseKind,
    description: str,
    due_at: dt.datetime,
    owner: Owner | None = None,
    window_start: dt.datetime | None = None,
    source: str | None = None,
) -> Promise:
    """Record a promise to the case's requester; with `source`, making it again returns the first one.

    The owner defaults to the person making it (staff), else the case's
    assignee, else its team. A due time must be in the future and after the
    window's start; the description is what the customer was told.
    """
    require_staff(actor)
    description = " ".join(description.split())
    if not description:
        raise PromiseError(PromiseErrorCode.EMPTY_PROMISE, "Say what was promised.", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise PromiseError(
            PromiseErrorCode.EMPTY_PROMISE, f"A promise is at most {MAX_DESCRIPTION} characters.", field="description"
        )
    for name, moment in (("due_at", due_at), ("window_start", window_start)):
        if moment is not None and moment.tzinfo is None:
            raise PromiseError(PromiseErrorCode.BAD_DUE, f"{name} needs a time zone.", field=name)
    now = clock.now()
    if due_at <= now:
        raise PromiseError(PromiseErrorCode.BAD_DUE, "A promise is due in the future.", field="due_at")
    if window_start is not None and window_start > due_at:
        raise PromiseError(PromiseErrorCode.BAD_DUE, "A window starts before it ends.", field="window_start")
    if source is not None and (existing := Promise.objects.filter(source=source).first()):
        return existing
    if owner is None or owner.empty:
        if actor is not None:
            owner = Owner(user=actor)
        elif case.assignee_id is not None or case.team_id is not None:
            owner = Owner(user=case.assignee, team=case.team)
        else:
            raise PromiseError(
                PromiseErrorCode.NO_OWNER, "A promise needs an owner: a person, a team or a partner.", field="owner"
            )
    if owner.user is not None and not owner.user.is_staff_member:
        raise PromiseError(PromiseErrorCode.NO_OWNER, f"{owner.user} cannot own promises.", field="owner")
    try:
        with transaction.atomic():
            promise = Promise.objects.create(
                case=case,
                contact_id=case.requester_id,
                owner_user=owner.user,
                owner_team=owner.team,
                owner_partner=owner.partner,
                kind=kind,
                description=description,
                window_start=window_start,
                due_at=due_at,
                created_at=now,
                created_by=actor,
                source=source,
            )
            record_event(
                kind="promise.made",
                subjects=_subjects(promise),
                actor=actor,
                case_id=case.pk,
                summary=f"Promised: {description} (by {due_at:%Y-%m-%d %H:%M} UTC, {owner_name(promise)})",
                data={"promise": promise.pk, "kind": kind, "due_at": due_at},
            )
            after = {"kind": kind, "description": description, "due_at": due_at, "case": case.pk}
            record_audit(action="promise.make", object_type="promise", object_id=promise.pk, actor=actor, after=after)
    except IntegrityError:
        # the same automatic promise made concurrently: the first one stands
        if source is not None and (existing := Promise.objects.filter(source=source).first()):
            return existing
        raise
    return promise


def keep_promises(
    *, case_id: int, event: str, at: dt.datetime | None = None, actor: User | None = None, source: str | None = None
) -> list[int]:
    """Keep the live promises of this case that `event` keeps, if it happened in their window.

    `source` narrows it to the promise one thing made (the answer on one
    approval, not on another of the same case). Returns the ids kept. Cheap
    when nothing is owed: one indexed read.
    """
    kinds = kinds_kept_by(event)
    if not kinds:
        return []
    when = at or clock.now()
    window = Q(window_start__isnull=True) | Q(window_start__lte=when)
    owed = Promise.objects.filter(window, case_id=case_id, state__in=LIVE_STATES, kind__in=kinds, due_at__gte=when)
    if source is not None:
        owed = owed.filter(source=source)
    with transaction.atomic():
        rows = list(owed.select_for_update().values_list("id", "contact_id", "description"))
        if not rows:
            return []
        ids = [r[0] for r in rows]
        Promise.objects.filter(pk__in=ids, state__in=LIVE_STATES).update(
            state=PromiseState.KEPT, kept_at=when, kept_by=event
        )
        for promise_id, contact_id, description in rows:
            record_event(
                kind="promise.kept",
                subjects=[(S.CASE, case_id), (S.CONTACT, contact_id)],
                actor=actor,
                case_id=case_id,
                occurred_at=when,
                summary=f"Promise kept: {description}",
                data={"promise": promise_id, "by": event},
            )
    return ids


def _lock_live(promise: Promise) -> Promise:
    locked = Promise.objects.select_for_update().get(pk=promise.pk)
    if not locked.is_live:
        raise PromiseError(PromiseErrorCode.NOT_OPEN, f"This promise is already {locked.state}.", status=409)
    return locked


def _may_settle(actor: User, promise: Promise) -> None:
    require_staff(actor)
    if actor.role in ("manager", "admin") or promise.owner_user_id in (None, actor.pk):
        return
    raise PermissionDenied("Only its owner or a manager can settle someone else's promise.")


def mark_kept(*, actor: User, promise: Promise, note: str = "") -> Promise:
    """Record by hand that a promise was kept (what no event tells, e.g. a part posted)."""
    _may_settle(actor, promise)
    now = clock.now()
    with transaction.atomic():
        promise = _lock_live(promise)
        if now > promise.due_at:
            raise PromiseError(
                PromiseErrorCode.BAD_DUE, "It is past due: a late keeping is not a kept promise.", status=409
            )
        promise.state, promise.kept_at, promise.kept_by = PromiseState.KEPT, now, "hand"
        promise.save(update_fields=["state", "kept_at", "kept_by"])
        summary = f"Promise kept: {promise.description}" + (f" ({note.strip()[:150]})" if note.strip() else "")
        record_event(
            kind="promise.kept",
            subjects=_subjects(promise),
            actor=actor,
            case_id=promise.case_id,
            summary=summary,
            data={"promise": promise.pk, "by": "hand"},
        )
        record_audit(
            action="promise.keep",
            object_type="promise",
            object_id=promise.pk,
            actor=actor,
            after={"state": PromiseState.KEPT},
        )
    return promise


def release_promise(*, actor: User | None, promise: Promise, reason: str) -> Promise:
    """Let a promise go without keeping or breaking it (the customer no longer needs it), with a reason."""
    if actor is not None:
        _may_settle(actor, promise)
    reason = " ".join(reason.split())
    if not reason:
        raise PromiseError(PromiseErrorCode.REASON_REQUIRED, "Say why the promise is released.", field="reason")
    with transaction.atomic():
        promise = _lock_live(promise)
        promise.state, promise.released_at, promise.release_reason = PromiseState.RELEASED, clock.now(), reason[:500]
        promise.save(update_fields=["state", "released_at", "release_reason"])
        record_event(
            kind="promise.released",
            subjects=_subjects(promise),
            actor=actor,
            case_id=promise.case_id,
            summary=f"Promise released: {promise.description} ({reason[:150]})",
            data={"promise": promise.pk},
        )
        record_audit(
            action="promise.release",
            object_type="promise",
            object_id=promise.pk,
            actor=actor,
            after={"state": PromiseState.RELEASED, "reason": reason},
        )
    return promise


def break_promise(*, actor: User | None, promise: Promise, reason: str) -> Promise:
    """Record that we broke a promise before its due time (a quoted price withdrawn, a visit cancelled)."""
    reason = " ".join(reason.split())
    if not reason:
        raise PromiseError(PromiseErrorCode.REASON_REQUIRED, "Say why the promise is broken.", field="reason")
    with transaction.atomic():
        promise = _lock_live(promise)
        promise.state, promise.broken_at = PromiseState.BROKEN, clock.now()
        promise.apology_pending = bool(SPECS[promise.kind].apology)
        promise.save(update_fields=["state", "broken_at", "apology_pending"])
        record_event(
            kind="promise.broken",
            subjects=_subjects(promise),
            actor=actor,
            case_id=promise.case_id,
            summary=f"Promise broken: {promise.description} ({reason[:150]})",
            data={"promise": promise.pk},
        )
    return promise


# --- notices -------------------------------------------------------------------------------------------
def notify(
    *,
    recipients: Iterable[int],
    kind: NoticeKind,
    summary: str,
    case_id: int | None = None,
    promise_id: int | None = None,
    approval_id: int | None = None,
) -> int:
    """One notice per distinct recipient id; returns how many were written."""
    now = clock.now()
    rows = [
        Notice(
            recipient_id=r,
            kind=kind,
            summary=summary[:300],
            case_id=case_id,
            promise_id=promise_id,
            approval_id=approval_id,
            created_at=now,
        )
        for r in dict.fromkeys(recipients)
    ]
    Notice.objects.bulk_create(rows)
    return len(rows)


def mark_notices_read(*, actor: User, ids: Sequence[int] | None = None) -> int:
    """Mark the actor's notices read (these ids, or all of them)."""
    qs = Notice.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=clock.now())


# --- telling the customer about a broken promise ----------------------------------------------------
def _apology_text(promises: Sequence[Promise]) -> str:
    first = promises[0]
    name = first.contact.first_name or first.contact.name or "there"
    texts = []
    for promise in promises:
        template = SPECS[promise.kind].apology
        due = promise.due_at.astimezone(_zone(first.contact.time_zone))
        texts.append(
            template.format(
                name=name, promise=promise.description, due=f"{due:%d %b, %H:%M}", owner=owner_name(promise)
            )
        )
    if len(texts) == 1:
        return texts[0]
    # several broken at once on one case: one message, each said plainly
    body = "\n".join(t.split("\n\n", 1)[-1].strip() for t in texts)
    return f"Hello {name},\n\n{body}\n"


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def send_apologies(*, limit: int = 100) -> int:
    """Tell customers whose promises broke, one message per case; returns the messages written.

    Each promise is claimed (compare-and-set) before its message is written, so
    a customer hears about a broken promise at most once, whichever worker runs.
    A closed case is not written to.
    """
    if not getattr(settings, "CASELOOP_PROMISE_APOLOGIES", True):
        return 0
    pending = list(Promise.objects.filter(apology_pending=True).order_by("id").values_list("id", flat=True)[:limit])
    if not pending:
        return 0
    now = clock.now()
    claimed = []
    for promise_id in pending:
        if Promise.objects.filter(pk=promise_id, apology_pending=True).update(apology_pending=False, apologised_at=now):
            claimed.append(promise_id)
    by_case: dict[int, list[Promise]] = {}
    for promise in (
        Promise.objects.filter(pk__in=claimed)
        .select_related("contact", "owner_user", "owner_team", "owner_partner")
        .order_by("id")
    ):
        by_case.setdefault(promise.case_id, []).append(promise)
    sent = 0
    for case in Case.objects.filter(pk__in=list(by_case)).exclude(status=CaseStatus.CLOSED):
        channel = Channel(case.channel) if case.channel in _CUSTOMER_CHANNELS else Channel.EMAIL
        try:
            add_message(
                actor=None,
                case=case,
                direction=Direction.OUTBOUND,
                channel=channel,
                body=MessageInput(body_text=_apology_text(by_case[case.pk])),
            )
        except (CaseError, Invalid):
            logger.warning("Could not tell the customer of case %s about a broken promise", case.pk, exc_info=True)
            continue
        sent += 1
    return sent
